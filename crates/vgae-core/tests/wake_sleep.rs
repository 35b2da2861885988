//! Wake-sleep (Hinton et al. 1995) on the VAE's networks: each phase's loss and gradient against PyTorch on a
//! small case, the phases' separation (wake trains only the decoder, sleep only the encoder), and a
//! wake-sleep run that repeats bit for bit and resumes exactly (MNIST from `VGAE_DATA_DIR`).

use candle_core::{Device, Tensor};
use std::collections::HashMap;
use vgae_core::rng::RunRng;
use vgae_core::vae::config::{Activation, Init};
use vgae_core::vae::train::{NoProgress, Trainer, VaeData};
use vgae_core::vae::wake_sleep::WakeSleepNoise;
use vgae_core::vae::{Algorithm, Likelihood, TrainConfig, Vae, VaeConfig};
use vgae_data::source::DataSource;

#[path = "common/wake_sleep_reference.rs"]
mod reference;
use reference::{BERNOULLI_GRADS, BERNOULLI_LOSSES, GAUSSIAN_GRADS, GAUSSIAN_LOSSES};

fn tiny(likelihood: Likelihood) -> Vae {
    let cfg = VaeConfig {
        input_dim: 4,
        height: 2,
        width: 2,
        hidden: vec![3],
        z: 2,
        activation: Activation::Tanh,
        likelihood,
        init: Init::Normal(0.01),
    };
    let m = Vae::new(&cfg, &mut RunRng::new(0), &Device::Cpu).unwrap();
    // The script's values: 0.5 sin(0.7 (j + 1) + k) for element j of parameter k (PyTorch layout).
    let tensors: HashMap<String, Tensor> = Vae::param_shapes(&cfg)
        .into_iter()
        .enumerate()
        .map(|(k, (name, shape))| {
            let n: usize = shape.iter().product();
            let v: Vec<f32> = (0..n)
                .map(|j| 0.5 * (0.7 * (j + 1) as f32 + k as f32).sin())
                .collect();
            (name, Tensor::from_vec(v, shape, &Device::Cpu).unwrap())
        })
        .collect();
    m.load(&tensors).unwrap();
    m
}

fn noise(likelihood: Likelihood) -> (Tensor, WakeSleepNoise) {
    let dev = Device::Cpu;
    let x: Vec<f32> = (0..3)
        .flat_map(|r| (0..4).map(move |c| ((3 * r + c) % 5) as f32 / 4.0))
        .collect();
    let u: Vec<f32> = match likelihood {
        Likelihood::Bernoulli => (0..3)
            .flat_map(|r| (0..4).map(move |c| ((7 * r + 3 * c) % 10) as f32 / 10.0 + 0.05))
            .collect(),
        Likelihood::Gaussian => (0..3)
            .flat_map(|r| (0..4).map(move |c| ((r + 2 * c) as f32).sin()))
            .collect(),
    };
    let t = |v: Vec<f32>, c: usize| Tensor::from_vec(v, (3, c), &dev).unwrap();
    let n = WakeSleepNoise {
        eps: t(vec![0.3, -1.1, 0.8, 0.2, -0.5, 1.4], 2),
        z_dream: t(vec![1.2, -0.4, -0.9, 0.6, 0.1, -1.7], 2),
        u_dream: t(u, 4),
    };
    (t(x, 4), n)
}

fn check(likelihood: Likelihood, losses: [f64; 3], grads: &[(&str, &[f64])]) {
    let m = tiny(likelihood);
    let (x, n) = noise(likelihood);
    let l = m.wake_sleep_losses(&x, &n).unwrap();
    let got = [&l.wake, &l.sleep, &l.neg_elbo].map(|t| t.to_scalar::<f32>().unwrap() as f64);
    for (g, w) in got.iter().zip(losses) {
        assert!(
            (g - w).abs() < 1e-4 * w.abs().max(1.0),
            "{likelihood:?} losses {got:?} vs {losses:?}"
        );
    }
    let store = (&l.wake + &l.sleep).unwrap().backward().unwrap();
    let params: HashMap<String, candle_core::Var> = m.params().into_iter().collect();
    for (name, want) in grads {
        let v = &params[*name];
        let g = store.get(v.as_tensor()).unwrap();
        let g = vgae_core::vae::model::to_torch_layout(g).unwrap();
        let g: Vec<f32> = g.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(g.len(), want.len(), "{name}");
        for (a, b) in g.iter().zip(*want) {
            assert!(
                (*a as f64 - b).abs() < 2e-4 * b.abs().max(1.0),
                "{likelihood:?} {name}: {g:?} vs {want:?}"
            );
        }
    }
}

#[test]
fn wake_and_sleep_losses_and_gradients_match_pytorch() {
    check(Likelihood::Bernoulli, BERNOULLI_LOSSES, BERNOULLI_GRADS);
    check(Likelihood::Gaussian, GAUSSIAN_LOSSES, GAUSSIAN_GRADS);
}

#[test]
fn wake_trains_only_the_decoder_and_sleep_only_the_encoder() {
    let m = tiny(Likelihood::Bernoulli);
    let (x, n) = noise(Likelihood::Bernoulli);
    let l = m.wake_sleep_losses(&x, &n).unwrap();
    let (wake, sleep) = (l.wake.backward().unwrap(), l.sleep.backward().unwrap());
    for (name, v) in m.params() {
        let dec = name.starts_with("decoder.");
        assert_eq!(
            wake.get(v.as_tensor()).is_some(),
            dec,
            "wake gradient of {name}"
        );
        assert_eq!(
            sleep.get(v.as_tensor()).is_some(),
            !dec,
            "sleep gradient of {name}"
        );
    }
}

fn mnist(limit: usize) -> (VaeData, VaeConfig, TrainConfig) {
    let d = std::env::var_os("VGAE_DATA_DIR").unwrap_or_else(|| {
        panic!(
            "VGAE_DATA_DIR is not set: this test needs the shared data directory (../shared/data)"
        )
    });
    let ds = vgae_data::images::load(&DataSource::new(Some(d.into())), "mnist").unwrap();
    let cfg = TrainConfig {
        epochs: 2,
        train_limit: limit,
        iwae_k: 0,
        seed: 5,
        algorithm: Algorithm::WakeSleep,
        weight_decay: 100.0 / limit as f64,
        ..TrainConfig::default()
    };
    let v = VaeConfig::new(
        vgae_core::vae::Arch::Paper,
        28,
        28,
        3,
        Likelihood::Bernoulli,
    );
    (VaeData::new(&ds, &cfg, &Device::Cpu).unwrap(), v, cfg)
}

fn params(t: &Trainer) -> Vec<Vec<f32>> {
    t.model
        .params()
        .iter()
        .map(|(_, v)| v.as_tensor().flatten_all().unwrap().to_vec1().unwrap())
        .collect()
}

#[test]
fn a_wake_sleep_run_repeats_bit_for_bit_and_resumes_exactly() {
    std::env::set_var("CANDLE_NUM_THREADS", "1");
    let (data, v, cfg) = mnist(600);
    let run = || {
        let mut t = Trainer::new(&v, &cfg, &Device::Cpu).unwrap();
        let losses = [(); 2].map(|_| t.train_epoch(&data, &mut NoProgress).unwrap());
        (t, losses)
    };
    let (a, la) = run();
    let (b, lb) = run();
    assert_eq!(la, lb);
    assert_eq!(params(&a), params(&b));
    // The bound improves from epoch 1 to 2 (the estimator the curves use).
    assert!(la[1] < la[0], "{la:?}");
    // One epoch, a checkpoint, the second epoch from it: the uninterrupted run's parameters exactly.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws.safetensors");
    let mut t = Trainer::new(&v, &cfg, &Device::Cpu).unwrap();
    t.train_epoch(&data, &mut NoProgress).unwrap();
    t.save(&path).unwrap();
    let mut r = Trainer::load(&path, &Device::Cpu).unwrap();
    assert_eq!(r.cfg.algorithm, Algorithm::WakeSleep);
    let l2 = r.train_epoch(&data, &mut NoProgress).unwrap();
    assert_eq!(l2, la[1]);
    assert_eq!(params(&r), params(&a));
}
