//! The GAE / VGAE training loop of the reference protocol: full-batch Adam, validation AUC/AP each epoch,
//! test AUC/AP at the last epoch and at the best-validation epoch.

use super::encoder::{GcnEncoder, Input};
use super::loss::{dense_recon_loss, kl_loss, sampled_recon_loss, DenseWeights};
use super::model::{GraphAutoencoder, LossKind, ModelKind};
use super::norm::normalized_adjacency;
use super::sparse::SparseMatrix;
use crate::metrics::LinkScores;
use crate::optim::{Adam, Optimizer};
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::{Device, Tensor};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;
use vgae_data::pairset::{pair_key, pair_set, PairSet};
use vgae_data::{EdgeSplit, Graph, SplitConfig};

/// Everything that defines a run; saved as `config.json` beside its outputs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GraphTrainConfig {
    pub dataset: String,
    pub model: ModelKind,
    /// Use node features (GAE / VGAE); false = featureless X = I (GAE* / VGAE*).
    pub features: bool,
    pub loss: LossKind,
    pub epochs: usize,
    pub lr: f64,
    pub hidden: usize,
    pub latent: usize,
    pub dropout: f32,
    pub seed: u64,
    pub split: SplitConfig,
    /// Rows per block of the dense loss on non-CPU devices.
    pub block: usize,
    /// Write a checkpoint every N epochs into `<run>/checkpoints/` (0 = only the final one).
    #[serde(default)]
    pub checkpoint_every: usize,
    /// Keep the last K periodic checkpoints.
    #[serde(default = "default_keep_last")]
    pub keep_last: usize,
}

fn default_keep_last() -> usize {
    3
}

impl Default for GraphTrainConfig {
    fn default() -> Self {
        GraphTrainConfig {
            dataset: "cora".into(),
            model: ModelKind::Vgae,
            features: true,
            loss: LossKind::Dense,
            epochs: 200,
            lr: 0.01,
            hidden: 32,
            latent: 16,
            dropout: 0.0,
            seed: 0,
            split: SplitConfig::default(),
            block: 1024,
            checkpoint_every: 0,
            keep_last: 3,
        }
    }
}

impl GraphTrainConfig {
    /// The paper's row name: GAE, VGAE, GAE* or VGAE*.
    pub fn label(&self) -> String {
        let base = match self.model {
            ModelKind::Gae => "GAE",
            ModelKind::Vgae => "VGAE",
        };
        if self.features {
            base.into()
        } else {
            format!("{base}*")
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpochRecord {
    pub epoch: usize,
    pub loss: f64,
    pub val_auc: f64,
    pub val_ap: f64,
    /// Seconds of the training step (forward, backward, update).
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GraphRunResult {
    pub label: String,
    pub epochs: usize,
    pub val_auc: f64,
    pub val_ap: f64,
    pub test_auc: f64,
    pub test_ap: f64,
    pub best_epoch: usize,
    pub best_val_auc: f64,
    pub best_val_ap: f64,
    pub best_test_auc: f64,
    pub best_test_ap: f64,
    pub train_seconds: f64,
    pub seconds_per_epoch: f64,
}

pub struct GraphTrainer {
    pub cfg: GraphTrainConfig,
    pub model: GraphAutoencoder,
    pub optimizer: Adam,
    pub split: EdgeSplit,
    pub rng: RunRng,
    pub epoch: usize,
    pub records: Vec<EpochRecord>,
    /// (epoch, val, test) of the best validation AUC so far.
    pub best: Option<(usize, LinkScores, LinkScores)>,
    adj: Arc<SparseMatrix>,
    weights: DenseWeights,
    positives: Vec<[u32; 2]>, // both directions of every training edge and the diagonal, for the dense loss
    train_set: PairSet,       // for rejecting sampled negatives
    num_nodes: usize,
}

impl GraphTrainer {
    /// Builds the model for `graph` and `split` (which must belong to it). The split is audited first.
    pub fn new(
        cfg: GraphTrainConfig,
        graph: &Graph,
        split: EdgeSplit,
        device: &Device,
    ) -> Result<Self> {
        split
            .audit(graph)
            .map_err(|v| Error::msg(format!("split does not fit dataset '{}': {v}", graph.name)))?;
        let n = graph.num_nodes;
        let mut rng = RunRng::stream(cfg.seed, 1);
        let adj = SparseMatrix::new(normalized_adjacency(n, &split.train_pos));
        let input = if cfg.features {
            let x = graph.features.clone().ok_or_else(|| {
                Error::msg(format!(
                    "dataset '{}' has no node features: use --features none",
                    graph.name
                ))
            })?;
            if let Some(k) = x.data.iter().position(|v| !v.is_finite()) {
                let row = x.indptr.partition_point(|&p| p <= k) - 1;
                return Err(Error::msg(format!(
                    "dataset '{}': node features hold a non-finite value (NaN or inf) in row {row}",
                    graph.name
                )));
            }
            Input::Features(SparseMatrix::new(x))
        } else {
            Input::Identity
        };
        let variational = cfg.model == ModelKind::Vgae;
        let encoder = GcnEncoder::new(
            input,
            n,
            cfg.hidden,
            cfg.latent,
            variational,
            cfg.dropout,
            &mut rng,
            device,
        )?;
        let model = GraphAutoencoder::new(encoder, cfg.model);
        let optimizer = Adam::new(model.encoder.params(), cfg.lr)?;
        let mut pos: Vec<[u32; 2]> = split
            .train_pos
            .iter()
            .flat_map(|&[u, v]| [[u, v], [v, u]])
            .collect();
        pos.extend((0..n as u32).map(|i| [i, i]));
        Ok(GraphTrainer {
            weights: DenseWeights::new(n, split.train_pos.len()),
            positives: pos,
            train_set: pair_set(&split.train_pos),
            adj,
            num_nodes: n,
            cfg,
            model,
            optimizer,
            split,
            rng,
            epoch: 0,
            records: Vec::new(),
            best: None,
        })
    }

    /// Fresh uniform negatives for the sampled loss: no self-loops, no training edges.
    fn sample_negatives(&mut self, k: usize) -> Vec<[u32; 2]> {
        let n = self.num_nodes as u32;
        let mut out = Vec::with_capacity(k);
        while out.len() < k {
            let (i, j) = (self.rng.0.random_range(0..n), self.rng.0.random_range(0..n));
            if i != j && !self.train_set.contains(&pair_key(i, j)) {
                out.push([i, j]);
            }
        }
        out
    }

    /// The loss of one training step (dropout and reparametrisation noise drawn from the run RNG).
    pub fn loss(&mut self) -> Result<Tensor> {
        let enc = self.model.encode(&self.adj, Some(&mut self.rng))?;
        let z = self.model.reparametrize(&enc, &mut self.rng)?;
        let recon = match self.cfg.loss {
            LossKind::Dense => {
                dense_recon_loss(&z, &self.positives, &self.weights, self.cfg.block)?
            }
            LossKind::Sampled => {
                // Both directions of every training edge, as PyG's train_pos_edge_index.
                let neg = self.sample_negatives(2 * self.split.train_pos.len());
                sampled_recon_loss(&z, &self.split.train_pos, &neg)?
            }
        };
        Ok(match &enc.logstd {
            Some(logstd) => (recon + kl_loss(&enc.mu, logstd)?)?,
            None => recon,
        })
    }

    /// One optimisation step; returns the loss before the update.
    pub fn train_epoch(&mut self) -> Result<f64> {
        let loss = self.loss()?;
        let value = loss.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?;
        if !value.is_finite() {
            return Err(Error::NonFinite {
                epoch: self.epoch + 1,
                what: "training loss".into(),
                value,
            });
        }
        let grads = loss.backward()?;
        self.optimizer.step(&grads)?;
        self.epoch += 1;
        Ok(value)
    }

    /// The embedding used for scoring: μ from the training graph, no dropout.
    pub fn embed(&self) -> Result<Tensor> {
        Ok(self.model.encode(&self.adj, None)?.mu)
    }

    pub fn scores(&self, z: &Tensor, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<LinkScores> {
        self.model.test(z, pos, neg)
    }

    /// Trains one epoch, evaluates on validation (and on test when validation AUC improves).
    pub fn step(&mut self) -> Result<EpochRecord> {
        let t = Instant::now();
        let loss = self.train_epoch()?;
        let seconds = t.elapsed().as_secs_f64();
        let z = self.embed()?;
        let val = self.scores(&z, &self.split.val_pos, &self.split.val_neg)?;
        if !val.auc.is_finite() {
            return Err(Error::NonFinite {
                epoch: self.epoch,
                what: "validation AUC".into(),
                value: val.auc,
            });
        }
        if self.best.as_ref().is_none_or(|b| val.auc > b.1.auc) {
            let test = self.scores(&z, &self.split.test_pos, &self.split.test_neg)?;
            self.best = Some((self.epoch, val, test));
        }
        let r = EpochRecord {
            epoch: self.epoch,
            loss,
            val_auc: val.auc,
            val_ap: val.ap,
            seconds,
        };
        self.records.push(r.clone());
        Ok(r)
    }

    /// Final metrics: validation / test at the current (last) epoch and at the best-validation epoch.
    pub fn result(&self) -> Result<GraphRunResult> {
        let z = self.embed()?;
        let val = self.scores(&z, &self.split.val_pos, &self.split.val_neg)?;
        let test = self.scores(&z, &self.split.test_pos, &self.split.test_neg)?;
        let (best_epoch, bv, bt) = self.best.unwrap_or((self.epoch, val, test));
        let train_seconds: f64 = self.records.iter().map(|r| r.seconds).sum();
        Ok(GraphRunResult {
            label: self.cfg.label(),
            epochs: self.epoch,
            val_auc: val.auc,
            val_ap: val.ap,
            test_auc: test.auc,
            test_ap: test.ap,
            best_epoch,
            best_val_auc: bv.auc,
            best_val_ap: bv.ap,
            best_test_auc: bt.auc,
            best_test_ap: bt.ap,
            train_seconds,
            seconds_per_epoch: train_seconds / self.records.len().max(1) as f64,
        })
    }
}

/// Makes the run's split from the seed (stream 0 of the run RNG).
pub fn make_split(graph: &Graph, cfg: &GraphTrainConfig) -> Result<EdgeSplit> {
    let mut rng = RunRng::stream(cfg.seed, 0);
    Ok(EdgeSplit::new(graph, &cfg.split, cfg.seed, &mut rng)?)
}
