//! The CPU's hand-derived discriminator step (`graph::discriminator_grad`) against autograd.

use candle_core::Device;
use vgae_core::graph::{AdversarialRegulariser, DiscriminatorConfig};
use vgae_core::rng::RunRng;

/// The CPU's hand-derived discriminator pass gives autograd's loss and gradients, over more rows than one
/// chunk and a ragged last chunk, with the same bits on 1 and 2 threads; the regulariser's surrogate carries
/// autograd's value and gradient in z.
#[test]
fn hand_derived_discriminator_matches_autograd() {
    use vgae_core::graph::discriminator_grad::{mlp_bce, Wanted};
    std::env::set_var("CANDLE_NUM_THREADS", "1");
    let (n, width) = (600, 4);
    let cfg = DiscriminatorConfig {
        hidden: vec![7, 5],
        ..DiscriminatorConfig::pyg(width)
    };
    let reg = AdversarialRegulariser::new(&cfg, RunRng::new(5), &Device::Cpu).unwrap();
    let mut rng = RunRng::new(6);
    let z = rng.normal(&[n, width], &Device::Cpu).unwrap();
    let prior = rng.normal(&[n, width], &Device::Cpu).unwrap();
    let params = reg.params();

    // Autograd: the discriminator's loss and its gradient in every parameter.
    let loss = reg.discriminator_loss(&z, &prior).unwrap();
    let grads = loss.backward().unwrap();
    let x: Vec<f32> = [&prior, &z]
        .iter()
        .flat_map(|t| t.flatten_all().unwrap().to_vec1::<f32>().unwrap())
        .collect();
    let label = |r: usize| (if r < n { 1.0 } else { 0.0 }, 1.0 / n as f32);
    let all = Wanted {
        weights: true,
        input: false,
    };
    let layers = reg.discriminator().host_layers().unwrap();
    let host = mlp_bce(&layers, &x, label, all);
    let close = |a: &[f32], b: &[f32], what: &str| {
        assert_eq!(a.len(), b.len(), "{what}");
        let scale = b.iter().fold(1e-3f32, |m, v| m.max(v.abs()));
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= 2e-5 * scale, "{what}[{i}]: {x} vs {y}");
        }
    };
    let want = loss.to_scalar::<f32>().unwrap() as f64;
    assert!((host.loss - want).abs() < 1e-5, "{} vs {want}", host.loss);
    for (k, (dw, db)) in host.layers.iter().enumerate() {
        for (suffix, got) in [("weight", dw), ("bias", db)] {
            let name = format!("discriminator.lin{}.{suffix}", k + 1);
            let var = &params.iter().find(|(p, _)| *p == name).unwrap().1;
            let g = grads.get(var.as_tensor()).unwrap();
            close(got, &g.flatten_all().unwrap().to_vec1().unwrap(), &name);
        }
    }
    // The same bits on one thread.
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| mlp_bce(&layers, &x, label, all));
    assert_eq!(one.loss.to_bits(), host.loss.to_bits());
    assert_eq!(one.layers, host.layers);

    // The regulariser −log σ(D(z)) and its gradient in z: autograd against the surrogate (no updates).
    let zero = AdversarialRegulariser::new(
        &DiscriminatorConfig { steps: 0, ..cfg },
        RunRng::new(5),
        &Device::Cpu,
    )
    .unwrap();
    let zv = candle_core::Var::from_tensor(&z).unwrap();
    let auto = zero.reg_loss(zv.as_tensor()).unwrap();
    let auto_grad = auto.backward().unwrap();
    let surrogate = zero
        .train_and_regularise(zv.as_tensor(), &mut RunRng::new(7))
        .unwrap();
    let sur_grad = surrogate.backward().unwrap();
    let (a, s) = (
        auto.to_scalar::<f32>().unwrap(),
        surrogate.to_scalar::<f32>().unwrap(),
    );
    assert!((a - s).abs() < 1e-5, "{a} vs {s}");
    let flat = |g: &candle_core::backprop::GradStore| -> Vec<f32> {
        g.get(zv.as_tensor())
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1()
            .unwrap()
    };
    close(&flat(&sur_grad), &flat(&auto_grad), "dreg/dz");
}
