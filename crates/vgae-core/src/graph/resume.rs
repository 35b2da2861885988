//! Saving and restoring a GAE / VGAE trainer exactly: parameters, Adam state, RNG state, epoch, per-epoch
//! records and the best-validation snapshot, so that a resumed run continues bit for bit.

use super::train::{make_split, EpochRecord, GraphTrainConfig, GraphTrainer};
use crate::checkpoint::{self, check_format, check_params};
use crate::metrics::LinkScores;
use crate::optim::Optimizer;
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::Device;
use std::collections::HashMap;
use std::path::Path;
use vgae_data::source::DataSource;
use vgae_data::EdgeSplit;

pub const FORMAT: &str = "vgae-checkpoint/1";
pub const KIND: &str = "graph";
const OPT: &str = "optimizer.";

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("serialisable")
}

pub fn save_checkpoint(t: &GraphTrainer, path: &Path) -> Result<()> {
    let mut tensors: Vec<(String, candle_core::Tensor)> = t
        .model
        .encoder
        .params()
        .into_iter()
        .map(|(n, v)| (n, v.as_tensor().clone()))
        .collect();
    tensors.extend(
        t.optimizer
            .state()
            .into_iter()
            .map(|(n, x)| (format!("{OPT}{n}"), x)),
    );
    let meta: HashMap<String, String> = [
        (checkpoint::FORMAT_KEY, FORMAT.to_string()),
        ("kind", KIND.into()),
        ("config", json(&t.cfg)),
        ("epoch", t.epoch.to_string()),
        ("optimizer_steps", t.optimizer.steps().to_string()),
        ("rng", t.rng.state()),
        ("dataset", t.split.dataset.clone()),
        ("dataset_fingerprint", t.split.fingerprint.clone()),
        ("split_hash", t.split.hash()),
        ("records", json(&t.records)),
        ("best", json(&t.best)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    checkpoint::save(path, &tensors, &meta)
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

/// Rebuilds the trainer saved in `path`. The dataset is loaded from `source` and must have the recorded
/// fingerprint; the split is `split` if given, else the run directory's `split.safetensors`, else the one the
/// seed draws — and, unless given explicitly, must match the recorded hash.
pub fn restore(
    path: &Path,
    source: &DataSource,
    split: Option<EdgeSplit>,
    device: &Device,
) -> Result<GraphTrainer> {
    let ck = checkpoint::load(path, device)?;
    let meta = &ck.metadata;
    check_format(path, meta, FORMAT, KIND)?;
    let cfg: GraphTrainConfig = parse(path, meta, "config")?;
    let graph = source.load_graph(&cfg.dataset)?;
    let fp = field(path, meta, "dataset_fingerprint")?;
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
            let beside = super::run::run_dir_of(path).join("split.safetensors");
            if beside.is_file() {
                EdgeSplit::load(&beside)?
            } else {
                make_split(&graph, &cfg)?
            }
        }
    };
    let want_hash = field(path, meta, "split_hash")?;
    if !explicit && split.hash() != want_hash {
        return Err(Error::msg(format!(
            "{}: the split found does not match the one the checkpoint was trained on",
            path.display()
        )));
    }
    let mut t = GraphTrainer::new(cfg, &graph, split, device)?;
    let params = t.model.encoder.params();
    let expected: Vec<(String, Vec<usize>)> = params
        .iter()
        .map(|(n, v)| (n.clone(), v.dims().to_vec()))
        .collect();
    check_params(path, &ck, &expected, OPT)?;
    for (n, v) in &params {
        v.set(&ck.tensors[n])?;
    }
    let opt_state: HashMap<String, candle_core::Tensor> = ck
        .tensors
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(OPT).map(|s| (s.to_string(), v.clone())))
        .collect();
    let steps: u64 = field(path, meta, "optimizer_steps")?
        .parse()
        .map_err(|_| Error::msg("bad optimizer_steps"))?;
    t.optimizer.load_state(&opt_state, steps)?;
    t.rng = RunRng::from_state(field(path, meta, "rng")?)?;
    t.epoch = field(path, meta, "epoch")?
        .parse()
        .map_err(|_| Error::msg(format!("{}: bad epoch", path.display())))?;
    t.records = parse::<Vec<EpochRecord>>(path, meta, "records")?;
    t.best = parse::<Option<(usize, LinkScores, LinkScores)>>(path, meta, "best")?;
    Ok(t)
}
