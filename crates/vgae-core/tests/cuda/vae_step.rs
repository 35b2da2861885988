//! The VAE step without autograd (`kernels/vae_step.cu`) and the in-place optimiser updates
//! (`kernels/optim_update.cu`) on CUDA against the CPU.

use super::{gpu, rel_diff};
use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor, Var};
use vgae_core::optim::{Adagrad, Adam, Optimizer};
use vgae_core::rng::RunRng;
use vgae_core::vae::config::Activation;
use vgae_core::vae::{Arch, Likelihood, Vae, VaeConfig};

fn bits(t: &Tensor) -> Vec<u32> {
    let v: Vec<f32> = t.flatten_all().unwrap().to_vec1().unwrap();
    v.iter().map(|x| x.to_bits()).collect()
}

/// The same model (same seed: the weights are drawn on the host) on the CPU and the GPU, with the Paper
/// architecture's N(0, 0.01²) weights scaled up so that tanh′ and the sigmoid are exercised.
fn twins(cfg: &VaeConfig, seed: u64, gpu: &Device) -> (Vae, Vae) {
    let make = |dev: &Device| {
        let m = Vae::new(cfg, &mut RunRng::new(seed), dev).unwrap();
        if cfg.activation == Activation::Tanh {
            for (_, v) in m.params() {
                v.set(&(v.as_tensor() * 40.0).unwrap()).unwrap();
            }
        }
        m
    };
    (make(&Device::Cpu), make(gpu))
}

#[test]
fn vae_step_on_cuda_matches_cpu_and_repeats_bit_for_bit() {
    let gpu = gpu();
    // MNIST's lecture shape (Bernoulli, ReLU, two hidden layers) and Frey's paper shape (Gaussian, tanh),
    // batches of 100, and a ragged last batch.
    for (arch, (h, w), lik, rows) in [
        (Arch::Lecture, (28, 28), Likelihood::Bernoulli, 100),
        (Arch::Paper, (28, 20), Likelihood::Gaussian, 100),
        (Arch::Paper, (28, 28), Likelihood::Bernoulli, 37),
    ] {
        let cfg = VaeConfig::new(arch, h, w, 20, lik);
        let (cpu_m, gpu_m) = twins(&cfg, 3, &gpu);
        let mut rng = RunRng::new(4);
        let x = rng.uniform(0.0, 1.0, &[rows, h * w], &Device::Cpu).unwrap();
        let eps = rng.normal(&[rows, 20], &Device::Cpu).unwrap();
        let (lc, gc) = cpu_m.device_grads(&x, &eps).unwrap();
        let (xg, eg) = (x.to_device(&gpu).unwrap(), eps.to_device(&gpu).unwrap());
        let (lg, gg) = gpu_m.device_grads(&xg, &eg).unwrap();
        let what = format!("{arch:?} {lik:?} rows {rows}");
        let (lc, lgv) = (
            lc.to_scalar::<f32>().unwrap(),
            lg.to_scalar::<f32>().unwrap(),
        );
        assert!(((lgv - lc) / lc).abs() < 1e-5, "{what}: loss {lgv} vs {lc}");
        for (((name, _), c), g) in cpu_m.params().iter().zip(&gc).zip(&gg) {
            let g = g.to_device(&Device::Cpu).unwrap();
            let d = rel_diff(&g, c);
            assert!(d < 1e-4, "{what} {name}: relative difference {d}");
        }
        let (lg2, gg2) = gpu_m.device_grads(&xg, &eg).unwrap();
        assert_eq!(bits(&lg), bits(&lg2), "{what}: the loss repeats");
        for (a, b) in gg.iter().zip(&gg2) {
            assert_eq!(bits(a), bits(b), "{what}: the gradients repeat");
        }
    }
}

/// Both optimisers over four parameters (one launch for all of them on CUDA, `optim/cuda_update_all.rs`):
/// several blocks and a ragged last one, tensors that share a block, and one without a gradient (left as
/// it is); every tensor equals the CPU's bit for bit after three steps.
#[test]
fn optimiser_updates_on_cuda_equal_the_cpu_bit_for_bit() {
    let gpu = gpu();
    let mut rng = RunRng::new(8);
    let sizes = [70_001, 5, 300, 3000];
    let init: Vec<Tensor> = sizes
        .iter()
        .map(|&n| rng.normal(&[n], &Device::Cpu).unwrap())
        .collect();
    // Parameter 2 gets no gradient.
    let grads: Vec<Vec<Option<Tensor>>> = (0..3)
        .map(|_| {
            sizes
                .iter()
                .enumerate()
                .map(|(k, &n)| (k != 2).then(|| rng.normal(&[n], &Device::Cpu).unwrap()))
                .collect()
        })
        .collect();
    type Make = fn(Vec<(String, Var)>) -> Box<dyn Optimizer>;
    let makers: [(&str, Make); 2] = [
        ("adam", |p| Box::new(Adam::new(p, 0.01).unwrap())),
        ("adagrad", |p| Box::new(Adagrad::new(p, 0.01).unwrap())),
    ];
    for (name, make) in makers {
        let run = |dev: &Device| {
            let vars: Vec<Var> = init
                .iter()
                .map(|t| Var::from_tensor(&t.to_device(dev).unwrap()).unwrap())
                .collect();
            let named = vars
                .iter()
                .enumerate()
                .map(|(k, v)| (format!("p{k}"), v.clone()))
                .collect();
            let mut opt = make(named);
            for step in &grads {
                let mut store = GradStore::default();
                for (v, g) in vars.iter().zip(step) {
                    if let Some(g) = g {
                        store.insert(v.as_tensor(), g.to_device(dev).unwrap());
                    }
                }
                opt.step(&store).unwrap();
            }
            let mut out: Vec<Vec<u32>> = vars
                .iter()
                .map(|v| bits(&v.as_tensor().to_device(&Device::Cpu).unwrap()))
                .collect();
            out.extend(
                opt.state()
                    .iter()
                    .map(|(_, s)| bits(&s.to_device(&Device::Cpu).unwrap())),
            );
            out
        };
        let (c, g) = (run(&Device::Cpu), run(&gpu));
        assert_eq!(c.len(), g.len());
        for (k, (a, b)) in c.iter().zip(&g).enumerate() {
            let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
            assert_eq!(
                same,
                a.len(),
                "{name}: tensor {k} (0–3 the parameters, then states) differs"
            );
        }
        assert_eq!(
            c[2],
            bits(&init[2]),
            "{name}: the parameter without a gradient moved"
        );
    }
}

#[test]
fn vae_training_steps_on_cuda_follow_the_cpu() {
    // 30 Adagrad steps of the device step on each side from the same weights and batches: the weights stay
    // within float noise of each other.
    let gpu = gpu();
    let cfg = VaeConfig::new(Arch::Lecture, 28, 28, 10, Likelihood::Bernoulli);
    let (cpu_m, gpu_m) = twins(&cfg, 5, &gpu);
    let mut opts = [
        Adagrad::new(cpu_m.params(), 0.01).unwrap(),
        Adagrad::new(gpu_m.params(), 0.01).unwrap(),
    ];
    let mut rng = RunRng::new(6);
    for _ in 0..30 {
        let x = rng.uniform(0.0, 1.0, &[50, 784], &Device::Cpu).unwrap();
        let eps = rng.normal(&[50, 10], &Device::Cpu).unwrap();
        for (m, opt) in [&cpu_m, &gpu_m].into_iter().zip(opts.iter_mut()) {
            let dev = m.params()[0].1.device().clone();
            let (x, eps) = (x.to_device(&dev).unwrap(), eps.to_device(&dev).unwrap());
            let (_, grads) = m.device_grads(&x, &eps).unwrap();
            let mut store = GradStore::default();
            for ((_, v), g) in m.params().iter().zip(grads) {
                store.insert(v.as_tensor(), g);
            }
            opt.step(&store).unwrap();
        }
    }
    for ((name, c), (_, g)) in cpu_m.params().iter().zip(gpu_m.params()) {
        let g = g.as_tensor().to_device(&Device::Cpu).unwrap();
        let d = rel_diff(&g, c.as_tensor());
        assert!(d < 1e-3, "{name}: relative difference {d} after 30 steps");
    }
}
