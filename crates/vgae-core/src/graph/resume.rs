//! Saving and restoring a link trainer exactly: parameters, optimiser state, RNG state, epoch, per-epoch
//! records and the best-validation snapshot, so that a resumed run continues bit for bit.

use super::model::LinkModel;
use super::train::{make_split, GraphTrainConfig, GraphTrainer};
use super::trainer::{EpochRecord, LinkTrainer};
use crate::checkpoint::{self, check_format, check_params};
use crate::metrics::LinkScores;
use crate::optim::Optimizer;
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::Device;
use std::collections::HashMap;
use std::path::Path;
use vgae_data::source::DataSource;
use vgae_data::{EdgeSplit, Graph};

/// The checkpoint format graph runs write and read.
pub const FORMAT: &str = "vgae-checkpoint/1";
/// The `kind` recorded in graph checkpoints.
pub const KIND: &str = "graph";
const OPT: &str = "optimizer.";

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::msg(e.to_string()))
}

fn field<'a>(path: &Path, meta: &'a HashMap<String, String>, k: &str) -> Result<&'a str> {
    meta.get(k).map(String::as_str).ok_or_else(|| {
        Error::msg(format!(
            "{}: checkpoint metadata lacks '{k}'",
            path.display()
        ))
    })
}

fn parse<T: serde::de::DeserializeOwned>(
    path: &Path,
    meta: &HashMap<String, String>,
    k: &str,
) -> Result<T> {
    serde_json::from_str(field(path, meta, k)?).map_err(|e| {
        Error::msg(format!(
            "{}: checkpoint metadata '{k}': {e}",
            path.display()
        ))
    })
}

impl<M: LinkModel, O: Optimizer> LinkTrainer<M, O> {
    /// Writes the trainer's whole state to `path` atomically (temporary file, fsync, rename).
    pub fn save_checkpoint(&self, path: &Path) -> Result<()> {
        let mut tensors: Vec<(String, candle_core::Tensor)> = self
            .optimizer
            .params()
            .iter()
            .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
            .collect();
        tensors.extend(
            self.optimizer
                .state()
                .into_iter()
                .map(|(n, x)| (format!("{OPT}{n}"), x)),
        );
        let meta: HashMap<String, String> = [
            (checkpoint::FORMAT_KEY, FORMAT.to_string()),
            ("kind", KIND.into()),
            ("config", json(&self.run_config)?),
            ("epoch", self.epoch.to_string()),
            ("optimizer_steps", self.optimizer.steps().to_string()),
            ("rng", self.rng.state()),
            ("dataset", self.split.dataset.clone()),
            ("dataset_fingerprint", self.split.fingerprint.clone()),
            ("split_hash", self.split.hash()),
            ("records", json(&self.records)?),
            ("best", json(&self.best)?),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        checkpoint::save(path, &tensors, &meta)
    }

    /// Restores the state saved by [`LinkTrainer::save_checkpoint`] into this trainer, which must hold the
    /// same model (the error lists every missing, unexpected or mis-shaped tensor) and the same graph. With
    /// `check_split`, the split must also be the one trained on.
    pub fn load_checkpoint(&mut self, path: &Path, check_split: bool) -> Result<()> {
        let dev = match self.optimizer.params().first() {
            Some((_, v)) => v.device().clone(),
            None => Device::Cpu,
        };
        let ck = checkpoint::load(path, &dev)?;
        let meta = &ck.metadata;
        check_format(path, meta, FORMAT, KIND)?;
        let fp = field(path, meta, "dataset_fingerprint")?;
        if fp != self.graph_fingerprint {
            return Err(Error::msg(format!(
                "{}: trained on dataset '{}' with fingerprint {fp}, but this graph has fingerprint {}",
                path.display(),
                field(path, meta, "dataset")?,
                self.graph_fingerprint
            )));
        }
        if check_split && self.split.hash() != field(path, meta, "split_hash")? {
            return Err(Error::msg(format!(
                "{}: the split found does not match the one the checkpoint was trained on",
                path.display()
            )));
        }
        let expected: Vec<(String, Vec<usize>)> = self
            .optimizer
            .params()
            .iter()
            .map(|(n, v)| (n.clone(), v.dims().to_vec()))
            .collect();
        check_params(path, &ck, &expected, OPT)?;
        for (n, v) in self.optimizer.params() {
            v.set(&ck.tensors[n])?;
        }
        let opt_state: HashMap<String, candle_core::Tensor> = ck
            .tensors
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(OPT).map(|s| (s.to_string(), v.clone())))
            .collect();
        let steps: u64 = field(path, meta, "optimizer_steps")?
            .parse()
            .map_err(|_| Error::msg(format!("{}: bad optimizer_steps", path.display())))?;
        self.optimizer
            .load_state(&opt_state, steps)
            .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
        self.rng = RunRng::from_state(field(path, meta, "rng")?)?;
        self.epoch = field(path, meta, "epoch")?
            .parse()
            .map_err(|_| Error::msg(format!("{}: bad epoch", path.display())))?;
        self.records = parse::<Vec<EpochRecord>>(path, meta, "records")?;
        self.best = parse::<Option<(usize, LinkScores, LinkScores)>>(path, meta, "best")?;
        Ok(())
    }
}

/// The run config a paper checkpoint was trained with (reads only the header).
pub fn checkpoint_config(path: &Path) -> Result<GraphTrainConfig> {
    let meta = checkpoint::load_metadata(path)?;
    check_format(path, &meta, FORMAT, KIND)?;
    parse(path, &meta, "config")
}

/// Rebuilds the paper trainer saved in `path` on `graph`, which must have the recorded fingerprint. The
/// split is `split` if given, else the run directory's `split.safetensors`, else the one the seed draws —
/// and, unless given explicitly, must match the recorded hash.
pub fn restore(
    path: &Path,
    graph: &Graph,
    split: Option<EdgeSplit>,
    device: &Device,
) -> Result<GraphTrainer> {
    let cfg = checkpoint_config(path)?;
    let meta = checkpoint::load_metadata(path)?;
    let fp = field(path, &meta, "dataset_fingerprint")?;
    if graph.fingerprint() != fp {
        return Err(Error::msg(format!(
            "{}: trained on dataset '{}' with fingerprint {fp}, but the data found now has fingerprint {}",
            path.display(),
            cfg.dataset,
            graph.fingerprint()
        )));
    }
    let explicit = split.is_some();
    let split = match split {
        Some(s) => s,
        None => {
            let beside = crate::rundir::run_dir_of(path).join("split.safetensors");
            if beside.is_file() {
                EdgeSplit::load(&beside)?
            } else {
                make_split(graph, &cfg)?
            }
        }
    };
    let mut t = GraphTrainer::new(cfg, graph, split, device)?;
    t.inner.load_checkpoint(path, !explicit)?;
    Ok(t)
}

/// [`restore`] with the graph loaded from `source` by the dataset name the checkpoint records.
pub fn restore_from(
    path: &Path,
    source: &DataSource,
    split: Option<EdgeSplit>,
    device: &Device,
) -> Result<GraphTrainer> {
    let cfg = checkpoint_config(path)?;
    let graph = source.load_graph(&cfg.dataset)?;
    restore(path, &graph, split, device)
}
