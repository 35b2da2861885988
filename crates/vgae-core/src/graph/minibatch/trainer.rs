//! The mini-batch trainer: an epoch is a seeded permutation of the training edges cut into batches; each
//! batch draws as many negative pairs, samples its receptive field ([`NeighbourSampler`]), runs the encoder
//! on those rows only and updates the rows of W₀ it touched (lazy Adam) and the dense weights (Adam).
//! Validation and test scores embed the whole graph exactly, layer by layer on the host.

use super::config::MiniBatchConfig;
use super::history::History;
use super::sampler::NeighbourSampler;
use super::table::{AdamSettings, EmbeddingTable};
use crate::collective::{decode_rows, encode_rows, merge_rows, shard, Collective, SingleProcess};
use crate::graph::loss::sampled_recon_loss;
use crate::graph::negatives::NegativeSampler;
use crate::graph::norm::normalized_adjacency;
use crate::graph::sparse::csr_matmul;
use crate::graph::trainer::EpochRecord;
use crate::metrics::{link_scores, LinkScores};
use crate::optim::Adam;
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::{Device, Tensor, Var};
use rand::seq::SliceRandom;
use rand::RngCore;
use std::time::Instant;
use vgae_data::{CsrMatrix, EdgeSplit};

/// A mini-batch GAE* run: model, optimiser state, RNG and position in the epoch.
pub struct MiniBatchTrainer {
    /// The run's settings.
    pub cfg: MiniBatchConfig,
    pub(super) adj: CsrMatrix,
    pub(super) split: EdgeSplit,
    negatives: NegativeSampler,
    pub(super) sampler: NeighbourSampler,
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
    /// The stored hidden rows, with `cfg.history`.
    pub history: Option<History>,
    pub(super) local: Vec<u32>,
    /// The ranks sharing each batch (data parallel); one process by default.
    pub(super) comm: Box<dyn Collective>,
    /// This rank's new hidden rows of the current batch, until shared (data parallel with a history).
    pub(super) fresh: (Vec<u32>, Vec<f32>),
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
        let adj = normalized_adjacency(nodes, &split.train_pos);
        // With a history only the first layer's receptive field is sampled; it starts exact.
        let (fanouts, history) = match cfg.history {
            true => (
                cfg.fanouts[..1].to_vec(),
                Some(History::exact(&adj, &table.w, widths[0])),
            ),
            false => (cfg.fanouts.clone(), None),
        };
        Ok(MiniBatchTrainer {
            adj,
            negatives: NegativeSampler::new(nodes, &split.train_pos)?,
            sampler: NeighbourSampler::new(nodes, fanouts),
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
            history,
            local: vec![0; nodes],
            comm: Box::new(SingleProcess),
            fresh: Default::default(),
            cfg,
        })
    }

    /// The same run shared by the ranks of `comm`: each batch is cut into one shard per rank, and the
    /// gradients (and a history's new rows) are summed over the ranks before every update, so that every
    /// rank holds the same state. Every rank must build its trainer from the same graph, split, config and
    /// seed.
    pub fn with_collective(mut self, comm: Box<dyn Collective>) -> Self {
        self.comm = comm;
        self
    }

    /// The dense weights (every layer after the first), flattened in layer order.
    pub fn dense_weights(&self) -> Result<Vec<f32>> {
        let mut out = Vec::new();
        for w in &self.dense {
            out.extend(w.as_tensor().flatten_all()?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    /// The ranks this run is shared by.
    pub fn collective(&self) -> &dyn Collective {
        self.comm.as_ref()
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

    /// One batch: the `b`-th slice of this epoch's permutation, this rank's shard of it. Returns the
    /// batch's loss (over every rank's shard).
    fn step(&mut self, b: usize) -> Result<f64> {
        let n_train = self.split.train_pos.len();
        let span = b * self.cfg.batch_edges..((b + 1) * self.cfg.batch_edges).min(n_train);
        let all: Vec<[u32; 2]> = self.order[span]
            .iter()
            .map(|&e| self.split.train_pos[e as usize])
            .collect();
        let all_neg = self.negatives.sample(all.len(), &mut self.rng);
        // Neighbour samples come from a stream of their own per batch and rank, so the ranks' shared RNG
        // (permutations, negatives) stays the same on every rank.
        let (rank, size) = (self.comm.rank(), self.comm.size());
        let mut sampling = RunRng::stream(self.rng.0.next_u64(), rank as u64);
        let mine = shard(all.len(), rank, size);
        let (pos, neg) = (&all[mine.clone()], &all_neg[mine]);
        let (sources, ge, mut dense, mut value) = match pos.is_empty() {
            true => (Vec::new(), Vec::new(), self.zero_dense()?, 0.0),
            false => self.shard_grads(pos, neg, all.len(), &mut sampling)?,
        };
        if size > 1 {
            let mut flat: Vec<f32> = dense.iter().flatten().copied().collect();
            flat.push(value as f32);
            self.comm.all_reduce_sum(&mut flat)?;
            value = flat.pop().expect("the loss") as f64;
            let mut at = 0;
            for g in dense.iter_mut() {
                let n = g.len();
                g.copy_from_slice(&flat[at..at + n]);
                at += n;
            }
        }
        if !value.is_finite() {
            return Err(Error::msg(format!(
                "mini-batch training diverged: loss {value} at epoch {} batch {b} (try a smaller --lr)",
                self.epoch + 1
            )));
        }
        if size > 1 && self.history.is_some() {
            self.share_history()?;
        }
        let (ids, rows) = match size {
            1 => (sources, ge),
            _ => merge_rows(
                &self.comm.all_gather(&encode_rows(&sources, &ge))?,
                self.table.width,
            )?,
        };
        self.steps += 1;
        // The loss is the batch's mean, and a row of W₀ gets its gradient from the few pairs whose
        // receptive field holds it: on large graphs that is orders below Adam's ε = 1e-8, where Adam stops
        // normalising and the table barely moves (seen at 10⁶ nodes: no learning in an epoch). Adam is
        // otherwise invariant to the loss's scale, so ε is taken per pair of the batch, as for a summed loss.
        let adam = AdamSettings {
            eps: AdamSettings::new(self.cfg.lr).eps / (2 * all.len()) as f64,
            ..AdamSettings::new(self.cfg.lr)
        };
        self.table.step(&ids, &rows, self.steps, &adam);
        let grads = dense
            .into_iter()
            .zip(&self.dense)
            .map(|(g, w)| Ok(Some(Tensor::from_vec(g, w.dims(), &Device::Cpu)?)))
            .collect::<Result<Vec<_>>>()?;
        self.opt.step_each(&grads)?;
        Ok(value)
    }

    /// One shard's loss, scaled by its share of the `global` positives, and its gradients: the rows of W₀
    /// it read with theirs, and each dense weight's.
    #[allow(clippy::type_complexity)]
    fn shard_grads(
        &mut self,
        pos: &[[u32; 2]],
        neg: &[[u32; 2]],
        global: usize,
        rng: &mut RunRng,
    ) -> Result<(Vec<u32>, Vec<f32>, Vec<Vec<f32>>, f64)> {
        let (targets, pos_l, neg_l) = super::forward::localise(&mut self.local, pos, neg);
        let (sources, e, z) = self.forward(&targets, rng)?;
        let mut loss = sampled_recon_loss(&z, &pos_l, &neg_l)?;
        if pos.len() != global {
            loss = loss.affine(pos.len() as f64 / global as f64, 0.0)?;
        }
        let value = loss.to_scalar::<f32>()? as f64;
        let grads = loss.backward()?;
        let ge = grads
            .get(e.as_tensor())
            .ok_or_else(|| Error::msg("mini-batch: no gradient for the batch's rows of W₀"))?
            .flatten_all()?
            .to_vec1::<f32>()?;
        let dense = self
            .dense
            .iter()
            .map(|w| match grads.get(w.as_tensor()) {
                Some(g) => Ok(g.flatten_all()?.to_vec1::<f32>()?),
                None => Ok(vec![0.0; w.elem_count()]),
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((sources, ge, dense, value))
    }

    /// Every rank stores every rank's new hidden rows, in rank order (a node in two shards: the later
    /// rank's rows).
    fn share_history(&mut self) -> Result<()> {
        let (ids, rows) = std::mem::take(&mut self.fresh);
        let parts = self.comm.all_gather(&encode_rows(&ids, &rows))?;
        let history = self.history.as_mut().expect("history mode");
        for part in &parts {
            let (ids, rows) = decode_rows(part, history.width)?;
            history.store(&ids, &rows);
        }
        Ok(())
    }

    fn zero_dense(&self) -> Result<Vec<Vec<f32>>> {
        Ok(self
            .dense
            .iter()
            .map(|w| vec![0.0; w.elem_count()])
            .collect())
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
