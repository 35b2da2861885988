//! Saving and restoring a link trainer exactly: parameters, optimiser state, RNG state, epoch, per-epoch
//! records and the best-validation snapshot, so that a resumed run continues bit for bit.

use super::model::LinkModel;
use super::train::{make_split, GraphTrainConfig, GraphTrainer};
use super::trainer::{EpochRecord, LinkTrainer};
use crate::checkpoint::{self, check_params};
use crate::metrics::LinkScores;
use crate::optim::Optimizer;
use crate::run_state::RunState;
use crate::{Error, Result};
use candle_core::Device;
use std::collections::HashMap;
use std::path::Path;
use vgae_data::source::DataSource;
use vgae_data::{EdgeSplit, Graph};

/// The checkpoint format graph runs write (the one every run writes).
pub use crate::run_state::FORMAT;
/// The `kind` recorded in graph checkpoints.
pub const KIND: &str = "graph";
const OPT: &str = "optimizer.";
/// Metadata key of the graph's node-id table (a JSON list of strings, `node_ids[i]` names node `i`), written
/// when the graph has one (edge lists).
pub const NODE_IDS: &str = "node_ids";
/// Metadata key of the step count of a model's own optimiser (ARGA's discriminator).
const OWN_STEPS: &str = "own_optimizer_steps";

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::msg(e.to_string()))
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| Error::msg(e.to_string()))
}

impl<M: LinkModel, O: Optimizer> LinkTrainer<M, O> {
    /// Writes the trainer's whole state to `path` atomically (temporary file, fsync, rename), in the format
    /// every run writes ([`crate::run_state`]).
    pub fn save_checkpoint(&self, path: &Path) -> Result<()> {
        self.save_checkpoint_with_ids(path, None)
    }

    /// [`LinkTrainer::save_checkpoint`], also recording the graph's node-id table under [`NODE_IDS`].
    pub fn save_checkpoint_with_ids(&self, path: &Path, node_ids: Option<&[String]>) -> Result<()> {
        let own = self.model.own_params();
        let (own_state, own_steps) = self.model.own_optimizer_state();
        let mut tensors: Vec<(String, candle_core::Tensor)> = self
            .optimizer
            .params()
            .iter()
            .chain(&own)
            .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
            .collect();
        tensors.extend(
            self.optimizer
                .state()
                .into_iter()
                .chain(own_state)
                .map(|(n, x)| (format!("{OPT}{n}"), x)),
        );
        let state = RunState {
            kind: KIND.into(),
            config: self.run_config.clone(),
            epoch: self.epoch,
            optimizer_steps: self.optimizer.steps(),
            rng: self.rng.clone(),
            dataset: self.split.dataset.clone(),
            dataset_fingerprint: Some(self.split.fingerprint.clone()),
            records: to_value(&self.records)?,
            extra: [
                ("split_hash".to_string(), self.split.hash()),
                ("best".to_string(), json(&self.best)?),
            ]
            .into_iter()
            .chain((!own.is_empty()).then(|| (OWN_STEPS.to_string(), own_steps.to_string())))
            .collect(),
        };
        let mut meta = state.to_metadata();
        if let Some(ids) = node_ids {
            meta.insert(NODE_IDS.to_string(), json(&ids)?);
        }
        checkpoint::save(path, &tensors, &meta)
    }

    /// Restores the state saved by [`LinkTrainer::save_checkpoint`] (or by an older build) into this trainer,
    /// which must hold the same model (the error lists every missing, unexpected or mis-shaped tensor) and
    /// the same graph. With `check_split`, the split must also be the one trained on.
    pub fn load_checkpoint(&mut self, path: &Path, check_split: bool) -> Result<()> {
        let dev = match self.optimizer.params().first() {
            Some((_, v)) => v.device().clone(),
            None => Device::Cpu,
        };
        let ck = checkpoint::load(path, &dev)?;
        let state = RunState::from_metadata(path, &ck.metadata, KIND)?;
        let fp = state.dataset_fingerprint.as_deref().unwrap_or("<none>");
        if fp != self.graph_fingerprint {
            return Err(Error::msg(format!(
                "{}: trained on dataset '{}' with fingerprint {fp}, but this graph has fingerprint {}",
                path.display(),
                state.dataset,
                self.graph_fingerprint
            )));
        }
        if check_split && self.split.hash() != state.extra(path, "split_hash")? {
            return Err(Error::msg(format!(
                "{}: the split found does not match the one the checkpoint was trained on",
                path.display()
            )));
        }
        let own = self.model.own_params();
        let expected: Vec<(String, Vec<usize>)> = self
            .optimizer
            .params()
            .iter()
            .chain(&own)
            .map(|(n, v)| (n.clone(), v.dims().to_vec()))
            .collect();
        check_params(path, &ck, &expected, OPT)?;
        for (n, v) in self.optimizer.params().iter().chain(&own) {
            v.set(&ck.tensors[n])?;
        }
        let opt_state: HashMap<String, candle_core::Tensor> = ck
            .tensors
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(OPT).map(|s| (s.to_string(), v.clone())))
            .collect();
        self.optimizer
            .load_state(&opt_state, state.optimizer_steps)
            .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
        if !own.is_empty() {
            let steps = state
                .extra(path, OWN_STEPS)?
                .parse()
                .map_err(|_| Error::msg(format!("{}: bad {OWN_STEPS}", path.display())))?;
            self.model
                .load_own_optimizer_state(&opt_state, steps)
                .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
        }
        self.rng = state.rng.clone();
        self.epoch = state.epoch;
        self.records = state.records_as::<Vec<EpochRecord>>(path)?;
        self.best = serde_json::from_str::<Option<(usize, LinkScores, LinkScores)>>(
            state.extra(path, "best")?,
        )
        .map_err(|e| {
            Error::msg(format!(
                "{}: checkpoint metadata 'best': {e}",
                path.display()
            ))
        })?;
        Ok(())
    }
}

/// The metadata of a graph checkpoint (reads only the header).
fn run_state(path: &Path) -> Result<RunState> {
    RunState::from_metadata(path, &checkpoint::load_metadata(path)?, KIND)
}

/// The run config a paper checkpoint was trained with (reads only the header).
pub fn checkpoint_config(path: &Path) -> Result<GraphTrainConfig> {
    run_state(path)?.config_as(path, None)
}

/// The node-id table a checkpoint records, if any (reads only the header).
pub fn checkpoint_node_ids(path: &Path) -> Result<Option<Vec<String>>> {
    let meta = checkpoint::load_metadata(path)?;
    meta.get(NODE_IDS)
        .map(|s| {
            serde_json::from_str(s).map_err(|e| {
                Error::msg(format!(
                    "{}: checkpoint metadata '{NODE_IDS}': {e}",
                    path.display()
                ))
            })
        })
        .transpose()
}

/// Rebuilds the paper trainer saved in `path` on `graph`, which must have the recorded fingerprint. The
/// split is `split` if given, else the run directory's `split.safetensors`, else the one the seed draws —
/// and, unless given explicitly, must match the recorded hash. A checkpoint written before node ids were
/// recorded is matched against the graph without its ids (their fingerprint then was the bare one's).
pub fn restore(
    path: &Path,
    graph: &Graph,
    split: Option<EdgeSplit>,
    device: &Device,
) -> Result<GraphTrainer> {
    let state = run_state(path)?;
    let cfg: GraphTrainConfig = state.config_as(path, None)?;
    let bare;
    let graph = if graph.node_ids.is_some() && !state.extra.contains_key(NODE_IDS) {
        bare = Graph {
            node_ids: None,
            ..graph.clone()
        };
        &bare
    } else {
        graph
    };
    let fp = state.dataset_fingerprint.as_deref().unwrap_or("<none>");
    if graph.fingerprint() != fp {
        return Err(Error::msg(format!(
            "{}: trained on dataset '{}' with fingerprint {fp}, but the data found now has fingerprint {} \
             (a different file, or the same file read with other options): refusing it",
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

/// Loads the graph a checkpoint was trained on: `dataset` if given (a name or an edge-list path, e.g. the
/// same file moved elsewhere), else the absolute path the checkpoint records, else its dataset name; an edge
/// list is read with the options recorded at training. [`restore`] then checks the fingerprint.
pub fn load_dataset(path: &Path, source: &DataSource, dataset: Option<&str>) -> Result<Graph> {
    let cfg = checkpoint_config(path)?;
    let opts = cfg.edge_list.clone().unwrap_or_default();
    let recorded = cfg.dataset_path.as_ref().and_then(|p| p.to_str());
    let name = dataset.or(recorded).unwrap_or(&cfg.dataset);
    source.load_graph_with(name, &opts).map_err(|e| match e {
        vgae_data::DataError::FileNotFound { .. } if dataset.is_none() => Error::msg(format!(
            "{e}: {} was trained on it; pass --dataset to point at where the file is now",
            path.display()
        )),
        e => e.into(),
    })
}

/// [`restore`] with the graph loaded by [`load_dataset`] (no override).
pub fn restore_from(
    path: &Path,
    source: &DataSource,
    split: Option<EdgeSplit>,
    device: &Device,
) -> Result<GraphTrainer> {
    restore_from_dataset(path, source, None, split, device)
}

/// [`restore`] with the graph loaded by [`load_dataset`], from `dataset` when given.
pub fn restore_from_dataset(
    path: &Path,
    source: &DataSource,
    dataset: Option<&str>,
    split: Option<EdgeSplit>,
    device: &Device,
) -> Result<GraphTrainer> {
    let graph = load_dataset(path, source, dataset)?;
    restore(path, &graph, split, device)
}
