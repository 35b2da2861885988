//! The metadata every run checkpoint carries, graph and VAE alike: one format version, a `kind`, and one set of
//! key names. Checkpoints in the older per-family formats are read through the same type.
//!
//! | key | holds |
//! |---|---|
//! | `format` | [`FORMAT`] |
//! | `kind` | `graph` or `vae` |
//! | `config` | the run's configuration (JSON; for a VAE `{"model": …, "train": …}`) |
//! | `epoch`, `optimizer_steps` | progress |
//! | `rng` | the run RNG's state (JSON) |
//! | `dataset`, `dataset_fingerprint` | what it was trained on |
//! | `records` | every completed epoch's metrics (JSON list) |
//! | anything else | kind-specific (graph: `split_hash`, `best`; VAE: `optimizer_state`) |

use crate::checkpoint::FORMAT_KEY;
use crate::rng::RunRng;
use crate::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// The checkpoint format this build writes, for every kind of run.
pub const FORMAT: &str = "vgae-checkpoint/2";
/// Older formats this build still reads: graph runs before the families were unified, and VAE runs
/// (`/1` had no kind, data fingerprint or records).
pub const LEGACY_FORMATS: [&str; 3] = ["vgae-checkpoint/1", "vgae-vae/1", "vgae-vae/2"];

const COMMON: [&str; 9] = [
    FORMAT_KEY,
    "kind",
    "config",
    "epoch",
    "optimizer_steps",
    "rng",
    "dataset",
    "dataset_fingerprint",
    "records",
];

/// The common part of a run checkpoint's metadata.
#[derive(Debug, Clone)]
pub struct RunState {
    /// `graph` or `vae`.
    pub kind: String,
    /// The run's configuration.
    pub config: serde_json::Value,
    /// Epochs completed.
    pub epoch: usize,
    /// Optimiser updates applied.
    pub optimizer_steps: u64,
    /// The run RNG, to continue its draws exactly.
    pub rng: RunRng,
    /// Dataset name (or path) trained on.
    pub dataset: String,
    /// Short hash of the data trained on (absent in the oldest VAE files).
    pub dataset_fingerprint: Option<String>,
    /// Every completed epoch's metrics (an empty list in the oldest VAE files).
    pub records: serde_json::Value,
    /// Kind-specific keys, as strings.
    pub extra: HashMap<String, String>,
}

/// The kind of run a checkpoint's metadata belongs to: its `kind`, or `vae` for the oldest VAE format that
/// recorded none.
pub fn kind_of(meta: &HashMap<String, String>) -> Option<&str> {
    match meta.get("kind") {
        Some(k) => Some(k.as_str()),
        None => meta
            .get(FORMAT_KEY)
            .filter(|f| f.starts_with("vgae-vae/"))
            .map(|_| "vae"),
    }
}

fn json(v: &serde_json::Value) -> String {
    v.to_string()
}

impl RunState {
    /// The metadata to write, in [`FORMAT`].
    pub fn to_metadata(&self) -> HashMap<String, String> {
        let mut m = self.extra.clone();
        for (k, v) in [
            (FORMAT_KEY, FORMAT.to_string()),
            ("kind", self.kind.clone()),
            ("config", json(&self.config)),
            ("epoch", self.epoch.to_string()),
            ("optimizer_steps", self.optimizer_steps.to_string()),
            ("rng", self.rng.state()),
            ("dataset", self.dataset.clone()),
            ("records", json(&self.records)),
        ] {
            m.insert(k.to_string(), v);
        }
        if let Some(f) = &self.dataset_fingerprint {
            m.insert("dataset_fingerprint".into(), f.clone());
        }
        m
    }

    /// Reads the metadata of `path` (any format this build reads), checking that it is a `kind` checkpoint.
    /// Errors name the file and the key that is missing or unreadable.
    pub fn from_metadata(path: &Path, meta: &HashMap<String, String>, kind: &str) -> Result<Self> {
        let bad = |m: String| Error::msg(format!("{}: {m}", path.display()));
        let format = meta.get(FORMAT_KEY).map(String::as_str).unwrap_or("<none>");
        if format != FORMAT && !LEGACY_FORMATS.contains(&format) {
            return Err(bad(format!(
                "checkpoint format '{format}', this build reads {FORMAT} and {} (a newer or foreign file?)",
                LEGACY_FORMATS.join(", ")
            )));
        }
        let got = kind_of(meta).unwrap_or("<none>");
        if got != kind {
            return Err(bad(format!(
                "this is a '{got}' checkpoint, expected a '{kind}' checkpoint"
            )));
        }
        let get = |k: &str| {
            meta.get(k)
                .map(String::as_str)
                .ok_or_else(|| bad(format!("checkpoint metadata lacks '{k}'")))
        };
        let parse = |k: &str, s: &str| -> Result<serde_json::Value> {
            serde_json::from_str(s).map_err(|e| bad(format!("checkpoint metadata '{k}': {e}")))
        };
        let vae_legacy = format.starts_with("vgae-vae/");
        let config = if vae_legacy {
            serde_json::json!({
                "model": parse("vae_config", get("vae_config")?)?,
                "train": parse("train_config", get("train_config")?)?,
            })
        } else {
            parse("config", get("config")?)?
        };
        let rng_key = if vae_legacy { "rng_state" } else { "rng" };
        let rng = RunRng::from_state(get(rng_key)?).map_err(|e| bad(e.to_string()))?;
        let number = |k: &str| -> Result<u64> {
            get(k)?
                .parse()
                .map_err(|e| bad(format!("checkpoint metadata '{k}': {e}")))
        };
        let records = match meta.get("records") {
            Some(r) => parse("records", r)?,
            None if vae_legacy => serde_json::json!([]),
            None => return Err(bad("checkpoint metadata lacks 'records'".into())),
        };
        let legacy_keys = ["vae_config", "train_config", "rng_state"];
        Ok(RunState {
            kind: kind.to_string(),
            config,
            epoch: number("epoch")? as usize,
            optimizer_steps: number("optimizer_steps")?,
            rng,
            dataset: meta.get("dataset").cloned().unwrap_or_default(),
            dataset_fingerprint: meta.get("dataset_fingerprint").cloned(),
            records,
            extra: meta
                .iter()
                .filter(|(k, _)| {
                    !COMMON.contains(&k.as_str()) && !legacy_keys.contains(&k.as_str())
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    /// A kind-specific key, or an error naming it.
    pub fn extra(&self, path: &Path, key: &str) -> Result<&str> {
        self.extra.get(key).map(String::as_str).ok_or_else(|| {
            Error::msg(format!(
                "{}: checkpoint metadata lacks '{key}'",
                path.display()
            ))
        })
    }

    /// Deserialises `config` (or the part of it a caller names), naming the file on error.
    pub fn config_as<T: serde::de::DeserializeOwned>(
        &self,
        path: &Path,
        part: Option<&str>,
    ) -> Result<T> {
        let v = match part {
            Some(p) => self
                .config
                .get(p)
                .cloned()
                .unwrap_or(serde_json::Value::Null),
            None => self.config.clone(),
        };
        let what = part.map_or("config".to_string(), |p| format!("config.{p}"));
        serde_json::from_value(v).map_err(|e| {
            Error::msg(format!(
                "{}: checkpoint metadata '{what}': {e}",
                path.display()
            ))
        })
    }

    /// Deserialises `records`, naming the file on error.
    pub fn records_as<T: serde::de::DeserializeOwned>(&self, path: &Path) -> Result<T> {
        serde_json::from_value(self.records.clone()).map_err(|e| {
            Error::msg(format!(
                "{}: checkpoint metadata 'records': {e}",
                path.display()
            ))
        })
    }
}
