//! Uniform negative sampling for the sampled reconstruction loss.

use crate::rng::RunRng;
use crate::{Error, Result};
use rand::Rng;
use vgae_data::pairset::{arc_key, arc_set, pair_key, pair_set, PairSet};

/// Draws node pairs uniformly, rejecting self-loops and the pairs it was told to exclude (the training
/// edges), as PyG's `negative_sampling` does for the training loss.
pub struct NegativeSampler {
    num_nodes: u32,
    exclude: PairSet,
    directed: bool,
}

impl NegativeSampler {
    /// A sampler over nodes `0..num_nodes` that never returns a pair of `exclude` (either direction).
    /// Fails when no pair is left to draw, which would make sampling loop forever.
    ///
    /// ```
    /// use vgae_core::graph::NegativeSampler;
    /// use vgae_core::rng::RunRng;
    /// let s = NegativeSampler::new(4, &[[0, 1], [1, 2]])?;
    /// let neg = s.sample(10, &mut RunRng::new(0));
    /// assert_eq!(neg.len(), 10);
    /// assert!(neg.iter().all(|&[u, v]| u != v && [u.min(v), u.max(v)] != [0, 1] && [u.min(v), u.max(v)] != [1, 2]));
    /// # Ok::<(), vgae_core::Error>(())
    /// ```
    pub fn new(num_nodes: usize, exclude: &[[u32; 2]]) -> Result<Self> {
        Self::build(num_nodes, exclude, false)
    }

    /// A sampler of ordered pairs `i → j` that are not among the arcs `exclude` (a reversed arc may be
    /// drawn). Fails when no ordered pair is left to draw.
    pub fn directed(num_nodes: usize, exclude: &[[u32; 2]]) -> Result<Self> {
        Self::build(num_nodes, exclude, true)
    }

    fn build(num_nodes: usize, exclude: &[[u32; 2]], directed: bool) -> Result<Self> {
        let (exclude, ordered, what) = match directed {
            true => (arc_set(exclude), 1, "arcs"),
            false => (pair_set(exclude), 2, "pairs"),
        };
        let pairs = num_nodes as u128 * num_nodes.saturating_sub(1) as u128 / ordered;
        if num_nodes > u32::MAX as usize || pairs <= exclude.len() as u128 {
            return Err(Error::msg(format!(
                "no negative pair to sample: {num_nodes} nodes and {} excluded {what}",
                exclude.len()
            )));
        }
        Ok(NegativeSampler {
            num_nodes: num_nodes as u32,
            exclude,
            directed,
        })
    }

    /// `k` ordered pairs `[i, j]`, `i != j`, none excluded; repeats are possible. Two draws per try, from `rng`.
    pub fn sample(&self, k: usize, rng: &mut RunRng) -> Vec<[u32; 2]> {
        let n = self.num_nodes;
        let mut out = Vec::with_capacity(k);
        while out.len() < k {
            let (i, j) = (rng.0.random_range(0..n), rng.0.random_range(0..n));
            let key = match self.directed {
                true => arc_key(i, j),
                false => pair_key(i, j),
            };
            if i != j && !self.exclude.contains(&key) {
                out.push([i, j]);
            }
        }
        out
    }
}
