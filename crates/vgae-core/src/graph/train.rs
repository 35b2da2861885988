//! The paper's GAE / VGAE trainer: the GCN encoder and the configured decoder built from one serde config
//! ([`GraphTrainConfig`]), trained with full-batch Adam by the generic [`LinkTrainer`].

use super::adversarial::{AdversarialRegulariser, Arga, Argva, DiscriminatorConfig};
use super::gcn::{GcnConfig, GcnEncoder};
use super::memory::{self, MemoryEstimate};
use super::model::{GraphAutoencoder, LinkModel, ModelKind, VariationalGraphAutoencoder};
pub use super::train_config::GraphTrainConfig;
use super::trainer::{EpochRecord, GraphRunResult, LinkTrainer};
use crate::optim::Adam;
use crate::params::ParamStore;
use crate::rng::RunRng;
use crate::run_loop::{run_epochs, EpochTrainer};
use crate::rundir::RunDir;
use crate::{Error, Result};
use candle_core::Device;
use vgae_data::{EdgeSplit, Graph};

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
        cfg.decoder.check_latent(cfg.latent)?;
        let variational = cfg.model == ModelKind::Vgae;
        let gcn = GcnConfig {
            hidden: cfg.hidden_widths(),
            latent: cfg.latent,
            dropout: cfg.dropout,
            bias: cfg.bias,
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
        let decoder = cfg.decoder();
        let model: PaperModel = match (cfg.model, cfg.adversarial) {
            (ModelKind::Gae, false) => Box::new(GraphAutoencoder::new(encoder, decoder)),
            (ModelKind::Vgae, false) => {
                Box::new(VariationalGraphAutoencoder::new(encoder, decoder))
            }
            (kind, true) => {
                // Its own stream, so the encoder's draws are those of the same run without it.
                let rng = RunRng::stream(cfg.seed, 2);
                let disc = DiscriminatorConfig::pyg(cfg.latent);
                let regulariser = AdversarialRegulariser::new(&disc, rng, device)?;
                match kind {
                    ModelKind::Gae => Box::new(Arga {
                        autoencoder: GraphAutoencoder::new(encoder, decoder),
                        regulariser,
                    }),
                    ModelKind::Vgae => Box::new(Argva {
                        autoencoder: VariationalGraphAutoencoder::new(encoder, decoder),
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
    fn agree_stop(&self, requested: bool) -> Result<bool> {
        self.inner.agree_stop(requested)
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
