//! The mini-batch trainer: an epoch is a seeded permutation of the training edges cut into batches; each
//! batch draws as many negative pairs, samples its receptive field ([`NeighbourSampler`]), runs the encoder
//! on those rows only and updates the rows of W₀ it touched (lazy Adam) and the dense weights (Adam).
//! Validation and test scores embed the whole graph exactly, layer by layer on the host.

use super::config::MiniBatchConfig;
use super::sampler::NeighbourSampler;
use super::table::{AdamSettings, EmbeddingTable};
use crate::graph::loss::sampled_recon_loss;
use crate::graph::negatives::NegativeSampler;
use crate::graph::norm::normalized_adjacency;
use crate::graph::sparse::{csr_matmul, SparseMatrix};
use crate::graph::trainer::EpochRecord;
use crate::metrics::{link_scores, LinkScores};
use crate::optim::{Adam, Optimizer};
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::{Device, Tensor, Var};
use rand::seq::SliceRandom;
use std::time::Instant;
use vgae_data::{CsrMatrix, EdgeSplit};

/// A mini-batch GAE* run: model, optimiser state, RNG and position in the epoch.
pub struct MiniBatchTrainer {
    /// The run's settings.
    pub cfg: MiniBatchConfig,
    pub(super) adj: CsrMatrix,
    pub(super) split: EdgeSplit,
    negatives: NegativeSampler,
    sampler: NeighbourSampler,
    /// W₀ (`[nodes, hidden[0]]`) and its Adam moments.
    pub table: EmbeddingTable,
    /// The other layers' weights, `[in, out]`, in order.
    pub(super) dense: Vec<Var>,
    pub(super) opt: Adam,
    pub(super) rng: RunRng,
    /// The RNG as the current epoch started: its permutation of the edges is drawn from it.
    pub(super) epoch_start: RunRng,
    order: Vec<u32>,
    /// Epochs completed.
    pub epoch: usize,
    /// Batches of the current epoch completed.
    pub cursor: usize,
    /// Updates so far (Adam's step count).
    pub steps: u64,
    /// Σ batch losses and training seconds of the current epoch so far.
    pub(super) partial: (f64, f64),
    /// One record per completed epoch.
    pub records: Vec<EpochRecord>,
    local: Vec<u32>,
}

/// What a finished run reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MiniBatchResult {
    /// Test ROC-AUC after the last epoch.
    pub test_auc: f64,
    /// Test average precision after the last epoch.
    pub test_ap: f64,
    /// Median training seconds per epoch (sampling, forward, backward, updates; no scoring).
    pub epoch_seconds: f64,
}

impl MiniBatchTrainer {
    /// A fresh run on `split` (over `nodes` nodes) with its weights drawn from `rng`, which the run then
    /// keeps drawing from (epoch permutations, negatives, neighbour samples).
    pub fn new(
        nodes: usize,
        split: EdgeSplit,
        cfg: MiniBatchConfig,
        mut rng: RunRng,
    ) -> Result<Self> {
        cfg.validate()?;
        if split.num_nodes != nodes || split.train_pos.is_empty() {
            return Err(Error::msg(format!(
                "mini-batch: the split is for {} nodes with {} training edges; the graph has {nodes} nodes",
                split.num_nodes,
                split.train_pos.len()
            )));
        }
        let widths = cfg.widths();
        let table = EmbeddingTable::new(rng.glorot_host(nodes, widths[0]), nodes, widths[0])?;
        let dense = widths
            .windows(2)
            .map(|w| {
                let v = rng.glorot_host(w[0], w[1]);
                Ok(Var::from_tensor(&Tensor::from_vec(
                    v,
                    (w[0], w[1]),
                    &Device::Cpu,
                )?)?)
            })
            .collect::<Result<Vec<_>>>()?;
        let names = (0..dense.len()).map(|l| format!("encoder.conv{}.weight", l + 2));
        let opt = Adam::new(names.zip(dense.iter().cloned()).collect(), cfg.lr)?;
        Ok(MiniBatchTrainer {
            adj: normalized_adjacency(nodes, &split.train_pos),
            negatives: NegativeSampler::new(nodes, &split.train_pos)?,
            sampler: NeighbourSampler::new(nodes, cfg.fanouts.clone()),
            split,
            table,
            dense,
            opt,
            epoch_start: rng.clone(),
            rng,
            order: Vec::new(),
            epoch: 0,
            cursor: 0,
            steps: 0,
            partial: (0.0, 0.0),
            records: Vec::new(),
            local: vec![0; nodes],
            cfg,
        })
    }

    /// Batches per epoch.
    pub fn batches(&self) -> usize {
        self.split.train_pos.len().div_ceil(self.cfg.batch_edges)
    }

    /// The current epoch's permutation, drawn from `epoch_start` (also how a resumed run rebuilds it).
    pub(super) fn draw_order(&mut self) {
        let mut r = self.epoch_start.clone();
        self.order = (0..self.split.train_pos.len() as u32).collect();
        self.order.shuffle(&mut r.0);
        if self.cursor == 0 {
            self.rng = r;
        }
    }

    /// Runs batches until `stop` says so after a batch (`stop(epoch, cursor)`) or the last epoch ends;
    /// `on_epoch` sees each epoch's record. Returns whether the run is complete.
    pub fn train(
        &mut self,
        stop: &mut dyn FnMut(&Self) -> Result<bool>,
        on_epoch: &mut dyn FnMut(&Self, &EpochRecord) -> Result<()>,
    ) -> Result<bool> {
        while self.epoch < self.cfg.epochs {
            if self.cursor == 0 {
                self.epoch_start = self.rng.clone();
                self.draw_order();
            }
            while self.cursor < self.batches() {
                let t0 = Instant::now();
                let loss = self.step(self.cursor)?;
                self.partial.0 += loss;
                self.partial.1 += t0.elapsed().as_secs_f64();
                self.cursor += 1;
                if self.cursor < self.batches() && stop(self)? {
                    return Ok(false);
                }
            }
            let record = self.end_epoch()?;
            on_epoch(self, &record)?;
            if self.epoch < self.cfg.epochs && stop(self)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn end_epoch(&mut self) -> Result<EpochRecord> {
        self.epoch += 1;
        let every = self.cfg.eval_every;
        let due = self.epoch == self.cfg.epochs || (every > 0 && self.epoch.is_multiple_of(every));
        let val = match due {
            true => self.scores(&self.split.val_pos, &self.split.val_neg)?,
            false => LinkScores {
                auc: f64::NAN,
                ap: f64::NAN,
            },
        };
        let record = EpochRecord {
            epoch: self.epoch,
            loss: self.partial.0 / self.batches() as f64,
            val_auc: val.auc,
            val_ap: val.ap,
            seconds: self.partial.1,
        };
        self.records.push(record.clone());
        self.cursor = 0;
        self.partial = (0.0, 0.0);
        Ok(record)
    }

    /// One batch: the `b`-th slice of this epoch's permutation. Returns its loss.
    fn step(&mut self, b: usize) -> Result<f64> {
        let n_train = self.split.train_pos.len();
        let span = b * self.cfg.batch_edges..((b + 1) * self.cfg.batch_edges).min(n_train);
        let pos: Vec<[u32; 2]> = self.order[span]
            .iter()
            .map(|&e| self.split.train_pos[e as usize])
            .collect();
        let neg = self.negatives.sample(pos.len(), &mut self.rng);
        let (targets, pos_l, neg_l) = localise(&mut self.local, &pos, &neg);
        let (sources, e, z) = self.forward(&targets)?;
        let loss = sampled_recon_loss(&z, &pos_l, &neg_l)?;
        let value = loss.to_scalar::<f32>()? as f64;
        if !value.is_finite() {
            return Err(Error::msg(format!(
                "mini-batch training diverged: loss {value} at epoch {} batch {b} (try a smaller --lr)",
                self.epoch + 1
            )));
        }
        let grads = loss.backward()?;
        let ge = grads
            .get(e.as_tensor())
            .ok_or_else(|| Error::msg("mini-batch: no gradient for the batch's rows of W₀"))?
            .flatten_all()?
            .to_vec1::<f32>()?;
        self.steps += 1;
        let adam = AdamSettings::new(self.cfg.lr);
        self.table.step(&sources, &ge, self.steps, &adam);
        self.opt.step(&grads)?;
        Ok(value)
    }

    /// The encoder on a batch's receptive field: the rows of W₀ it read (global ids and the leaf tensor
    /// holding them, `[sources, hidden[0]]`) and the embeddings of `targets` (distinct), `[targets, latent]`.
    fn forward(&mut self, targets: &[u32]) -> Result<(Vec<u32>, Var, Tensor)> {
        let mut blocks = self
            .sampler
            .sample(&self.adj, targets, &mut self.rng)
            .into_iter();
        let first = blocks.next().expect("one block per layer");
        let rows = self.table.gather(&first.sources);
        let e = Var::from_tensor(&Tensor::from_vec(
            rows,
            (first.sources.len(), self.table.width),
            &Device::Cpu,
        )?)?;
        let mut h = SparseMatrix::new(first.csr).matmul(e.as_tensor())?; // [n1, hidden[0]]
        for (w, block) in self.dense.iter().zip(blocks) {
            let hw = h.relu()?.matmul(w.as_tensor())?;
            h = SparseMatrix::new(block.csr).matmul(&hw)?;
        }
        Ok((first.sources, e, h))
    }

    /// The embeddings of `targets` (distinct) through a sampled receptive field, `[targets, latent]`
    /// row-major, drawing from the run's RNG: with every fan-out 0 they are rows of [`Self::embed_all`].
    pub fn embed_targets(&mut self, targets: &[u32]) -> Result<Vec<f32>> {
        Ok(self.forward(targets)?.2.flatten_all()?.to_vec1()?)
    }

    /// Every node's embedding, `[nodes, latent]`, exact (no sampling), on the host.
    pub fn embed_all(&self) -> Result<Vec<f32>> {
        let widths = self.cfg.widths();
        let mut h = csr_matmul(&self.adj, &self.table.w, widths[0]);
        for (l, w) in self.dense.iter().enumerate() {
            h.iter_mut().for_each(|v| *v = v.max(0.0));
            let n = self.adj.rows;
            let hw = Tensor::from_vec(h, (n, widths[l]), &Device::Cpu)?.matmul(w.as_tensor())?;
            h = csr_matmul(
                &self.adj,
                &hw.flatten_all()?.to_vec1::<f32>()?,
                widths[l + 1],
            );
        }
        Ok(h)
    }

    /// ROC-AUC and AP of the inner-product decoder on `pos` against `neg`, from [`Self::embed_all`].
    pub fn scores(&self, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<LinkScores> {
        let z = self.embed_all()?;
        let d = self.cfg.latent;
        let logit = |&[u, v]: &[u32; 2]| -> f32 {
            let (a, b) = (u as usize * d, v as usize * d);
            z[a..a + d]
                .iter()
                .zip(&z[b..b + d])
                .map(|(x, y)| x * y)
                .sum()
        };
        let (p, n): (Vec<f32>, Vec<f32>) = (
            pos.iter().map(logit).collect(),
            neg.iter().map(logit).collect(),
        );
        Ok(link_scores(&p, &n))
    }

    /// The test scores and the median epoch time, once training is complete.
    pub fn result(&self) -> Result<MiniBatchResult> {
        let test = self.scores(&self.split.test_pos, &self.split.test_neg)?;
        let mut secs: Vec<f64> = self.records.iter().map(|r| r.seconds).collect();
        secs.sort_by(f64::total_cmp);
        Ok(MiniBatchResult {
            test_auc: test.auc,
            test_ap: test.ap,
            epoch_seconds: secs.get(secs.len() / 2).copied().unwrap_or(f64::NAN),
        })
    }
}

/// The distinct endpoints of `pos` and `neg` in order of first appearance, and both pair lists in those
/// local ids. `local` (one slot per node, all 0) is left all 0.
fn localise(
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
