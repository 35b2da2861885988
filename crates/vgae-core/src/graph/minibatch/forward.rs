//! The encoder on a batch's receptive field: blocks sampled per layer, or one sampled layer and a history
//! of hidden rows for the last.

use super::trainer::MiniBatchTrainer;
use crate::graph::sparse::SparseMatrix;
use crate::rng::RunRng;
use crate::Result;
use candle_core::{Device, Tensor, Var};
use rand::RngCore;

impl MiniBatchTrainer {
    /// The encoder on a batch's receptive field: the rows of W₀ it read (global ids and the leaf tensor
    /// holding them, `[sources, hidden[0]]`) and the embeddings of `targets` (distinct), `[targets, latent]`.
    pub(super) fn forward(
        &mut self,
        targets: &[u32],
        rng: &mut RunRng,
    ) -> Result<(Vec<u32>, Var, Tensor)> {
        if self.history.is_some() {
            return self.forward_with_history(targets, rng);
        }
        let mut blocks = self.sampler.sample(&self.adj, targets, rng).into_iter();
        let first = blocks.next().expect("one block per layer");
        let e = self.leaf_rows(&first.sources)?;
        let mut h = SparseMatrix::new(first.csr).matmul(e.as_tensor())?; // [n1, hidden[0]]
        for (w, block) in self.dense.iter().zip(blocks) {
            let hw = h.relu()?.matmul(w.as_tensor())?;
            h = SparseMatrix::new(block.csr).matmul(&hw)?;
        }
        Ok((first.sources, e, h))
    }

    /// The rows of W₀ a first block reads, as the leaf its gradient lands in: `[sources, hidden[0]]`.
    fn leaf_rows(&self, sources: &[u32]) -> Result<Var> {
        let rows = self.table.gather(sources);
        let shape = (sources.len(), self.table.width);
        Ok(Var::from_tensor(&Tensor::from_vec(
            rows,
            shape,
            &Device::Cpu,
        )?)?)
    }

    /// [`Self::forward`] with a history: the hidden layer fresh on `targets` only, stored rows for their
    /// other neighbours, and the fresh rows written back.
    fn forward_with_history(
        &mut self,
        targets: &[u32],
        rng: &mut RunRng,
    ) -> Result<(Vec<u32>, Var, Tensor)> {
        let first = self
            .sampler
            .sample(&self.adj, targets, rng)
            .pop()
            .expect("one sampled layer");
        let e = self.leaf_rows(&first.sources)?;
        let h = SparseMatrix::new(first.csr).matmul(e.as_tensor())?.relu()?; // [T, hidden]
        let history = self.history.as_mut().expect("history mode");
        let split = history.split(&self.adj, targets, &mut self.local);
        let stale = Tensor::from_vec(split.stale, h.dims(), &Device::Cpu)?;
        let fresh = h.flatten_all()?.to_vec1::<f32>()?;
        match self.comm.size() {
            1 => history.store(targets, &fresh),
            // Stored by `share_history` once every rank has its rows.
            _ => self.fresh = (targets.to_vec(), fresh),
        }
        let agg = (SparseMatrix::new(split.fresh).matmul(&h)? + stale)?; // [T, hidden]
        let z = agg.matmul(self.dense[0].as_tensor())?; // [T, latent]
        Ok((first.sources, e, z))
    }

    /// The embeddings of `targets` (distinct) through a sampled receptive field, `[targets, latent]`
    /// row-major, drawing from the run's RNG: with every fan-out 0 they are rows of [`Self::embed_all`].
    pub fn embed_targets(&mut self, targets: &[u32]) -> Result<Vec<f32>> {
        let mut rng = RunRng::stream(self.rng.0.next_u64(), self.comm.rank() as u64);
        Ok(self
            .forward(targets, &mut rng)?
            .2
            .flatten_all()?
            .to_vec1()?)
    }
}

/// The distinct endpoints of `pos` and `neg` in order of first appearance, and both pair lists in those
/// local ids. `local` (one slot per node, all 0) is left all 0.
pub(super) fn localise(
    local: &mut [u32],
    pos: &[[u32; 2]],
    neg: &[[u32; 2]],
) -> (Vec<u32>, Vec<[u32; 2]>, Vec<[u32; 2]>) {
    let mut targets = Vec::new();
    let mut map = |pairs: &[[u32; 2]]| -> Vec<[u32; 2]> {
        pairs
            .iter()
            .map(|p| {
                p.map(|g| {
                    let slot = &mut local[g as usize];
                    if *slot == 0 {
                        targets.push(g);
                        *slot = targets.len() as u32;
                    }
                    *slot - 1
                })
            })
            .collect()
    };
    let (p, n) = (map(pos), map(neg));
    for &t in &targets {
        local[t as usize] = 0;
    }
    (targets, p, n)
}
