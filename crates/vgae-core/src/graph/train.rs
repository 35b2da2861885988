//! The paper's GAE / VGAE trainer: the GCN encoder and inner-product decoder built from one serde config,
//! trained with full-batch Adam by the generic [`LinkTrainer`].

use super::adversarial::{AdversarialRegulariser, Arga, Argva, DiscriminatorConfig};
use super::decoder::InnerProduct;
use super::gcn::{GcnConfig, GcnEncoder};
use super::memory::{self, MemoryEstimate};
use super::model::{GraphAutoencoder, LinkModel, LossKind, ModelKind, VariationalGraphAutoencoder};
use super::trainer::{EpochRecord, FitConfig, GraphRunResult, LinkTrainer};
use crate::optim::Adam;
use crate::params::ParamStore;
use crate::rng::RunRng;
use crate::run_loop::{run_epochs, EpochTrainer};
use crate::rundir::RunDir;
use crate::{Error, Result};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use vgae_data::edgelist::EdgeListOptions;
use vgae_data::{EdgeSplit, Graph, SplitConfig};

/// Everything that defines a run; saved as `config.json` beside its outputs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GraphTrainConfig {
    /// Dataset name (or edge-list path) the run trains on.
    pub dataset: String,
    /// GAE or VGAE.
    pub model: ModelKind,
    /// Use node features (GAE / VGAE); false = featureless X = I (GAE* / VGAE*).
    pub features: bool,
    /// The reconstruction loss.
    pub loss: LossKind,
    /// Epochs to train up to.
    pub epochs: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// Width of the first GCN layer.
    pub hidden: usize,
    /// Embedding size.
    pub latent: usize,
    /// Dropout on the hidden layer in training.
    pub dropout: f32,
    /// Seed of the run's host RNG (stream 0: the split; stream 1: init, noise, negatives).
    pub seed: u64,
    /// How the split is drawn from the seed.
    pub split: SplitConfig,
    /// Rows per block of the dense loss on non-CPU devices.
    pub block: usize,
    /// Write a checkpoint every N epochs into `<run>/checkpoints/` (0 = only the final one).
    #[serde(default)]
    pub checkpoint_every: usize,
    /// Keep the last K periodic checkpoints.
    #[serde(default = "default_keep_last")]
    pub keep_last: usize,
    /// The dataset file's absolute path when `dataset` is an edge list (so a checkpoint finds it from any
    /// directory); absent for named datasets and in older configs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_path: Option<std::path::PathBuf>,
    /// How the edge list was read (header, delimiter, node-feature file); absent for named datasets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_list: Option<EdgeListOptions>,
    /// Also keep the checkpoint of the best-validation epoch as `<run>/best.safetensors`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub keep_best: bool,
    /// Stop once validation AUC has not improved for this many epochs (0: never).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub patience: usize,
    /// The GCN's hidden widths, replacing `hidden` when given: empty is the linear model Z = ÂXW (Salha et
    /// al. 2020), several a deeper encoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_layers: Option<Vec<usize>>,
    /// Regularise the embedding with a discriminator: ARGA for GAE, ARGVA for VGAE (Pan et al. 2018; PyG's
    /// discriminator settings: 64-64 ReLU, Adam 0.001, 5 steps per epoch).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adversarial: bool,
    /// Edge weights enter Â through weighted degrees (the reconstruction target stays binary).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub weighted: bool,
    /// Edge weights scaled to [0, 1] are the training edges' reconstruction targets (independent of
    /// `weighted`, which puts them in Â).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub soft_targets: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
            dataset_path: None,
            edge_list: None,
            keep_best: false,
            patience: 0,
            hidden_layers: None,
            adversarial: false,
            weighted: false,
            soft_targets: false,
        }
    }
}

impl GraphTrainConfig {
    /// The row name: GAE, VGAE, ARGA or ARGVA, `Linear…` without a hidden layer, `…-32-32` for deeper
    /// encoders, and `*` when featureless (the paper's GAE* / VGAE*).
    pub fn label(&self) -> String {
        let base = match (self.model, self.adversarial) {
            (ModelKind::Gae, false) => "GAE",
            (ModelKind::Vgae, false) => "VGAE",
            (ModelKind::Gae, true) => "ARGA",
            (ModelKind::Vgae, true) => "ARGVA",
        };
        let base = match &self.hidden_layers {
            Some(h) if h.is_empty() => format!("Linear{base}"),
            Some(h) if h.as_slice() != [self.hidden] => {
                let w: Vec<String> = h.iter().map(|x| x.to_string()).collect();
                format!("{base}-{}", w.join("-"))
            }
            _ => base.to_string(),
        };
        if self.features {
            base
        } else {
            format!("{base}*")
        }
    }

    /// The GCN's hidden widths: `hidden_layers`, or the one layer of `hidden`.
    pub fn hidden_widths(&self) -> Vec<usize> {
        self.hidden_layers
            .clone()
            .unwrap_or_else(|| vec![self.hidden])
    }
}

/// The paper's model, GAE or VGAE as the config says.
pub type PaperModel = Box<dyn LinkModel + Send>;

/// The paper's trainer: a [`LinkTrainer`] of the GCN autoencoder built from a [`GraphTrainConfig`].
/// Dereferences to the [`LinkTrainer`] (`step`, `embed`, `records`, ...).
pub struct GraphTrainer {
    /// The run's configuration (`config.json`).
    pub cfg: GraphTrainConfig,
    /// The generic trainer doing the work.
    pub inner: LinkTrainer<PaperModel, Adam>,
    /// The graph's [`Graph::node_ids`], written into every checkpoint [`GraphTrainer::run`] saves.
    pub node_ids: Option<Vec<String>>,
    /// Where [`GraphTrainer::run`] keeps the best-validation checkpoint (`cfg.keep_best` with a run dir).
    best_path: Option<std::path::PathBuf>,
}

impl std::ops::Deref for GraphTrainer {
    type Target = LinkTrainer<PaperModel, Adam>;
    fn deref(&self) -> &Self::Target {
        &self.inner
    }
}

impl std::ops::DerefMut for GraphTrainer {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.inner
    }
}

impl GraphTrainConfig {
    /// The part of the config that says how to fit (epochs, loss, checkpoints).
    pub fn fit_config(&self) -> FitConfig {
        FitConfig {
            epochs: self.epochs,
            loss: self.loss,
            block: self.block,
            checkpoint_every: self.checkpoint_every,
            keep_last: self.keep_last,
            label: self.label(),
            weighted: self.weighted,
            soft_targets: self.soft_targets,
        }
    }
}

impl GraphTrainer {
    /// Builds the model for `graph` and `split` (which must belong to it; it is audited first). The weights
    /// are drawn from stream 1 of the seed in the order conv1, conv_mu (conv2), conv_logstd.
    pub fn new(
        cfg: GraphTrainConfig,
        graph: &Graph,
        split: EdgeSplit,
        device: &Device,
    ) -> Result<Self> {
        split
            .audit(graph)
            .map_err(|v| Error::msg(format!("split does not fit dataset '{}': {v}", graph.name)))?;
        if cfg.features && graph.features.is_none() {
            return Err(Error::msg(format!(
                "dataset '{}' has no node features: use --features none",
                graph.name
            )));
        }
        let variational = cfg.model == ModelKind::Vgae;
        let gcn = GcnConfig {
            hidden: cfg.hidden_widths(),
            latent: cfg.latent,
            dropout: cfg.dropout,
            ..GcnConfig::paper(graph, cfg.features, variational)
        };
        if device.is_cpu() {
            // CSR values and column indices, row pointers, and as much again for the transpose.
            let features = graph.features.as_ref().filter(|_| cfg.features);
            let bytes = features.map_or(0, |x| 2 * (8 * x.nnz() as u64 + 8 * x.rows as u64));
            MemoryEstimate::gcn(&gcn, graph.num_nodes, bytes).check(memory::available_bytes())?;
        }
        let store = ParamStore::new(RunRng::stream(cfg.seed, 1));
        let encoder = GcnEncoder::new(store.var_builder(device).pp("encoder"), gcn)?;
        let model: PaperModel = match (cfg.model, cfg.adversarial) {
            (ModelKind::Gae, false) => Box::new(GraphAutoencoder::new(encoder, InnerProduct)),
            (ModelKind::Vgae, false) => {
                Box::new(VariationalGraphAutoencoder::new(encoder, InnerProduct))
            }
            (kind, true) => {
                // Its own stream, so the encoder's draws are those of the same run without it.
                let rng = RunRng::stream(cfg.seed, 2);
                let disc = DiscriminatorConfig::pyg(cfg.latent);
                let regulariser = AdversarialRegulariser::new(&disc, rng, device)?;
                match kind {
                    ModelKind::Gae => Box::new(Arga {
                        autoencoder: GraphAutoencoder::new(encoder, InnerProduct),
                        regulariser,
                    }),
                    ModelKind::Vgae => Box::new(Argva {
                        autoencoder: VariationalGraphAutoencoder::new(encoder, InnerProduct),
                        regulariser,
                    }),
                }
            }
        };
        let optimizer = Adam::new(store.params(), cfg.lr)?;
        let inner = LinkTrainer::new(
            model,
            optimizer,
            store.rng(),
            graph,
            split,
            cfg.fit_config(),
        )?;
        let mut t = GraphTrainer {
            cfg,
            inner,
            node_ids: graph.node_ids.clone(),
            best_path: None,
        };
        t.sync_config()?;
        Ok(t)
    }

    /// Carries changes to `cfg` (e.g. more epochs on resume) over to the trainer and its recorded config.
    pub fn sync_config(&mut self) -> Result<()> {
        self.inner.fit = self.cfg.fit_config();
        self.inner.run_config =
            serde_json::to_value(&self.cfg).map_err(|e| Error::msg(e.to_string()))?;
        Ok(())
    }
}

/// Makes the run's split from the seed (stream 0 of the run RNG).
pub fn make_split(graph: &Graph, cfg: &GraphTrainConfig) -> Result<EdgeSplit> {
    let mut rng = RunRng::stream(cfg.seed, 0);
    Ok(EdgeSplit::new(graph, &cfg.split, cfg.seed, &mut rng)?)
}

/// [`make_split`], refused when the validation or the test set is empty (their AUC would be NaN): what
/// every multi-run driver (Table 1, the tasks, grids) uses, so a graph too small fails its own cells only.
pub fn split_with_held_out(graph: &Graph, cfg: &GraphTrainConfig) -> Result<EdgeSplit> {
    let split = make_split(graph, cfg)?;
    for (what, n) in [
        ("validation", split.val_pos.len()),
        ("test", split.test_pos.len()),
    ] {
        if n == 0 {
            return Err(Error::msg(format!(
                "the {what} set is empty: {} has {} edges and the split holds out none of them",
                graph.name,
                graph.edges.len()
            )));
        }
    }
    Ok(split)
}

impl GraphTrainer {
    /// Trains up to `cfg.epochs` (continuing from `epoch`) like [`super::run::run`], and also records the
    /// graph's node-id table in every checkpoint (metadata key [`super::resume::NODE_IDS`]).
    pub fn run(
        &mut self,
        dir: Option<&std::path::Path>,
        on_epoch: impl FnMut(&EpochRecord),
    ) -> Result<GraphRunResult> {
        self.sync_config()?;
        let dir = dir.map(RunDir::create).transpose()?;
        self.best_path = match (&dir, self.cfg.keep_best) {
            (Some(d), true) => Some(d.join(BEST)),
            _ => None,
        };
        run_epochs(self, dir.as_ref(), on_epoch)
    }

    /// The epoch early stopping ended the run at (`cfg.patience` epochs without a better validation AUC),
    /// if it did.
    pub fn stopped_early(&self) -> Option<usize> {
        let best = self.inner.best.as_ref().map_or(0, |b| b.0);
        let p = self.cfg.patience;
        (p > 0 && self.inner.epoch < self.cfg.epochs && best + p <= self.inner.epoch)
            .then_some(self.inner.epoch)
    }
}

/// The best-validation checkpoint of a run directory (with `keep_best`).
pub const BEST: &str = "best.safetensors";

impl EpochTrainer for GraphTrainer {
    type Record = EpochRecord;
    type Output = GraphRunResult;
    fn epoch(&self) -> usize {
        self.inner.epoch
    }
    fn target_epochs(&self) -> usize {
        let best = self.inner.best.as_ref().map_or(0, |b| b.0);
        match self.cfg.patience {
            p if p > 0 && best + p <= self.inner.epoch => self.inner.epoch.min(self.cfg.epochs),
            _ => EpochTrainer::target_epochs(&self.inner),
        }
    }
    fn checkpoint_every(&self) -> (usize, usize) {
        EpochTrainer::checkpoint_every(&self.inner)
    }
    fn records(&self) -> &[EpochRecord] {
        &self.inner.records
    }
    fn config_json(&self) -> Result<serde_json::Value> {
        EpochTrainer::config_json(&self.inner)
    }
    fn write_inputs(&self, dir: &RunDir) -> Result<()> {
        EpochTrainer::write_inputs(&self.inner, dir)
    }
    fn train_epoch(&mut self) -> Result<()> {
        EpochTrainer::train_epoch(&mut self.inner)?;
        let improved = self
            .inner
            .best
            .as_ref()
            .is_some_and(|b| b.0 == self.inner.epoch);
        if let (Some(p), true) = (&self.best_path, improved) {
            self.inner
                .save_checkpoint_with_ids(p, self.node_ids.as_deref())?;
        }
        Ok(())
    }
    fn save_checkpoint(&self, path: &std::path::Path) -> Result<()> {
        self.inner
            .save_checkpoint_with_ids(path, self.node_ids.as_deref())
    }
    fn finish(&mut self, dir: Option<&RunDir>) -> Result<GraphRunResult> {
        EpochTrainer::finish(&mut self.inner, dir)
    }
}
