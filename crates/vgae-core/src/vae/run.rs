//! A whole training run written to a run directory, and the z sweep.
//!
//! Run directory (the layout of every run, [`crate::run_loop`]): `config.json`, `metrics.jsonl` (one
//! [`EpochMetrics`] per line), `curves.png`, `samples.png` (8 × 8 draws from the prior), `reconstructions.png`
//! (rows alternate test inputs and their reconstructions), `model.safetensors`, `result.json`, and for
//! z = 2 `manifold.png` and `latent_scatter.png`; with `checkpoint_every` > 0 also periodic checkpoints in
//! `checkpoints/` and a `checkpoints/latest` pointer, from which a killed run resumes.

use super::config::{TrainConfig, VaeConfig};
use super::eval;
use super::train::{Checkpoint, EpochMetrics, Progress, Trainer, VaeData};
use crate::plot::{charts, Panel};
use crate::rng::RunRng;
use crate::run_loop::{run_epochs, EpochTrainer};
use crate::rundir::RunDir;
use crate::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// A finished VAE run's numbers, as `result.json` holds them.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    /// Dataset name.
    pub dataset: String,
    /// Latent size.
    pub z: usize,
    /// Epochs completed.
    pub epochs: usize,
    /// Test −ELBO per image after the last epoch (nats, fixed evaluation noise).
    pub test_neg_elbo: f64,
    /// Mean training −ELBO per image of the last epoch (nats).
    pub train_neg_elbo: f64,
    /// IWAE estimate of −log p(x) per test image (nats), when computed.
    pub iwae_nll: Option<f64>,
    /// Importance samples per image of the IWAE estimate.
    pub iwae_k: Option<usize>,
    /// Test images the IWAE estimate averages over (the first ones).
    pub iwae_images: Option<usize>,
    /// Seconds in training steps, all epochs together (evaluation excluded).
    pub train_seconds: f64,
    /// Training seconds of each epoch.
    pub epoch_seconds: Vec<f64>,
    /// Every epoch's metrics.
    pub metrics: Vec<EpochMetrics>,
    /// The run directory, when one was written.
    pub out: Option<PathBuf>,
}

/// Evaluation batch for the test −ELBO.
const EVAL_BATCH: usize = 1000;
/// Decoder rows per IWAE chunk.
const IWAE_ROWS: usize = 20_000;

/// The final checkpoint of a run directory (the same name for every kind of run).
pub use crate::run_loop::FINAL;
/// The final checkpoint's name in VAE run directories written before the families were unified.
pub const LEGACY_FINAL: &str = "checkpoint.safetensors";
pub use super::plots::{
    curve_png, manifold_png, reconstructions_png, sample_checkpoint, sample_images, samples_png,
    scatter_png,
};
pub use crate::rundir::{run_dir_of, CHECKPOINT_DIR};

/// Trains for `cfg.epochs`, evaluating after every epoch; writes the run directory when `out` is given.
pub fn train_run(
    vcfg: &VaeConfig,
    cfg: &TrainConfig,
    data: &VaeData,
    out: Option<&Path>,
    progress: &mut dyn Progress,
) -> Result<RunSummary> {
    let dev = data.train.device().clone();
    let mut t = Trainer::new(vcfg, cfg, &dev)?;
    continue_run(&mut t, data, out, progress)
}

/// Trains `t` from `t.epoch` up to `t.cfg.epochs` (a fresh trainer or one restored from a checkpoint) through
/// the shared epoch loop, evaluating after every epoch and writing periodic checkpoints; then writes the run
/// directory's final files when `out` is given. A resumed run ends bit-identical to an uninterrupted one on
/// CPU.
pub fn continue_run(
    t: &mut Trainer,
    data: &VaeData,
    out: Option<&Path>,
    progress: &mut dyn Progress,
) -> Result<RunSummary> {
    match &t.data_fingerprint {
        Some(f) if *f != data.fingerprint => {
            return Err(Error::msg(format!(
                "the trainer was trained on data with fingerprint {f}, this data has {}",
                data.fingerprint
            )))
        }
        _ => t.data_fingerprint = Some(data.fingerprint.clone()),
    }
    let dir = out.map(RunDir::create).transpose()?;
    let mut run = VaeRun { t, data, progress };
    run_epochs(&mut run, dir.as_ref(), |_| {})
}

/// A VAE trainer with its data, as the shared epoch loop drives it.
struct VaeRun<'a> {
    t: &'a mut Trainer,
    data: &'a VaeData,
    progress: &'a mut dyn Progress,
}

impl EpochTrainer for VaeRun<'_> {
    type Record = EpochMetrics;
    type Output = RunSummary;
    fn epoch(&self) -> usize {
        self.t.epoch
    }
    fn target_epochs(&self) -> usize {
        self.t.cfg.epochs
    }
    fn checkpoint_every(&self) -> (usize, usize) {
        (self.t.cfg.checkpoint_every, self.t.cfg.keep_last)
    }
    fn records(&self) -> &[EpochMetrics] {
        &self.t.records
    }
    fn config_json(&self) -> Result<serde_json::Value> {
        let (t, d) = (&self.t, self.data);
        Ok(
            serde_json::json!({"model": t.vae_cfg, "train": t.cfg, "n_train": d.n_train,
            "n_test": d.n_test, "device": format!("{:?}", d.train.device())}),
        )
    }
    fn train_epoch(&mut self) -> Result<()> {
        let (t, data) = (&mut *self.t, self.data);
        let t0 = Instant::now();
        let train = t.train_epoch(data, self.progress)?;
        let secs = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let (te, tr, tk) = eval::neg_elbo(&t.model, &data.test, EVAL_BATCH, t.cfg.eval_seed)?;
        if !te.is_finite() {
            return Err(Error::NonFinite {
                epoch: t.epoch,
                what: "test −ELBO".into(),
                value: te,
            });
        }
        let m = EpochMetrics {
            epoch: t.epoch,
            train_neg_elbo: train,
            test_neg_elbo: te,
            test_recon: tr,
            test_kl: tk,
            seconds: secs,
            eval_seconds: t1.elapsed().as_secs_f64(),
        };
        self.progress.epoch_end(&m);
        t.records.push(m);
        Ok(())
    }
    fn save_checkpoint(&self, path: &Path) -> Result<()> {
        self.t.save(path)
    }
    fn finish(&mut self, dir: Option<&RunDir>) -> Result<RunSummary> {
        let (t, data) = (&*self.t, self.data);
        let (vcfg, cfg) = (&t.vae_cfg, &t.cfg);
        let (iwae, iwae_n) = if cfg.iwae_k > 0 {
            let n = cfg.iwae_n.min(data.n_test);
            let x = data.test.narrow(0, 0, n)?;
            let progress = &mut *self.progress;
            let nll = eval::iwae_nll_with(
                &t.model,
                &x,
                cfg.iwae_k,
                cfg.eval_seed,
                IWAE_ROWS,
                &mut |d, n| progress.iwae(d, n),
            )?;
            (Some(nll), Some(n))
        } else {
            (None, None)
        };
        let metrics = t.records.clone();
        let last = metrics.last();
        let summary = RunSummary {
            dataset: data.name.clone(),
            z: vcfg.z,
            epochs: t.epoch,
            test_neg_elbo: last.map_or(f64::NAN, |m| m.test_neg_elbo),
            train_neg_elbo: last.map_or(f64::NAN, |m| m.train_neg_elbo),
            iwae_nll: iwae,
            iwae_k: iwae.map(|_| cfg.iwae_k),
            iwae_images: iwae_n,
            train_seconds: metrics.iter().map(|m| m.seconds).sum(),
            epoch_seconds: metrics.iter().map(|m| m.seconds).collect(),
            metrics: metrics.clone(),
            out: dir.map(|d| d.path().to_path_buf()),
        };
        if let Some(o) = dir {
            let title = format!("{} VAE, z = {}", data.name, vcfg.z);
            curve_png(&o.join("curves.png"), &title, &metrics)?;
            let mut rng = RunRng::new(cfg.eval_seed ^ 0x5a5a);
            samples_png(&t.model, &o.join("samples.png"), 64, &mut rng)?;
            reconstructions_png(&t.model, &data.test, &o.join("reconstructions.png"))?;
            if vcfg.z == 2 {
                manifold_png(&t.model, &o.join("manifold.png"), 20)?;
                scatter_png(&t.model, data, &o.join("latent_scatter.png"))?;
            }
        }
        Ok(summary)
    }
}

/// The checkpoint to resume a VAE run from (see [`crate::rundir::find_checkpoint`]).
pub fn find_checkpoint(path: &Path) -> Result<PathBuf> {
    crate::rundir::find_checkpoint(path, &[FINAL, LEGACY_FINAL])
}

/// Evaluates a checkpoint on `data` (which must be the data it was trained on): test −ELBO with the fixed
/// evaluation noise, as `(−ELBO, reconstruction NLL, KL)` — the numbers its last epoch recorded.
pub fn eval_checkpoint(ck: &Checkpoint, data: &VaeData) -> Result<(f64, f64, f64)> {
    ck.check_data(data)?;
    let model = ck.model(data.test.device())?;
    eval::neg_elbo(&model, &data.test, EVAL_BATCH, ck.train_cfg.eval_seed)
}

/// One sweep entry.
#[derive(Debug, Clone, Serialize)]
pub struct SweepEntry {
    /// Latent size.
    pub z: usize,
    /// The run's numbers.
    pub summary: RunSummary,
}

/// The seed's experiment: one run per z into `out/z<z>`, then `out/sweep.png` (train and test −ELBO curves of
/// every z) and `out/sweep.md` (final values).
pub fn sweep(
    base: &VaeConfig,
    cfg: &TrainConfig,
    zs: &[usize],
    data: &VaeData,
    out: &Path,
    progress: &mut dyn Progress,
) -> Result<Vec<SweepEntry>> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut entries = Vec::new();
    for &z in zs {
        let v = VaeConfig { z, ..base.clone() };
        progress.run_start(z);
        let s = train_run(&v, cfg, data, Some(&out.join(format!("z{z}"))), progress)?;
        entries.push(SweepEntry { z, summary: s });
    }
    let series = |f: fn(&EpochMetrics) -> f64| -> Vec<(String, Vec<(f64, f64)>)> {
        entries
            .iter()
            .map(|e| {
                (
                    format!("z={}", e.z),
                    e.summary
                        .metrics
                        .iter()
                        .map(|m| (m.epoch as f64, f(m)))
                        .collect(),
                )
            })
            .collect()
    };
    // MNIST on the lecture's axes (100 to 150 nats), so the plots compare with its figure.
    let y_range = (data.name == "mnist").then_some((100.0, 150.0));
    charts(
        &out.join("sweep.png"),
        &[
            Panel {
                title: format!("{}: train -ELBO", data.name),
                x_label: "epoch".into(),
                y_label: "nats per image".into(),
                series: series(|m| m.train_neg_elbo),
                scatter: false,
                y_range,
                ..Default::default()
            },
            Panel {
                title: format!("{}: test -ELBO", data.name),
                x_label: "epoch".into(),
                y_label: "nats per image".into(),
                series: series(|m| m.test_neg_elbo),
                scatter: false,
                y_range,
                ..Default::default()
            },
        ],
        640,
        480,
    )?;
    std::fs::write(out.join("sweep.md"), sweep_table(&entries))
        .map_err(|e| Error::io(out.join("sweep.md"), e))?;
    Ok(entries)
}

/// The sweep's final numbers as a markdown table (`sweep.md`).
pub fn sweep_table(entries: &[SweepEntry]) -> String {
    let mut s = String::from("| z | epochs | train -ELBO | test -ELBO | IWAE -log p(x) | train seconds |\n| --- | --- | --- | --- | --- | --- |\n");
    for e in entries {
        let r = &e.summary;
        let iw = r.iwae_nll.map_or("-".to_string(), |v| {
            format!("{v:.2} (k={})", r.iwae_k.unwrap_or(0))
        });
        s += &format!(
            "| {} | {} | {:.2} | {:.2} | {} | {:.1} |\n",
            e.z, r.epochs, r.train_neg_elbo, r.test_neg_elbo, iw, r.train_seconds
        );
    }
    s
}
