//! The paper's GAE / VGAE trainer: the GCN encoder and inner-product decoder built from one serde config,
//! trained with full-batch Adam by the generic [`LinkTrainer`].

use super::decoder::InnerProduct;
use super::gcn::{GcnConfig, GcnEncoder};
use super::model::{GraphAutoencoder, LinkModel, LossKind, ModelKind, VariationalGraphAutoencoder};
use super::trainer::{FitConfig, LinkTrainer};
use crate::optim::Adam;
use crate::params::ParamStore;
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::Device;
use serde::{Deserialize, Serialize};
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

/// The paper's model, GAE or VGAE as the config says.
pub type PaperModel = Box<dyn LinkModel + Send>;

/// The paper's trainer: a [`LinkTrainer`] of the GCN autoencoder built from a [`GraphTrainConfig`].
/// Dereferences to the [`LinkTrainer`] (`step`, `embed`, `records`, ...).
pub struct GraphTrainer {
    /// The run's configuration (`config.json`).
    pub cfg: GraphTrainConfig,
    /// The generic trainer doing the work.
    pub inner: LinkTrainer<PaperModel, Adam>,
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
            hidden: vec![cfg.hidden],
            latent: cfg.latent,
            dropout: cfg.dropout,
            ..GcnConfig::paper(graph, cfg.features, variational)
        };
        let store = ParamStore::new(RunRng::stream(cfg.seed, 1));
        let encoder = GcnEncoder::new(store.var_builder(device).pp("encoder"), gcn)?;
        let model: PaperModel = match cfg.model {
            ModelKind::Gae => Box::new(GraphAutoencoder::new(encoder, InnerProduct)),
            ModelKind::Vgae => Box::new(VariationalGraphAutoencoder::new(encoder, InnerProduct)),
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
        let mut t = GraphTrainer { cfg, inner };
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
