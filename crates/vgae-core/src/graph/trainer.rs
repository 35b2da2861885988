//! The link-prediction trainer, generic over the model and the optimiser: full-batch steps, validation AUC /
//! AP each epoch, test AUC / AP at the last epoch and at the best-validation epoch.

use super::encoder::train_edge_weights;
use super::encoder::GraphInput;
use super::loss::ReconLoss;
use super::model::{LinkModel, LossKind};
use crate::metrics::LinkScores;
use crate::optim::Optimizer;
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use vgae_data::{EdgeSplit, Graph};

/// How a model is fitted (the model's own sizes live in the model).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FitConfig {
    /// Epochs to train up to (a resumed trainer continues from its epoch).
    pub epochs: usize,
    /// The reconstruction loss.
    pub loss: LossKind,
    /// Rows per block of the dense loss on non-CPU devices.
    pub block: usize,
    /// Write a checkpoint every N epochs into `<run>/checkpoints/` (0 = only the final one).
    pub checkpoint_every: usize,
    /// Keep the last K periodic checkpoints.
    pub keep_last: usize,
    /// The run's name in results and plots.
    pub label: String,
    /// Edge weights enter Â through weighted degrees (the reconstruction target stays binary).
    #[serde(default)]
    pub weighted: bool,
    /// Edge weights, divided by the largest, are the reconstruction targets of the training edges
    /// ([`ReconLoss::with_soft_targets`]).
    #[serde(default)]
    pub soft_targets: bool,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            epochs: 200,
            loss: LossKind::Dense,
            block: 1024,
            checkpoint_every: 0,
            keep_last: 3,
            label: "model".into(),
            weighted: false,
            soft_targets: false,
        }
    }
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EpochRecord {
    /// Epochs completed.
    pub epoch: usize,
    /// Training loss before this epoch's update.
    pub loss: f64,
    /// Validation ROC-AUC after the update.
    pub val_auc: f64,
    /// Validation average precision after the update.
    pub val_ap: f64,
    /// Seconds of the training step (forward, backward, update).
    pub seconds: f64,
}

/// A run's final metrics, as `result.json` holds them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[allow(missing_docs)] // each field is its name: metric at the last epoch, or at the best-validation one
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

/// Fits any [`LinkModel`] with any [`Optimizer`] on one graph and split.
///
/// ```
/// use candle_core::Device;
/// use vgae_core::graph::{FitConfig, GcnConfig, GcnEncoder, InnerProduct, LinkTrainer, LossKind,
///     VariationalGraphAutoencoder};
/// use vgae_core::{optim::Adam, params::ParamStore, rng::RunRng};
/// use vgae_data::{EdgeSplit, Graph, SplitConfig};
///
/// // Two rings of 30 nodes joined by one edge, no features (X = I).
/// let mut pairs: Vec<[u32; 2]> = (0..60).map(|i| [i, if i % 30 == 29 { i - 29 } else { i + 1 }]).collect();
/// pairs.extend((0..60).map(|i| [i, if i % 30 >= 28 { i - 28 } else { i + 2 }]));
/// pairs.push([0, 30]);
/// let graph = Graph::from_edges(60, &pairs)?;
/// let split = EdgeSplit::new(&graph, &SplitConfig::default(), 0, &mut RunRng::stream(0, 0))?;
/// let store = ParamStore::new(RunRng::stream(0, 1));
/// let encoder = GcnEncoder::new(store.var_builder(&Device::Cpu).pp("encoder"),
///     GcnConfig::paper(&graph, false, true))?;
/// let model = VariationalGraphAutoencoder::new(encoder, InnerProduct);
/// let fit = FitConfig { epochs: 30, loss: LossKind::Sampled, ..FitConfig::default() };
/// let mut trainer = LinkTrainer::new(model, Adam::new(store.params(), 0.01)?, store.rng(), &graph, split, fit)?;
/// let result = trainer.fit(None)?;
/// assert_eq!((result.epochs, trainer.records.len()), (30, 30));
/// assert_eq!(trainer.embed()?.dims(), &[60, 16]);
/// assert!(result.test_auc.is_finite());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct LinkTrainer<M, O> {
    /// The model being trained.
    pub model: M,
    /// Holds the model's named parameters and their state.
    pub optimizer: O,
    /// The run's RNG: dropout, reparametrisation noise and negatives.
    pub rng: RunRng,
    /// How the model is fitted.
    pub fit: FitConfig,
    /// The split trained and evaluated on (audited against the graph).
    pub split: EdgeSplit,
    /// Epochs completed.
    pub epoch: usize,
    /// Every completed epoch's numbers.
    pub records: Vec<EpochRecord>,
    /// (epoch, val, test) of the best validation AUC so far.
    pub best: Option<(usize, LinkScores, LinkScores)>,
    /// What `config.json` and a checkpoint's `config` record (by default the [`FitConfig`]).
    pub run_config: serde_json::Value,
    pub(crate) input: GraphInput,
    pub(crate) recon: ReconLoss,
    pub(crate) graph_fingerprint: String,
}

impl<M: LinkModel, O: Optimizer> LinkTrainer<M, O> {
    /// Prepares training on `graph` with `split`, which is audited against it first. `rng` continues the
    /// run's stream after the initialisation draws ([`crate::params::ParamStore::rng`]).
    pub fn new(
        model: M,
        optimizer: O,
        rng: RunRng,
        graph: &Graph,
        split: EdgeSplit,
        fit: FitConfig,
    ) -> Result<Self> {
        split
            .audit(graph)
            .map_err(|v| Error::msg(format!("split does not fit dataset '{}': {v}", graph.name)))?;
        let input = match fit.weighted {
            true => GraphInput::weighted(graph, &split.train_pos)?,
            false => GraphInput::new(graph, &split.train_pos)?,
        };
        let mut recon = ReconLoss::for_graph(fit.loss, graph, &split.train_pos, fit.block)?;
        if fit.soft_targets {
            recon = recon.with_soft_targets(&train_edge_weights(graph, &split.train_pos)?)?;
        }
        Ok(LinkTrainer {
            run_config: serde_json::to_value(&fit).map_err(|e| Error::msg(e.to_string()))?,
            graph_fingerprint: graph.fingerprint(),
            model,
            optimizer,
            rng,
            fit,
            split,
            epoch: 0,
            records: Vec::new(),
            best: None,
            input,
            recon,
        })
    }

    /// Splits the exact dense loss over the ranks of `comm` ([`ReconLoss::with_collective`]): each rank does
    /// its share of the N² pairs, and every rank then takes the same step, so all ranks hold the same
    /// model. Rank 0 alone should write files. An error for the sampled loss on several ranks.
    pub fn with_collective(
        mut self,
        comm: std::sync::Arc<dyn crate::collective::Collective + Send + Sync>,
    ) -> Result<Self> {
        self.recon = self.recon.with_collective(comm)?;
        Ok(self)
    }

    /// What the encoder sees: Â of the training edges and the node features.
    pub fn input(&self) -> &GraphInput {
        &self.input
    }

    /// The loss of one training step (noise drawn from the run RNG).
    pub fn loss(&mut self) -> Result<Tensor> {
        self.model
            .train_loss(&self.input, &self.recon, &mut self.rng)
    }

    /// One optimisation step; returns the loss before the update. A non-finite loss stops training.
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

    /// The embedding used for scoring: μ from the training graph, no noise.
    pub fn embed(&self) -> Result<Tensor> {
        self.model.embed(&self.input)
    }

    /// ROC-AUC / AP of `pos` against `neg` from embedding `z`.
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
            label: self.fit.label.clone(),
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
