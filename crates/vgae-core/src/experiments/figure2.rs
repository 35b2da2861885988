//! Kingma & Welling (2014), Figure 2: AEVB against wake-sleep, the estimated average lower bound per
//! datapoint (train and test) against the number of training samples evaluated, one panel per latent size.
//!
//! The protocol of the paper's Section 5: encoder and decoder with one hidden layer of equal size (500 tanh
//! units for MNIST, 200 for Frey Face, whose decoder is Gaussian with sigmoid means), every parameter drawn
//! from N(0, 0.01²), the N(0, I) prior on the parameters as weight decay, Adagrad with the global step size
//! chosen from a list by the training bound after the first epochs (a pilot per step size; the chosen pilot
//! continues), minibatches of 100 with one sample per datapoint. Both algorithms' bounds are AEVB's estimator
//! with fixed noise, so the curves are comparable.
//!
//! Output directory: `config.json`; `points.jsonl` (every pilot and curve point); `curves/<algo>-z<N>` checkpoints
//! saved at every point, from which a killed run resumes each curve where it stopped; `figure2.png`.

use crate::plot::{charts, Panel};
use crate::vae::train::{NoProgress, Trainer, VaeData};
use crate::vae::{eval, Algorithm, Arch, Likelihood, OptimizerKind, TrainConfig, VaeConfig};
use crate::{Error, Result};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

/// What a Figure 2 run draws; saved as `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure2Config {
    /// `mnist` or `frey`.
    pub dataset: String,
    /// Latent sizes N_z, one panel each.
    pub latents: Vec<usize>,
    /// Hidden units of the encoder's and of the decoder's one hidden layer.
    pub hidden: usize,
    /// Training epochs of every curve (the x range is epochs × training images).
    pub epochs: usize,
    /// Adagrad step sizes tried by the pilots.
    pub lrs: Vec<f64>,
    /// Epochs of each pilot.
    pub pilot_epochs: usize,
    /// Training and test images the bound is estimated on (the first ones of each set).
    pub eval_images: usize,
    /// Images per minibatch.
    pub batch_size: usize,
    /// Seed of every curve's run RNG.
    pub seed: u64,
}

impl Figure2Config {
    /// The paper's settings for `dataset` (MNIST: N_z ∈ {3, 5, 10, 20, 200}, 500 hidden units; Frey Face:
    /// N_z ∈ {2, 5, 10, 20}, 200 hidden units) over `epochs` epochs.
    pub fn paper(dataset: &str, epochs: usize) -> Result<Self> {
        let (latents, hidden) = match dataset {
            "mnist" => (vec![3, 5, 10, 20, 200], 500),
            "frey" => (vec![2, 5, 10, 20], 200),
            _ => {
                return Err(Error::msg(format!(
                    "figure 2 is drawn for mnist or frey, not '{dataset}'"
                )))
            }
        };
        Ok(Figure2Config {
            dataset: dataset.into(),
            latents,
            hidden,
            epochs,
            lrs: vec![0.01, 0.02, 0.1],
            pilot_epochs: 1,
            eval_images: 10_000,
            batch_size: 100,
            seed: 0,
        })
    }
}

/// One estimate of the bound along a curve (a line of `points.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// AEVB or wake-sleep.
    pub algorithm: Algorithm,
    /// Latent size.
    pub z: usize,
    /// The curve's Adagrad step size.
    pub lr: f64,
    /// A pilot's point (one per step size) rather than the curve's.
    pub pilot: bool,
    /// Epochs trained.
    pub epoch: usize,
    /// Training samples evaluated: epochs × training images.
    pub samples: u64,
    /// Estimated average lower bound per training datapoint (nats).
    pub train_bound: f64,
    /// The same on test images.
    pub test_bound: f64,
    /// Seconds spent training this curve up to here (the pilot included).
    pub seconds: f64,
}

/// The epochs at which a curve is evaluated: 1, then ×1.5 (rounded up, at least +1), and the last.
pub fn schedule(epochs: usize) -> Vec<usize> {
    let mut out = vec![];
    let mut e = 1usize;
    while e < epochs {
        out.push(e);
        e = (e + 1).max((e as f64 * 1.5).ceil() as usize);
    }
    out.push(epochs.max(1));
    out
}

fn algo_name(a: Algorithm) -> &'static str {
    match a {
        Algorithm::Aevb => "aevb",
        Algorithm::WakeSleep => "wake-sleep",
    }
}

/// The model and training settings of one curve.
fn configs(
    cfg: &Figure2Config,
    data: &VaeData,
    algorithm: Algorithm,
    z: usize,
    lr: f64,
) -> (VaeConfig, TrainConfig) {
    let lik = if cfg.dataset == "frey" {
        Likelihood::Gaussian
    } else {
        Likelihood::Bernoulli
    };
    let mut v = VaeConfig::new(Arch::Paper, data.height, data.width, z, lik);
    v.hidden = vec![cfg.hidden];
    let t = TrainConfig {
        dataset: cfg.dataset.clone(),
        epochs: cfg.epochs,
        batch_size: cfg.batch_size,
        lr,
        optimizer: OptimizerKind::Adagrad,
        seed: cfg.seed,
        iwae_k: 0,
        algorithm,
        weight_decay: cfg.batch_size as f64 / data.n_train as f64,
        ..TrainConfig::default()
    };
    (v, t)
}

/// The bounds of `t` on the first `eval_images` training and test images (fixed evaluation noise).
fn bounds(t: &Trainer, data: &VaeData, n: usize) -> Result<(f64, f64)> {
    let tr = data.train.narrow(0, 0, n.min(data.n_train))?;
    let te = data.test.narrow(0, 0, n.min(data.n_test))?;
    let (a, _, _) = eval::neg_elbo(&t.model, &tr, 1000, t.cfg.eval_seed)?;
    let (b, _, _) = eval::neg_elbo(&t.model, &te, 1000, t.cfg.eval_seed)?;
    Ok((-a, -b))
}

/// Runs (or resumes) every curve of `cfg` on `data` into `out`, calling `on_point` for each new point;
/// returns all points. Curves run one after the other; each is checkpointed at every point.
pub fn run(
    cfg: &Figure2Config,
    data: &VaeData,
    out: &Path,
    mut on_point: impl FnMut(&Point),
) -> Result<Vec<Point>> {
    let cfg_path = out.join("config.json");
    std::fs::create_dir_all(out.join("curves"))
        .map_err(|e| Error::msg(format!("{}: {e}", out.display())))?;
    if cfg_path.is_file() {
        let old: Figure2Config = serde_json::from_slice(
            &std::fs::read(&cfg_path)
                .map_err(|e| Error::msg(format!("{}: {e}", cfg_path.display())))?,
        )
        .map_err(|e| Error::msg(format!("{}: {e}", cfg_path.display())))?;
        if (Figure2Config {
            epochs: cfg.epochs,
            ..old.clone()
        }) != *cfg
        {
            return Err(Error::msg(format!(
                "{} holds a figure with other settings ({}): use another --out",
                out.display(),
                serde_json::to_string(&old).unwrap_or_default()
            )));
        }
    }
    write_json(&cfg_path, cfg)?;
    let points_path = out.join("points.jsonl");
    let mut points: Vec<Point> = match std::fs::read_to_string(&points_path) {
        Ok(s) => s
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect(),
        Err(_) => vec![],
    };
    let dev = data.train.device().clone();
    let when = schedule(cfg.epochs);
    for &z in &cfg.latents {
        for algorithm in [Algorithm::Aevb, Algorithm::WakeSleep] {
            let ck = out
                .join("curves")
                .join(format!("{}-z{z}.safetensors", algo_name(algorithm)));
            let same = |p: &Point| p.algorithm == algorithm && p.z == z;
            let (mut t, mut seconds) = if ck.is_file() {
                let t = Trainer::load(&ck, &dev)?;
                // Points written after the checkpoint (a kill between the two) are dropped and redone.
                points.retain(|p| !same(p) || p.pilot || p.epoch <= t.epoch);
                let s = points
                    .iter()
                    .filter(|p| same(p))
                    .map(|p| p.seconds)
                    .fold(0.0, f64::max);
                // And the checkpoint's own point, if the kill came before it was logged.
                let logged = points
                    .iter()
                    .any(|p| same(p) && !p.pilot && p.epoch == t.epoch);
                if !logged && when.contains(&t.epoch) {
                    let p = point(&t, data, cfg, false, s)?;
                    record(p, &mut points, &points_path, &mut on_point)?;
                }
                (t, s)
            } else {
                points.retain(|p| !same(p));
                let (t, s) = pilot(cfg, data, algorithm, z, &dev, &mut points, &mut on_point)?;
                // The chosen pilot's last point starts the curve.
                if when.contains(&t.epoch) {
                    let p = point(&t, data, cfg, false, s)?;
                    t.save(&ck)?;
                    record(p, &mut points, &points_path, &mut on_point)?;
                }
                (t, s)
            };
            t.cfg.epochs = cfg.epochs;
            while t.epoch < cfg.epochs {
                let t0 = Instant::now();
                t.train_epoch(data, &mut NoProgress)?;
                seconds += t0.elapsed().as_secs_f64();
                if when.contains(&t.epoch) {
                    let p = point(&t, data, cfg, false, seconds)?;
                    t.save(&ck)?;
                    record(p, &mut points, &points_path, &mut on_point)?;
                }
            }
        }
    }
    plot(cfg, &points, &out.join("figure2.png"))?;
    Ok(points)
}

/// Trains a pilot per step size for `pilot_epochs` and keeps the one with the best training bound (a
/// diverging pilot is dropped). Returns it with its training seconds (all pilots').
fn pilot(
    cfg: &Figure2Config,
    data: &VaeData,
    algorithm: Algorithm,
    z: usize,
    dev: &Device,
    points: &mut Vec<Point>,
    on_point: &mut impl FnMut(&Point),
) -> Result<(Trainer, f64)> {
    let mut best: Option<(Trainer, f64)> = None;
    let mut seconds = 0.0;
    for &lr in &cfg.lrs {
        let (v, tc) = configs(cfg, data, algorithm, z, lr);
        let mut t = Trainer::new(&v, &tc, dev)?;
        let t0 = Instant::now();
        let ok = (0..cfg.pilot_epochs)
            .try_for_each(|_| t.train_epoch(data, &mut NoProgress).map(|_| ()));
        seconds += t0.elapsed().as_secs_f64();
        if let Err(Error::NonFinite { .. }) = ok {
            continue;
        }
        ok?;
        let p = point(&t, data, cfg, true, seconds)?;
        on_point(&p);
        let b = p.train_bound;
        points.push(p);
        if b.is_finite() && best.as_ref().is_none_or(|(_, bb)| b > *bb) {
            best = Some((t, b));
        }
    }
    let (t, _) = best.ok_or_else(|| {
        Error::msg(format!(
            "{} z={z}: every step size in {:?} diverged",
            algo_name(algorithm),
            cfg.lrs
        ))
    })?;
    Ok((t, seconds))
}

fn point(
    t: &Trainer,
    data: &VaeData,
    cfg: &Figure2Config,
    pilot: bool,
    seconds: f64,
) -> Result<Point> {
    let (train_bound, test_bound) = bounds(t, data, cfg.eval_images)?;
    Ok(Point {
        algorithm: t.cfg.algorithm,
        z: t.vae_cfg.z,
        lr: t.cfg.lr,
        pilot,
        epoch: t.epoch,
        samples: (t.epoch * data.n_train) as u64,
        train_bound,
        test_bound,
        seconds,
    })
}

/// Adds a point: reported, kept, and the log rewritten.
fn record(
    p: Point,
    points: &mut Vec<Point>,
    path: &Path,
    on_point: &mut impl FnMut(&Point),
) -> Result<()> {
    on_point(&p);
    points.push(p);
    write_points(path, points)
}

fn write_json<T: Serialize>(path: &Path, v: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(v).map_err(|e| Error::msg(e.to_string()))?;
    Ok(vgae_data::fsio::atomic_write(path, &bytes)?)
}

fn write_points(path: &Path, points: &[Point]) -> Result<()> {
    let mut s = String::new();
    for p in points {
        s += &serde_json::to_string(p).map_err(|e| Error::msg(e.to_string()))?;
        s.push('\n');
    }
    Ok(vgae_data::fsio::atomic_write(path, s.as_bytes())?)
}

/// One panel per latent size: the bound against training samples evaluated (log axis), train and test,
/// for AEVB and wake-sleep, laid out like the paper's figure.
pub fn plot(cfg: &Figure2Config, points: &[Point], path: &Path) -> Result<()> {
    let name = if cfg.dataset == "frey" {
        "Frey Face"
    } else {
        "MNIST"
    };
    let panels: Vec<Panel> = cfg
        .latents
        .iter()
        .map(|&z| {
            let series = [Algorithm::Aevb, Algorithm::WakeSleep]
                .into_iter()
                .flat_map(|a| {
                    let label = if a == Algorithm::Aevb {
                        "AEVB"
                    } else {
                        "Wake-Sleep"
                    };
                    let curve: Vec<&Point> = points
                        .iter()
                        .filter(|p| !p.pilot && p.algorithm == a && p.z == z)
                        .collect();
                    [
                        (
                            format!("{label} (train)"),
                            curve
                                .iter()
                                .map(|p| (p.samples as f64, p.train_bound))
                                .collect(),
                        ),
                        (
                            format!("{label} (test)"),
                            curve
                                .iter()
                                .map(|p| (p.samples as f64, p.test_bound))
                                .collect(),
                        ),
                    ]
                })
                .collect();
            Panel {
                title: format!("{name}, Nz = {z}"),
                x_label: "# training samples evaluated".into(),
                y_label: "L".into(),
                series,
                log_x: true,
                ..Default::default()
            }
        })
        .collect();
    charts(path, &panels, 420, 360)
}
