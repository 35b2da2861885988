//! Training: data on the device, a seeded epoch loop, and exact checkpoints (parameters + optimiser state +
//! RNG state).

use super::config::{OptimizerKind, TrainConfig, VaeConfig};
use super::model::{to_torch_layout, Vae};
use crate::checkpoint;
use crate::optim::{Adagrad, Adam, Optimizer};
use crate::rng::RunRng;
use crate::run_state::RunState;
use crate::{Error, Result};
use candle_core::{DType, Device, Tensor};
use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use vgae_data::images::ImageDataset;

/// A dataset ready for training: pixels / 255 as f32 `[n, h·w]` on the device.
pub struct VaeData {
    /// Dataset name.
    pub name: String,
    /// Image height in pixels.
    pub height: usize,
    /// Image width in pixels.
    pub width: usize,
    /// Training images `[n_train, h·w]`.
    pub train: Tensor,
    /// Test images `[n_test, h·w]` (binarised once when training binarises).
    pub test: Tensor,
    /// Training pixels as bytes, kept on the host for per-epoch dynamic binarisation.
    pub train_u8: Vec<u8>,
    /// Test labels, where the dataset has them (for the z = 2 scatter).
    pub test_labels: Option<Vec<u8>>,
    /// Training images kept.
    pub n_train: usize,
    /// Test images.
    pub n_test: usize,
    /// A short hash of the images used (the training images kept and the test set): ties checkpoints to
    /// their data.
    pub fingerprint: String,
}

/// FNV-1a (64 bit) over the image sizes and pixels: stable across builds and platforms.
fn fingerprint(
    h: usize,
    w: usize,
    train: &[u8],
    n_train: usize,
    test: &[u8],
    n_test: usize,
) -> String {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            x ^= b as u64;
            x = x.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for v in [h, w, n_train, n_test] {
        eat(&(v as u64).to_le_bytes());
    }
    eat(train);
    eat(test);
    format!("{x:016x}")
}

pub use vgae_data::images::frey_is_test;

impl VaeData {
    /// Uploads a dataset. `train_limit` > 0 keeps only the first images; `binarize` binarises the test set once
    /// with `eval_seed` (the training set is re-binarised every epoch by the trainer).
    pub fn new(ds: &ImageDataset, cfg: &TrainConfig, dev: &Device) -> Result<Self> {
        let hw = ds.pixels_per_image();
        let (mut train, test) = match &ds.test {
            Some(t) => (ds.train.clone(), t.clone()),
            None => (
                ds.train.select(hw, |i| !frey_is_test(i)),
                ds.train.select(hw, frey_is_test),
            ),
        };
        if cfg.train_limit > 0 && cfg.train_limit < train.n {
            train = train.select(hw, |i| i < cfg.train_limit);
        }
        if train.n == 0 || test.n == 0 {
            return Err(Error::msg(format!(
                "dataset {} has {} training and {} test images",
                ds.name, train.n, test.n
            )));
        }
        let up = |px: &[u8], n: usize| -> Result<Tensor> {
            let v: Vec<f32> = px.iter().map(|&p| p as f32 / 255.0).collect();
            Ok(Tensor::from_vec(v, (n, hw), dev)?)
        };
        let test_t = if cfg.binarize {
            let mut r = RunRng::new(cfg.eval_seed ^ 0xb1a5);
            let v: Vec<f32> = test
                .pixels
                .iter()
                .map(|&p| binarize_px(p, &mut r))
                .collect();
            Tensor::from_vec(v, (test.n, hw), dev)?
        } else {
            up(&test.pixels, test.n)?
        };
        let fingerprint = fingerprint(
            ds.height,
            ds.width,
            &train.pixels,
            train.n,
            &test.pixels,
            test.n,
        );
        Ok(VaeData {
            fingerprint,
            name: ds.name.clone(),
            height: ds.height,
            width: ds.width,
            train: up(&train.pixels, train.n)?,
            test: test_t,
            train_u8: train.pixels,
            test_labels: test.labels,
            n_train: train.n,
            n_test: test.n,
        })
    }
}

fn binarize_px(p: u8, r: &mut RunRng) -> f32 {
    if r.0.random::<f32>() < p as f32 / 255.0 {
        1.0
    } else {
        0.0
    }
}

/// Per-epoch numbers, one line of `metrics.jsonl`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct EpochMetrics {
    /// Epochs completed.
    pub epoch: usize,
    /// Mean −ELBO per image over the epoch's training batches (nats).
    pub train_neg_elbo: f64,
    /// −ELBO per test image with fixed evaluation noise (nats).
    pub test_neg_elbo: f64,
    /// The reconstruction part of the test −ELBO (nats per image).
    pub test_recon: f64,
    /// The KL part of the test −ELBO (nats per image).
    pub test_kl: f64,
    /// Seconds spent in the training steps of this epoch.
    pub seconds: f64,
    /// Seconds spent evaluating after it.
    pub eval_seconds: f64,
}

/// Receives progress; every method has a no-op default.
pub trait Progress {
    /// A sweep starts the run of latent size `z`.
    fn run_start(&mut self, _z: usize) {}
    /// Epoch `epoch` (1-based) starts, with `steps` batches.
    fn epoch_start(&mut self, _epoch: usize, _steps: usize) {}
    /// Called every few steps with the running mean −ELBO per image.
    fn step(&mut self, _step: usize, _running: f64) {}
    /// An epoch ended and was evaluated.
    fn epoch_end(&mut self, _m: &EpochMetrics) {}
}

/// Reports nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// A VAE under training: model, optimiser, the run's RNG and its record.
pub struct Trainer {
    /// The model.
    pub model: Vae,
    /// Adagrad or Adam over the model's parameters.
    pub opt: Box<dyn Optimizer + Send>,
    /// Init, shuffling, binarisation and reparametrisation noise.
    pub rng: RunRng,
    /// The architecture.
    pub vae_cfg: VaeConfig,
    /// The training settings.
    pub cfg: TrainConfig,
    /// Epochs completed.
    pub epoch: usize,
    /// The metrics of every completed epoch (restored on resume, so a run's record is whole).
    pub records: Vec<EpochMetrics>,
    /// Fingerprint of the data trained on ([`VaeData::fingerprint`]), recorded in checkpoints when known.
    pub data_fingerprint: Option<String>,
}

fn make_opt(kind: OptimizerKind, model: &Vae, lr: f64) -> Result<Box<dyn Optimizer + Send>> {
    Ok(match kind {
        OptimizerKind::Adagrad => Box::new(Adagrad::new(model.params(), lr)?),
        OptimizerKind::Adam => Box::new(Adam::new(model.params(), lr)?),
    })
}

/// Candle detaches the gradients of intermediate nodes but not those of the variables, which keep an op
/// linking them to the step's whole forward graph. An optimiser state built from them (`sum + g²`) would then
/// chain every step's graph to the next: about 25 MB per MNIST step, an OOM within two epochs. Detach them.
pub fn detached_grads(
    mut grads: candle_core::backprop::GradStore,
    params: &crate::optim::Params,
) -> candle_core::backprop::GradStore {
    for (_, v) in params {
        if let Some(g) = grads.remove(v.as_tensor()) {
            grads.insert(v.as_tensor(), g.detach());
        }
    }
    grads
}

/// How often (in steps) the running loss is read back to the host for progress.
const REPORT_EVERY: usize = 50;

impl Trainer {
    /// A fresh model; the run's RNG is seeded with `cfg.seed` and initialises the weights first.
    pub fn new(vae_cfg: &VaeConfig, cfg: &TrainConfig, dev: &Device) -> Result<Self> {
        if cfg.batch_size == 0 {
            return Err(Error::msg("batch size must be positive"));
        }
        let mut rng = RunRng::new(cfg.seed);
        let model = Vae::new(vae_cfg, &mut rng, dev)?;
        let opt = make_opt(cfg.optimizer, &model, cfg.lr)?;
        Ok(Trainer {
            model,
            opt,
            rng,
            vae_cfg: vae_cfg.clone(),
            cfg: cfg.clone(),
            epoch: 0,
            records: Vec::new(),
            data_fingerprint: None,
        })
    }

    /// One pass over the (shuffled) training set; returns the mean −ELBO per image.
    pub fn train_epoch(&mut self, data: &VaeData, progress: &mut dyn Progress) -> Result<f64> {
        let dev = data.train.device().clone();
        let n = data.n_train;
        let bs = self.cfg.batch_size;
        let steps = n.div_ceil(bs);
        progress.epoch_start(self.epoch + 1, steps);
        let mut perm: Vec<u32> = (0..n as u32).collect();
        perm.shuffle(&mut self.rng.0);
        let perm = Tensor::from_vec(perm, n, &dev)?;
        let x = if self.cfg.binarize {
            let v: Vec<f32> = data
                .train_u8
                .iter()
                .map(|&p| binarize_px(p, &mut self.rng))
                .collect();
            Tensor::from_vec(v, data.train.shape(), &dev)?
        } else {
            data.train.clone()
        };
        let params = self.model.params();
        let mut acc = Tensor::zeros((), DType::F32, &dev)?;
        for s in 0..steps {
            let start = s * bs;
            let len = bs.min(n - start);
            let xb = x.index_select(&perm.narrow(0, start, len)?, 0)?;
            let eps = self.rng.normal(&[len, self.vae_cfg.z], &dev)?;
            let fast = match dev.is_cpu() {
                true => {
                    let (x, e) = (
                        xb.flatten_all()?.to_vec1::<f32>()?,
                        eps.flatten_all()?.to_vec1::<f32>()?,
                    );
                    let (model, opt, params) = (&self.model, &mut self.opt, &params);
                    // On a pool thread, so the step's parallel loops don't each hand off from this thread.
                    rayon::scope(|_| -> Result<Option<f32>> {
                        let Some((loss, grads)) = model.fast_grads(&x, &e, len)? else {
                            return Ok(None);
                        };
                        let mut store = candle_core::backprop::GradStore::default();
                        for ((_, v), g) in params.iter().zip(grads) {
                            store.insert(v.as_tensor(), g);
                        }
                        opt.step(&store)?;
                        Ok(Some(loss))
                    })?
                }
                false => None,
            };
            let loss = match fast {
                Some(loss) => Tensor::new(loss, &dev)?,
                None => {
                    let (ne, _, _) = self.model.neg_elbo(&xb, &eps)?;
                    let loss = ne.sum_all()?;
                    let grads = detached_grads(loss.backward()?, &params);
                    self.opt.step(&grads)?;
                    loss.detach()
                }
            };
            acc = (acc + loss)?;
            if (s + 1) % REPORT_EVERY == 0 || s + 1 == steps {
                let seen = (start + len) as f64;
                let v = acc.to_scalar::<f32>()? as f64 / seen;
                if !v.is_finite() {
                    return Err(Error::NonFinite {
                        epoch: self.epoch + 1,
                        what: "training −ELBO".into(),
                        value: v,
                    });
                }
                progress.step(s + 1, v);
            }
        }
        self.epoch += 1;
        Ok(acc.to_scalar::<f32>()? as f64 / n as f64)
    }

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
