//! `cargo bench -p vgae-core --bench vae_step`: one MNIST-shaped training step of the default VAE (lecture
//! architecture, batch 100, Adagrad) split into the hand-derived forward/backward and the optimiser update,
//! next to the GEMM floor from `vae_gemm`. Medians over 300 steps; no thresholds.

use candle_core::{backprop::GradStore, Device};
use std::time::Instant;
use vgae_core::optim::{Adagrad, Optimizer};
use vgae_core::rng::RunRng;
use vgae_core::vae::{Arch, Likelihood, Vae, VaeConfig};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let dev = Device::Cpu;
    let cfg = VaeConfig::new(Arch::Lecture, 28, 28, 20, Likelihood::Bernoulli);
    let mut rng = RunRng::new(0);
    let m = Vae::new(&cfg, &mut rng, &dev).unwrap();
    let params = m.params();
    let mut opt = Adagrad::new(params.clone(), 0.01).unwrap();
    let x: Vec<f32> = rng
        .uniform(0.0, 1.0, &[100, 784], &dev)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let eps: Vec<f32> = rng
        .normal(&[100, 20], &dev)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let (mut fwd_bwd, mut update) = (Vec::new(), Vec::new());
    for _ in 0..300 {
        let t = Instant::now();
        let (_, grads) = m.fast_grads(&x, &eps, 100).unwrap().unwrap();
        fwd_bwd.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut store = GradStore::default();
        for ((_, v), g) in params.iter().zip(grads) {
            store.insert(v.as_tensor(), g);
        }
        opt.step(&store).unwrap();
        drop(store);
        update.push(t.elapsed().as_secs_f64());
    }
    let (a, b) = (median(fwd_bwd), median(update));
    println!(
        "threads {}: forward+backward {:.2} ms, optimiser {:.2} ms, step {:.2} ms; × 600 = {:.2} s per epoch",
        rayon::current_num_threads(),
        a * 1e3,
        b * 1e3,
        (a + b) * 1e3,
        (a + b) * 600.0
    );
}
