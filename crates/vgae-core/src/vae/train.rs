//! Training: data on the device, a seeded epoch loop, and exact checkpoints (parameters + optimiser state +
//! RNG state).

use super::config::{OptimizerKind, TrainConfig, VaeConfig};
use super::model::{to_torch_layout, Vae};
use crate::optim::{Adagrad, Adam, Optimizer};
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::{DType, Device, Tensor};
use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::HashMap;
use std::path::Path;
use vgae_data::images::ImageDataset;

/// A dataset ready for training: pixels / 255 as f32 `[n, h·w]` on the device.
pub struct VaeData {
    pub name: String,
    pub height: usize,
    pub width: usize,
    pub train: Tensor,
    pub test: Tensor,
    /// Training pixels as bytes, kept on the host for per-epoch dynamic binarisation.
    pub train_u8: Vec<u8>,
    pub test_labels: Option<Vec<u8>>,
    pub n_train: usize,
    pub n_test: usize,
}

/// Frey Face has no official test split: every 10th image (index ≡ 9 mod 10) is held out, 196 of 1965.
pub fn frey_is_test(i: usize) -> bool {
    i % 10 == 9
}

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
        Ok(VaeData {
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
    pub epoch: usize,
    /// Mean −ELBO per image over the epoch's training batches (nats).
    pub train_neg_elbo: f64,
    /// −ELBO per test image with fixed evaluation noise (nats).
    pub test_neg_elbo: f64,
    pub test_recon: f64,
    pub test_kl: f64,
    /// Seconds spent in the training steps of this epoch.
    pub seconds: f64,
    pub eval_seconds: f64,
}

/// Receives progress; every method has a no-op default.
pub trait Progress {
    /// A sweep starts the run of latent size `z`.
    fn run_start(&mut self, _z: usize) {}
    fn epoch_start(&mut self, _epoch: usize, _steps: usize) {}
    /// Called every few steps with the running mean −ELBO per image.
    fn step(&mut self, _step: usize, _running: f64) {}
    fn epoch_end(&mut self, _m: &EpochMetrics) {}
}

pub struct NoProgress;
impl Progress for NoProgress {}

pub struct Trainer {
    pub model: Vae,
    pub opt: Box<dyn Optimizer>,
    pub rng: RunRng,
    pub vae_cfg: VaeConfig,
    pub cfg: TrainConfig,
    /// Epochs completed.
    pub epoch: usize,
}

fn make_opt(kind: OptimizerKind, model: &Vae, lr: f64) -> Result<Box<dyn Optimizer>> {
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
            let (ne, _, _) = self.model.neg_elbo(&xb, &eps)?;
            let loss = ne.sum_all()?;
            let grads = detached_grads(loss.backward()?, &params);
            self.opt.step(&grads)?;
            acc = (acc + loss.detach())?;
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

    /// Writes parameters (PyTorch names and `[out, in]` layout), optimiser state (`optimizer.<param>.<slot>`) and, as metadata, both
    /// configs, the epoch, the optimiser step count and the RNG state.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors = self.model.export()?;
        for (n, t) in self.opt.state() {
            tensors.push((format!("optimizer.{n}"), to_torch_layout(&t)?));
        }
        let mut meta = HashMap::new();
        let js = |v: &dyn erased::Ser| v.json();
        meta.insert("format".to_string(), "vgae-vae/1".to_string());
        meta.insert("vae_config".to_string(), js(&self.vae_cfg));
        meta.insert("train_config".to_string(), js(&self.cfg));
        meta.insert("epoch".to_string(), self.epoch.to_string());
        meta.insert("optimizer_steps".to_string(), self.opt.steps().to_string());
        meta.insert("rng_state".to_string(), self.rng.state());
        let bytes = safetensors::serialize(tensors, Some(meta)).map_err(|e| {
            Error::msg(format!(
                "{}: cannot serialise checkpoint: {e}",
                path.display()
            ))
        })?;
        std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
    }

    /// Restores a trainer saved by [`Trainer::save`], ready to continue exactly where it stopped.
    pub fn load(path: &Path, dev: &Device) -> Result<Self> {
        let ck = Checkpoint::read(path, dev)?;
        let mut t = Trainer::new(&ck.vae_cfg, &ck.train_cfg, dev)?;
        t.model.load(&ck.tensors)?;
        let opt_state: HashMap<String, Tensor> = ck
            .tensors
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("optimizer.")
                    .map(|s| Ok((s.to_string(), to_torch_layout(v)?)))
            })
            .collect::<Result<_>>()?;
        t.opt.load_state(&opt_state, ck.optimizer_steps)?;
        t.rng = ck.rng;
        t.epoch = ck.epoch;
        Ok(t)
    }
}

/// A checkpoint's contents.
pub struct Checkpoint {
    pub vae_cfg: VaeConfig,
    pub train_cfg: TrainConfig,
    pub epoch: usize,
    pub optimizer_steps: u64,
    pub rng: RunRng,
    pub tensors: HashMap<String, Tensor>,
}

impl Checkpoint {
    pub fn read(path: &Path, dev: &Device) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let bad = |m: String| {
            Error::msg(format!(
                "{}: not a vgae VAE checkpoint: {m}",
                path.display()
            ))
        };
        let (_, st_meta) =
            safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| bad(e.to_string()))?;
        let meta = st_meta
            .metadata()
            .clone()
            .ok_or_else(|| bad("no metadata".into()))?;
        let get = |k: &str| {
            meta.get(k)
                .cloned()
                .ok_or_else(|| bad(format!("metadata lacks '{k}'")))
        };
        if get("format")? != "vgae-vae/1" {
            return Err(bad(format!("format is '{}'", get("format")?)));
        }
        let vae_cfg: VaeConfig =
            serde_json::from_str(&get("vae_config")?).map_err(|e| bad(e.to_string()))?;
        let train_cfg: TrainConfig =
            serde_json::from_str(&get("train_config")?).map_err(|e| bad(e.to_string()))?;
        let epoch = get("epoch")?
            .parse()
            .map_err(|e| bad(format!("epoch: {e}")))?;
        let optimizer_steps = get("optimizer_steps")?
            .parse()
            .map_err(|e| bad(format!("optimizer_steps: {e}")))?;
        let rng = RunRng::from_state(&get("rng_state")?)?;
        let tensors = candle_core::safetensors::load_buffer(&bytes, dev)?;
        Ok(Checkpoint {
            vae_cfg,
            train_cfg,
            epoch,
            optimizer_steps,
            rng,
            tensors,
        })
    }

    /// The model stored in the checkpoint.
    pub fn model(&self, dev: &Device) -> Result<Vae> {
        let m = Vae::new(&self.vae_cfg, &mut RunRng::new(0), dev)?;
        m.load(&self.tensors)?;
        Ok(m)
    }
}

mod erased {
    pub trait Ser {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Ser for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("config serialises")
        }
    }
}
