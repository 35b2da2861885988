//! The run's single host RNG. Every random draw (init, noise, splits, negatives, shuffling) comes from it, so a
//! CPU run is repeatable bit for bit, and its state can be saved in a checkpoint.

use crate::{Error, Result};
use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

/// A seeded ChaCha8 generator; the inner generator is public for `rand`'s adaptors (`shuffle`, …).
#[derive(Debug, Clone, PartialEq)]
pub struct RunRng(pub ChaCha8Rng);

impl RunRng {
    /// The generator of `seed` (stream 0, the same as [`RunRng::stream`]`(seed, 0)`).
    pub fn new(seed: u64) -> Self {
        RunRng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// An independent stream of the same seed: the split uses stream 0, training stream 1, so a run with a
    /// split file made from the same seed draws exactly what a run that made the split itself draws.
    ///
    /// ```
    /// use rand::RngCore;
    /// use vgae_core::rng::RunRng;
    ///
    /// let draws = |mut r: RunRng| -> Vec<u64> { (0..4).map(|_| r.next_u64()).collect() };
    /// // Same seed and stream: the same draws.
    /// assert_eq!(draws(RunRng::stream(42, 1)), draws(RunRng::stream(42, 1)));
    /// // Another stream of the same seed: different draws.
    /// assert_ne!(draws(RunRng::stream(42, 1)), draws(RunRng::stream(42, 0)));
    /// // Stream 0 is what `new` gives.
    /// assert_eq!(draws(RunRng::stream(42, 0)), draws(RunRng::new(42)));
    /// ```
    pub fn stream(seed: u64, stream: u64) -> Self {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream);
        RunRng(r)
    }

    /// The full generator state as JSON, for checkpoint metadata.
    pub fn state(&self) -> String {
        serde_json::to_string(&self.0).expect("ChaCha state serialises")
    }

    /// The generator saved by [`RunRng::state`], continuing exactly where it stopped.
    pub fn from_state(s: &str) -> Result<Self> {
        serde_json::from_str(s)
            .map(RunRng)
            .map_err(|e| Error::msg(format!("checkpoint RNG state is unreadable: {e}")))
    }

    /// Standard-normal host draws, uploaded as an f32 tensor.
    pub fn normal(&mut self, shape: &[usize], device: &Device) -> Result<Tensor> {
        let mut v = vec![0f32; shape.iter().product()];
        self.fill_normal(&mut v);
        Ok(Tensor::from_vec(v, shape, device)?)
    }

    /// Standard-normal draws into `out`, in order: the same draws as [`RunRng::normal`] of that many elements.
    pub fn fill_normal(&mut self, out: &mut [f32]) {
        out.iter_mut()
            .for_each(|v| *v = StandardNormal.sample(&mut self.0));
    }

    /// Uniform draws in `[lo, hi)`, uploaded as an f32 tensor.
    pub fn uniform(
        &mut self,
        lo: f32,
        hi: f32,
        shape: &[usize],
        device: &Device,
    ) -> Result<Tensor> {
        let n = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| self.0.random_range(lo..hi)).collect();
        Ok(Tensor::from_vec(v, shape, device)?)
    }

    /// Glorot/Xavier-uniform init for a `[fan_in, fan_out]` weight, as in the reference GCN.
    pub fn glorot(&mut self, fan_in: usize, fan_out: usize, device: &Device) -> Result<Tensor> {
        let v = self.glorot_host(fan_in, fan_out);
        Ok(Tensor::from_vec(v, &[fan_in, fan_out], device)?)
    }

    /// The draws of [`RunRng::glorot`] as a host buffer, `[fan_in, fan_out]` row-major (a table too large
    /// to copy through a tensor).
    pub fn glorot_host(&mut self, fan_in: usize, fan_out: usize) -> Vec<f32> {
        let r = (6.0 / (fan_in + fan_out) as f32).sqrt();
        (0..fan_in * fan_out)
            .map(|_| self.0.random_range(-r..r))
            .collect()
    }

    /// A fresh seed for a sub-generator (e.g. one per dataset in a sweep).
    pub fn next_seed(&mut self) -> u64 {
        self.0.random()
    }
}

impl rand::RngCore for RunRng {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.0.fill_bytes(dst)
    }
}
