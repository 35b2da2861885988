//! `cargo bench -p vgae-core --bench dense_loss`: the fused Σ softplus(ZZᵀ) + gradient kernel against the
//! same math in Candle ops (row blocks), on Pubmed-sized and Cora-sized embeddings. Prints medians and the
//! ratio; no thresholds (speed targets are read from these numbers, not asserted).

use candle_core::Device;
use std::time::Instant;
use vgae_core::graph::all_pairs_softplus::{softplus_gram_device, softplus_gram_host};
use vgae_core::rng::RunRng;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let reps: usize = std::env::var("REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    for (name, n) in [("cora", 2708usize), ("pubmed", 19717)] {
        let d = 16;
        let z = RunRng::new(0).normal(&[n, d], &Device::Cpu).unwrap();
        let host: Vec<f32> = z.flatten_all().unwrap().to_vec1().unwrap();
        let fused = median(
            (0..reps)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(softplus_gram_host(&host, n, d));
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        );
        let ops = median(
            (0..reps.min(2))
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(softplus_gram_device(&z, 1024).unwrap());
                    t.elapsed().as_secs_f64()
                })
                .collect(),
        );
        let gflop = (n * n) as f64 * (4 * d) as f64 / 1e9;
        println!(
            "{name:>7} N={n:>6}: fused {:>8.4} s ({:.1} GFLOP/s of matmul work), candle ops {:>8.4} s, ratio {:.1}x",
            fused,
            gflop / fused,
            ops,
            ops / fused
        );
    }
}
