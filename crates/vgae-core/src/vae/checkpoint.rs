//! VAE checkpoints: parameters in PyTorch's names and `[out, in]` layout, optimiser state, and the run state
//! every run records ([`crate::run_state`]); the VAE formats written before the families were unified still
//! read.

use super::config::{TrainConfig, VaeConfig};
use super::data::VaeData;
use super::model::{to_torch_layout, Vae};
use super::train::{EpochMetrics, Trainer};
use crate::checkpoint;
use crate::rng::RunRng;
use crate::run_state::RunState;
use crate::{Error, Result};
use candle_core::{Device, Tensor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

impl Trainer {
    /// Writes a checkpoint atomically (temporary file, fsync, rename): parameters (PyTorch names and
    /// `[out, in]` layout), optimiser state (`optimizer.<param>.<slot>`) and, as metadata, the format version,
    /// kind "vae", both configs, the epoch, the optimiser step count, the RNG state, the dataset and its
    /// fingerprint and the per-epoch records.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.write(path, true)
    }

    /// Like [`Trainer::save`] without the optimiser state (half the size): enough for `eval` and `sample`,
    /// not for resuming.
    pub fn save_params_only(&self, path: &Path) -> Result<()> {
        self.write(path, false)
    }

    fn write(&self, path: &Path, with_optimizer: bool) -> Result<()> {
        let mut tensors = self.model.export()?;
        if with_optimizer {
            for (n, t) in self.opt.state() {
                tensors.push((format!("{OPT}{n}"), to_torch_layout(&t)?));
            }
        }
        let to_value = |v: &dyn erased::Ser| v.value();
        let state = RunState {
            kind: KIND.into(),
            config: serde_json::json!({ "model": to_value(&self.vae_cfg), "train": to_value(&self.cfg) }),
            epoch: self.epoch,
            optimizer_steps: self.opt.steps(),
            rng: self.rng.clone(),
            dataset: self.cfg.dataset.clone(),
            dataset_fingerprint: self.data_fingerprint.clone(),
            records: to_value(&self.records),
            extra: [(
                "optimizer_state".to_string(),
                if with_optimizer { "included" } else { "none" }.to_string(),
            )]
            .into(),
        };
        checkpoint::save(path, &tensors, &state.to_metadata())
    }

    /// Restores a trainer saved by [`Trainer::save`], ready to continue exactly where it stopped.
    pub fn load(path: &Path, dev: &Device) -> Result<Self> {
        let ck = Checkpoint::read(path, dev)?;
        if !ck.has_optimizer {
            return Err(Error::msg(format!(
                "{}: holds the parameters only (no optimiser state), so it cannot be resumed; \
                 `vgae eval` and `vgae sample` work with it",
                path.display()
            )));
        }
        let mut t = Trainer::new(&ck.vae_cfg, &ck.train_cfg, dev)?;
        t.model.load(&ck.tensors)?;
        let opt_state: HashMap<String, Tensor> = ck
            .tensors
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix(OPT)
                    .map(|s| Ok((s.to_string(), to_torch_layout(v)?)))
            })
            .collect::<Result<_>>()?;
        t.opt
            .load_state(&opt_state, ck.optimizer_steps)
            .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
        t.rng = ck.rng;
        t.epoch = ck.epoch;
        t.records = ck.records;
        t.data_fingerprint = ck.fingerprint;
        Ok(t)
    }
}

/// The checkpoint format this build writes (the one every run writes, [`crate::run_state`]).
pub use crate::run_state::FORMAT;
/// Formats this build reads: [`FORMAT`] and the VAE formats before the families were unified
/// (`vgae-vae/1` had no kind, dataset fingerprint or records).
pub const READS: [&str; 3] = ["vgae-vae/1", "vgae-vae/2", FORMAT];
/// The `kind` recorded in VAE checkpoints.
pub const KIND: &str = "vae";
const OPT: &str = "optimizer.";

/// A checkpoint's contents.
pub struct Checkpoint {
    /// The file read.
    pub path: PathBuf,
    /// The architecture.
    pub vae_cfg: VaeConfig,
    /// The training settings.
    pub train_cfg: TrainConfig,
    /// Epochs completed.
    pub epoch: usize,
    /// Optimiser updates applied.
    pub optimizer_steps: u64,
    /// The run RNG's state.
    pub rng: RunRng,
    /// Per-epoch metrics up to `epoch` (empty in format 1).
    pub records: Vec<EpochMetrics>,
    /// Fingerprint of the data trained on (absent in format 1).
    pub fingerprint: Option<String>,
    /// Whether the optimiser state is included (not in parameters-only files).
    pub has_optimizer: bool,
    /// Parameters (PyTorch layout) and optimiser state.
    pub tensors: HashMap<String, Tensor>,
    /// All of the file's metadata.
    pub metadata: HashMap<String, String>,
}

impl Checkpoint {
    /// Reads and checks a VAE checkpoint: a truncated or corrupt file, another kind of checkpoint, a newer
    /// format, missing metadata or tensors that do not fit the recorded configuration are errors naming the
    /// file (and every missing, unexpected or mis-shaped tensor).
    pub fn read(path: &Path, dev: &Device) -> Result<Self> {
        let raw = checkpoint::load(path, dev)?;
        let state = RunState::from_metadata(path, &raw.metadata, KIND)?;
        let vae_cfg: VaeConfig = state.config_as(path, Some("model"))?;
        let train_cfg: TrainConfig = state.config_as(path, Some("train"))?;
        let records = state.records_as(path)?;
        let (epoch, optimizer_steps, rng) = (state.epoch, state.optimizer_steps, state.rng.clone());
        let has_optimizer = raw.tensors.keys().any(|k| k.starts_with(OPT));
        let ck = Checkpoint {
            path: path.to_path_buf(),
            vae_cfg,
            train_cfg,
            epoch,
            optimizer_steps,
            rng,
            records,
            fingerprint: state.dataset_fingerprint.clone(),
            has_optimizer,
            tensors: raw.tensors,
            metadata: raw.metadata,
        };
        ck.fits(&ck.vae_cfg)?;
        Ok(ck)
    }

    /// Checks that the parameters fit a model of configuration `cfg`; the error lists every missing,
    /// unexpected and mis-shaped tensor.
    pub fn fits(&self, cfg: &VaeConfig) -> Result<()> {
        let raw = checkpoint::Checkpoint {
            tensors: self.tensors.clone(),
            metadata: HashMap::new(),
        };
        checkpoint::check_params(&self.path, &raw, &Vae::param_shapes(cfg), OPT)
    }

    /// Checks that `data` is the data the checkpoint was trained on (when its fingerprint was recorded).
    pub fn check_data(&self, data: &VaeData) -> Result<()> {
        match &self.fingerprint {
            Some(f) if *f != data.fingerprint => Err(Error::msg(format!(
                "{}: trained on dataset '{}'{} with fingerprint {f}, but the data found now ('{}', {} training \
                 and {} test images) has fingerprint {}",
                self.path.display(),
                self.train_cfg.dataset,
                if self.train_cfg.train_limit > 0 {
                    format!(" (first {} training images)", self.train_cfg.train_limit)
                } else {
                    String::new()
                },
                data.name,
                data.n_train,
                data.n_test,
                data.fingerprint
            ))),
            _ => Ok(()),
        }
    }

    /// Writes a copy without the optimiser state (atomically); everything else, metadata included, is kept.
    pub fn save_params_only(&self, path: &Path) -> Result<()> {
        let mut tensors: Vec<(String, Tensor)> = self
            .tensors
            .iter()
            .filter(|(k, _)| !k.starts_with(OPT))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        let mut meta = self.metadata.clone();
        meta.insert("optimizer_state".into(), "none".into());
        checkpoint::save(path, &tensors, &meta)
    }

    /// The model stored in the checkpoint.
    pub fn model(&self, dev: &Device) -> Result<Vae> {
        self.model_as(&self.vae_cfg, dev)
    }

    /// The stored parameters loaded into a model of configuration `cfg` (an error listing the tensors that
    /// do not fit, if any).
    pub fn model_as(&self, cfg: &VaeConfig, dev: &Device) -> Result<Vae> {
        self.fits(cfg)?;
        let m = Vae::new(cfg, &mut RunRng::new(0), dev)?;
        m.load(&self.tensors)?;
        Ok(m)
    }
}

mod erased {
    pub trait Ser {
        fn value(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize> Ser for T {
        fn value(&self) -> serde_json::Value {
            // Configs and records are plain structs of numbers and strings: they always serialise.
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}
