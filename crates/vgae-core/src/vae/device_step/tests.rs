use crate::rng::RunRng;
use crate::vae::config::{Activation, Arch, Likelihood, VaeConfig};
use crate::vae::Vae;
use candle_core::{Device, Tensor};

/// `a` within `tol · (max |b| + 1e-6)` of `b`, element by element; returns that scale.
fn assert_close(a: &Tensor, b: &Tensor, tol: f32, what: &str) -> f32 {
    let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
    let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let scale = b.iter().fold(0f32, |m, x| m.max(x.abs())) + 1e-6;
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert!(
            (x - y).abs() <= tol * scale,
            "{what}[{i}]: {x} vs {y} (scale {scale})"
        );
    }
    scale
}

/// The step's loss and every gradient against autograd through `neg_elbo` (the definition), for both
/// decoders, both activations, one and two hidden layers, and no hidden layer (the heads read x, both
/// output layers read z).
#[test]
fn device_step_matches_autograd_for_both_decoders() {
    let dev = Device::Cpu;
    let cases = [
        (Arch::Lecture, Likelihood::Bernoulli, None),
        (Arch::Paper, Likelihood::Bernoulli, None),
        (Arch::Lecture, Likelihood::Gaussian, None),
        (Arch::Paper, Likelihood::Gaussian, None),
        (Arch::Paper, Likelihood::Gaussian, Some(Vec::new())),
        (Arch::Paper, Likelihood::Bernoulli, Some(vec![9, 4, 7])),
    ];
    for (seed, (arch, lik, hidden)) in cases.into_iter().enumerate() {
        let mut cfg = VaeConfig::new(arch, 5, 6, 3, lik);
        if let Some(h) = hidden {
            cfg.hidden = h;
            cfg.activation = Activation::Relu;
        } else {
            cfg.hidden = cfg.hidden.iter().map(|&h| h / 50).collect(); // 10 (and 5) units
        }
        let what = format!("{arch:?} {lik:?} {:?} {:?}", cfg.hidden, cfg.activation);
        let m = Vae::new(&cfg, &mut RunRng::new(seed as u64), &dev).unwrap();
        if arch == Arch::Paper {
            // N(0, 0.01²) weights leave every unit near 0: scale them up so the slopes are exercised.
            for (_, v) in m.params() {
                v.set(&(v.as_tensor() * 40.0).unwrap()).unwrap();
            }
        }
        let mut rng = RunRng::new(seed as u64 + 10);
        let x = rng.uniform(0.0, 1.0, &[7, 30], &dev).unwrap();
        let eps = rng.normal(&[7, 3], &dev).unwrap();
        let (ne, _, _) = m.neg_elbo(&x, &eps).unwrap();
        let want = ne.sum_all().unwrap();
        let grads = want.backward().unwrap();
        let (loss, got) = m.device_grads(&x, &eps).unwrap();
        assert_close(&loss, &want, 1e-5, &format!("{what}: loss"));
        let params = m.params();
        assert_eq!(got.len(), params.len(), "{what}");
        for ((name, v), g) in params.iter().zip(&got) {
            let w = grads.get(v.as_tensor()).unwrap();
            assert_eq!(g.shape(), w.shape(), "{what} {name}");
            let scale = assert_close(g, w, 2e-5, &format!("{what} {name}"));
            assert!(scale > 1e-4, "{what} {name}: gradient too small to compare");
        }
    }
}

/// On the CPU, the Bernoulli step equals the lockstep `fast_grads` (both hand-derived; the CPU trains with
/// the latter) on the MNIST lecture shape.
#[test]
fn device_step_matches_the_cpu_fast_step_on_the_mnist_shape() {
    let dev = Device::Cpu;
    let cfg = VaeConfig::new(Arch::Lecture, 28, 28, 20, Likelihood::Bernoulli);
    let m = Vae::new(&cfg, &mut RunRng::new(4), &dev).unwrap();
    let mut rng = RunRng::new(5);
    let x = rng.uniform(0.0, 1.0, &[100, 784], &dev).unwrap();
    let eps = rng.normal(&[100, 20], &dev).unwrap();
    let (xv, ev): (Vec<f32>, Vec<f32>) = (
        x.flatten_all().unwrap().to_vec1().unwrap(),
        eps.flatten_all().unwrap().to_vec1().unwrap(),
    );
    let (want_loss, want) = m.fast_grads(&xv, &ev, 100).unwrap().unwrap();
    let (loss, got) = m.device_grads(&x, &eps).unwrap();
    assert_close(&loss, &Tensor::new(want_loss, &dev).unwrap(), 1e-5, "loss");
    for (((name, _), g), w) in m.params().iter().zip(&got).zip(&want) {
        assert_close(g, w, 2e-5, name);
    }
}

#[test]
fn device_step_refuses_wrong_shapes_naming_them() {
    let dev = Device::Cpu;
    let cfg = VaeConfig::new(Arch::Paper, 5, 6, 3, Likelihood::Bernoulli);
    let m = Vae::new(&cfg, &mut RunRng::new(1), &dev).unwrap();
    let x = Tensor::zeros((4, 30), candle_core::DType::F32, &dev).unwrap();
    let bad = Tensor::zeros((4, 2), candle_core::DType::F32, &dev).unwrap();
    let e = m.device_grads(&x, &bad).unwrap_err().to_string();
    assert!(e.contains("noise") && e.contains("z 3"), "{e}");
    let x16 = x.to_dtype(candle_core::DType::F16).unwrap();
    let eps = Tensor::zeros((4, 3), candle_core::DType::F32, &dev).unwrap();
    let e = m.device_grads(&x16, &eps).unwrap_err().to_string();
    assert!(e.contains("f32"), "{e}");
}
