//! `cargo bench -p vgae-core --bench vae_gemm`: Candle's CPU matmul on the MNIST VAE's shapes (batch 100; the
//! lecture's 784-500-250-20 ReLU MLP, the default, and the paper's 784-500-20), the forward and backward
//! products a training step needs (no input gradient for the images), at RAYON_NUM_THREADS threads: the GEMM
//! floor of an epoch. Prints GFLOP/s per product and per step; no thresholds.

use candle_core::{Device, Tensor};
use std::time::Instant;

/// One timed product.
type Product<'a> = Box<dyn Fn() -> Tensor + 'a>;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let dev = Device::Cpu;
    let b = 100;
    // (fan_in, fan_out) of every layer; the encoder's μ and log σ² heads as one 2z-wide product.
    let archs = [
        (
            "lecture",
            vec![
                (784usize, 500usize),
                (500, 250),
                (250, 40),
                (20, 250),
                (250, 500),
                (500, 784),
            ],
        ),
        ("paper", vec![(784, 500), (500, 40), (20, 500), (500, 784)]),
    ];
    for (arch, layers) in archs {
        let mut total = 0.0;
        let mut flop = 0.0;
        for (li, &(k, n)) in layers.iter().enumerate() {
            let x = Tensor::randn(0f32, 1.0, (b, k), &dev).unwrap();
            let w = Tensor::randn(0f32, 1.0, (k, n), &dev).unwrap();
            let g = Tensor::randn(0f32, 1.0, (b, n), &dev).unwrap();
            let mut cases: Vec<(&str, Product)> = vec![
                ("x·W", Box::new(|| x.matmul(&w).unwrap())),
                ("xᵀ·g", Box::new(|| x.t().unwrap().matmul(&g).unwrap())),
            ];
            if li > 0 {
                cases.push(("g·Wᵀ", Box::new(|| g.matmul(&w.t().unwrap()).unwrap())));
            }
            for (name, f) in cases {
                let t = median(
                    (0..200)
                        .map(|_| {
                            let t = Instant::now();
                            std::hint::black_box(f());
                            t.elapsed().as_secs_f64()
                        })
                        .collect(),
                );
                let fl = 2.0 * (b * k * n) as f64;
                total += t;
                flop += fl;
                println!(
                    "{arch:>8} {k:>4}x{n:<4} {name:>5}: {:>8.1} µs {:>6.1} GFLOP/s",
                    t * 1e6,
                    fl / t / 1e9
                );
            }
        }
        println!(
            "{arch:>8}: all products {:.2} ms per step, {:.1} GFLOP/s; × 600 steps = {:.2} s per epoch",
            total * 1e3,
            flop / total / 1e9,
            total * 600.0
        );
    }
}
