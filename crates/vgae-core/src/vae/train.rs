//! Training: a seeded epoch loop over minibatches (all noise from the run's [`RunRng`]): the hand-derived
//! lockstep CPU step for Bernoulli decoders, the hand-derived device step on CUDA (both decoders), autograd
//! elsewhere. Data preparation is in [`super::data`], checkpoints in
//! [`super::checkpoint`].

use super::config::{Algorithm, OptimizerKind, TrainConfig, VaeConfig};
use super::data::binarize_px;
use super::model::Vae;
use super::wake_sleep::WakeSleepNoise;
use crate::optim::{Adagrad, Adam, Optimizer};
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor};
use rand::seq::SliceRandom;

pub use super::checkpoint::{Checkpoint, FORMAT, KIND, READS};
pub use super::data::{frey_is_test, VaeData};

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
    /// The IWAE pass after training has scored `done` of `total` test images.
    fn iwae(&mut self, _done: usize, _total: usize) {}
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

pub use crate::optim::detached as detached_grads;

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
            let bits = data.train_u8.iter().map(|&p| binarize_px(p, &mut self.rng));
            match dev.is_cpu() {
                true => Tensor::from_vec(bits.collect::<Vec<f32>>(), data.train.shape(), &dev)?,
                // A quarter of the bytes to upload; 0 and 1 convert exactly.
                false => Tensor::from_vec(
                    bits.map(|b| b as u8).collect::<Vec<u8>>(),
                    data.train.shape(),
                    &dev,
                )?
                .to_dtype(DType::F32)?,
            }
        } else {
            data.train.clone()
        };
        // The epoch's reparameterisation noise in one draw: the values one draw per step would give, in the
        // same order (nothing else draws between the steps), uploaded once.
        let eps_all = match self.cfg.algorithm {
            Algorithm::WakeSleep => None,
            Algorithm::Aevb => Some(self.rng.normal(&[n, self.vae_cfg.z], &dev)?),
        };
        let params = self.model.params();
        let wd = self.cfg.weight_decay;
        // On CUDA the hand-derived device step, unless VGAE_VAE_STEP=autograd asks for the path before it.
        let device_step =
            dev.is_cuda() && std::env::var("VGAE_VAE_STEP").as_deref() != Ok("autograd");
        let mut acc = Tensor::zeros((), DType::F32, &dev)?;
        for s in 0..steps {
            let start = s * bs;
            let len = bs.min(n - start);
            let xb = x.index_select(&perm.narrow(0, start, len)?, 0)?;
            let Some(eps_all) = &eps_all else {
                let noise = WakeSleepNoise::draw(&self.model, len, &mut self.rng)?;
                let l = self.model.wake_sleep_losses(&xb, &noise)?;
                let grads = detached_grads((&l.wake + &l.sleep)?.backward()?, &params);
                self.opt.step(&decayed(grads, &params, wd)?)?;
                acc = (acc + l.neg_elbo)?;
                self.report(s, steps, start + len, &acc, progress)?;
                continue;
            };
            let eps = eps_all.narrow(0, start, len)?;
            let fast = if dev.is_cpu() {
                let (x, e) = (
                    xb.flatten_all()?.to_vec1::<f32>()?,
                    eps.flatten_all()?.to_vec1::<f32>()?,
                );
                let (model, opt, params) = (&self.model, &mut self.opt, &params);
                // On a pool thread, so the step's parallel loops don't each hand off from this thread.
                rayon::scope(|_| -> Result<Option<Tensor>> {
                    let Some((loss, grads)) = model.fast_grads(&x, &e, len)? else {
                        return Ok(None);
                    };
                    opt.step(&decayed(grad_store(params, grads), params, wd)?)?;
                    Ok(Some(Tensor::new(loss, &dev)?))
                })?
            } else if device_step {
                // The hand-derived step on the device: the loss stays there until `report` reads it.
                let (loss, grads) = self.model.device_grads(&xb, &eps)?;
                self.opt
                    .step(&decayed(grad_store(&params, grads), &params, wd)?)?;
                Some(loss)
            } else {
                None
            };
            let loss = match fast {
                Some(loss) => loss,
                None => {
                    let (ne, _, _) = self.model.neg_elbo(&xb, &eps)?;
                    let loss = ne.sum_all()?;
                    let grads = detached_grads(loss.backward()?, &params);
                    self.opt.step(&decayed(grads, &params, wd)?)?;
                    loss.detach()
                }
            };
            acc = (acc + loss)?;
            self.report(s, steps, start + len, &acc, progress)?;
        }
        self.epoch += 1;
        Ok(acc.to_scalar::<f32>()? as f64 / n as f64)
    }

    /// Every [`REPORT_EVERY`] steps and at the last one: the running −ELBO per image to `progress`, and an
    /// error if it is no longer finite.
    fn report(
        &self,
        s: usize,
        steps: usize,
        seen: usize,
        acc: &Tensor,
        progress: &mut dyn Progress,
    ) -> Result<()> {
        if (s + 1).is_multiple_of(REPORT_EVERY) || s + 1 == steps {
            let v = acc.to_scalar::<f32>()? as f64 / seen as f64;
            if !v.is_finite() {
                return Err(Error::NonFinite {
                    epoch: self.epoch + 1,
                    what: format!("the running training −ELBO at step {} of {steps}", s + 1),
                    value: v,
                });
            }
            progress.step(s + 1, v);
        }
        Ok(())
    }
}

/// Hand-derived gradients (in `params` order) as the store an optimiser takes.
fn grad_store(params: &crate::optim::Params, grads: Vec<Tensor>) -> GradStore {
    let mut store = GradStore::default();
    for ((_, v), g) in params.iter().zip(grads) {
        store.insert(v.as_tensor(), g);
    }
    store
}

/// `grads` with `λ θ` added for every parameter θ (a Gaussian prior on the parameters); unchanged for λ = 0.
fn decayed(mut grads: GradStore, params: &crate::optim::Params, lambda: f64) -> Result<GradStore> {
    if lambda == 0.0 {
        return Ok(grads);
    }
    for (_, v) in params {
        if let Some(g) = grads.get(v.as_tensor()) {
            let g = (g + (v.as_tensor() * lambda)?)?;
            grads.insert(v.as_tensor(), g);
        }
    }
    Ok(grads)
}
