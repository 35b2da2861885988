//! The fused dense-loss kernel on every instruction set this CPU runs ([`SimdPath`]), one thread, timed in
//! the same run so that each path reads as a ratio against the scalar build.

use crate::graph::all_pairs_softplus::softplus_gram_host_on;
use crate::rng::RunRng;
use crate::simd::SimdPath;
use crate::Result;
use candle_core::Device;
use serde::Serialize;
use std::time::Instant;

/// One path's time for Σ softplus(ZZᵀ) and its gradient on an `[n, d]` embedding.
#[derive(Debug, Clone, Serialize)]
pub struct KernelTiming {
    /// The instruction set.
    pub path: SimdPath,
    /// The fastest of the repetitions, in seconds (the least disturbed by other work on the machine).
    pub min_seconds: f64,
    /// The scalar path's time over this one.
    pub speedup_over_scalar: f64,
}

/// Times the dense-loss kernel on each available path: `reps` calls each, interleaved path by path, on
/// one thread; z is N(0, 1) from `seed`.
pub fn dense_kernel_paths(n: usize, d: usize, reps: usize, seed: u64) -> Result<Vec<KernelTiming>> {
    let z: Vec<f32> = RunRng::new(seed)
        .normal(&[n, d], &Device::Cpu)?
        .flatten_all()?
        .to_vec1()?;
    let paths = SimdPath::available_paths();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| crate::Error::msg(e.to_string()))?;
    let mut best = vec![f64::INFINITY; paths.len()];
    pool.install(|| {
        for _ in 0..reps.max(1) {
            for (p, b) in paths.iter().zip(best.iter_mut()) {
                let t = Instant::now();
                std::hint::black_box(softplus_gram_host_on(*p, &z, n, d));
                *b = b.min(t.elapsed().as_secs_f64());
            }
        }
    });
    let scalar = best[paths.len() - 1];
    Ok(paths
        .into_iter()
        .zip(best)
        .map(|(path, min_seconds)| KernelTiming {
            path,
            min_seconds,
            speedup_over_scalar: scalar / min_seconds,
        })
        .collect())
}
