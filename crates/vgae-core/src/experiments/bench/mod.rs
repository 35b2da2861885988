//! Benchmarks: epoch time and peak memory of a GAE on the Planetoid graphs (and one MNIST VAE epoch), and
//! scaling on synthetic SBM graphs.
//!
//! Each configuration is measured by a [`Runner`]: [`InProcess`] measures here, while `vgae bench` runs
//! every configuration in its own child process so that its peak memory belongs to it alone.

pub mod kernels;
mod measure;
mod minibatch;
pub mod proc;
mod report;

pub use measure::{measure, median, BenchGraph, MeasureSpec, Measurement};
pub use minibatch::{measure_minibatch, MiniBatchBench};
pub use proc::{machine, peak_rss_mb};
pub use report::{measurements_table, ScalingResult};

use crate::experiments::vae_presets::{self, VaeOverrides};
use crate::graph::LossKind;
use crate::{Error, Result};
use candle_core::Device;
use std::path::{Path, PathBuf};
use vgae_data::source::DataSource;

/// Runs single measurements for [`planetoid`] and [`scaling`].
pub trait Runner {
    /// The runner's error type (anything a library error converts into).
    type Error: From<Error>;
    /// Measures one GAE configuration.
    fn measure(&mut self, spec: &MeasureSpec) -> std::result::Result<Measurement, Self::Error>;
    /// Trains one MNIST VAE epoch (784-500-250-20, batch 100, Adagrad, no IWAE) into the run directory
    /// `out`; returns its training seconds.
    fn vae_epoch(&mut self, out: &Path) -> std::result::Result<Option<f64>, Self::Error>;
}

/// A [`Runner`] that measures in this process.
pub struct InProcess {
    /// Where datasets come from.
    pub source: DataSource,
    /// Where to compute.
    pub device: Device,
}

impl Runner for InProcess {
    type Error = Error;

    fn measure(&mut self, spec: &MeasureSpec) -> Result<Measurement> {
        measure(spec, &self.source, &self.device)
    }

    fn vae_epoch(&mut self, out: &Path) -> Result<Option<f64>> {
        let o = VaeOverrides {
            epochs: 1,
            iwae_k: 0,
            ..VaeOverrides::default()
        };
        let (mut v, t) = vae_presets::preset("mnist", 20, &o)?;
        let (data, _origin) = vae_presets::load(&self.source, &mut v, &t, &self.device)?;
        let s = crate::vae::run::train_run(
            &v,
            &t,
            &data,
            Some(out),
            &mut crate::vae::train::NoProgress,
        )?;
        Ok(Some(s.train_seconds))
    }
}

/// `vgae bench planetoid`: datasets × losses, then optionally one MNIST VAE epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanetoidConfig {
    /// Dataset names.
    pub datasets: Vec<String>,
    /// Losses, each measured on every dataset.
    pub losses: Vec<LossKind>,
    /// Timed epochs after 2 warm-up epochs.
    pub epochs: usize,
    /// Time 200 epochs instead of extrapolating the median of `epochs`.
    pub full: bool,
    /// Also time one MNIST VAE epoch, writing its run directory here.
    pub vae_dir: Option<PathBuf>,
}

/// The Planetoid benchmark's results.
#[derive(Debug, Clone)]
pub struct PlanetoidResult {
    /// The machine line ([`machine`]).
    pub machine: String,
    /// The configured timed epochs (the header's "median of N epochs").
    pub epochs: usize,
    /// One measurement per dataset × loss, datasets outermost.
    pub rows: Vec<Measurement>,
    /// Seconds of one MNIST VAE epoch, if asked for.
    pub vae_epoch_seconds: Option<f64>,
}

/// Runs the Planetoid benchmark; `on_row` sees each measurement as it arrives.
pub fn planetoid<R: Runner>(
    cfg: &PlanetoidConfig,
    runner: &mut R,
    on_row: &mut dyn FnMut(&MeasureSpec, &Measurement),
) -> std::result::Result<PlanetoidResult, R::Error> {
    let mut rows = Vec::new();
    for ds in &cfg.datasets {
        for &loss in &cfg.losses {
            let spec = MeasureSpec {
                graph: BenchGraph::Named(ds.clone()),
                loss,
                featureless: false,
                warmup: 2,
                epochs: if cfg.full { 200 } else { cfg.epochs },
                minibatch: None,
            };
            let m = runner.measure(&spec)?;
            on_row(&spec, &m);
            rows.push(m);
        }
    }
    let vae_epoch_seconds = match &cfg.vae_dir {
        Some(dir) => runner.vae_epoch(dir)?,
        None => None,
    };
    Ok(PlanetoidResult {
        machine: machine(),
        epochs: cfg.epochs,
        rows,
        vae_epoch_seconds,
    })
}

impl PlanetoidResult {
    /// `bench.md`: the machine, the table and the VAE epoch.
    pub fn markdown(&self) -> String {
        let mut md = format!(
            "Machine: {}. GAE, median of {} epochs after 2 warm-up epochs.\n\n{}",
            self.machine,
            self.epochs,
            measurements_table(&self.rows)
        );
        if let Some(s) = self.vae_epoch_seconds {
            md.push_str(&format!(
                "\nMNIST VAE (784-500-250-20, batch 100, Adagrad): one epoch {s:.2} s.\n"
            ));
        }
        md
    }

    /// `bench.json`: `{"machine", "rows", "vae_epoch_seconds"}`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"machine": self.machine, "rows": self.rows, "vae_epoch_seconds": self.vae_epoch_seconds})
    }

    /// The `--json` summary: `{"rows", "vae_epoch_seconds"}`.
    pub fn summary_json(&self) -> serde_json::Value {
        serde_json::json!({"rows": self.rows, "vae_epoch_seconds": self.vae_epoch_seconds})
    }
}

/// `vgae bench scaling`: featureless GAE on SBM graphs of growing size, sampled and (up to `dense_max`
/// nodes) dense loss, and optionally mini-batch training (up to `minibatch_max` nodes).
#[derive(Debug, Clone, PartialEq)]
pub struct ScalingConfig {
    /// Graph sizes.
    pub nodes: Vec<usize>,
    /// Average degree.
    pub degree: f64,
    /// Largest graph for the dense loss (its cost grows with nodes²).
    pub dense_max: usize,
    /// Timed epochs after 1 warm-up epoch.
    pub epochs: usize,
    /// Also time mini-batch epochs with these settings.
    pub minibatch: Option<MiniBatchBench>,
    /// Largest graph for the mini-batch column.
    pub minibatch_max: usize,
}

/// Runs the scaling benchmark; `on_row` sees each measurement as it arrives.
pub fn scaling<R: Runner>(
    cfg: &ScalingConfig,
    runner: &mut R,
    on_row: &mut dyn FnMut(&MeasureSpec, &Measurement),
) -> std::result::Result<ScalingResult, R::Error> {
    let mut rows = Vec::new();
    for &nodes in &cfg.nodes {
        let graph = BenchGraph::Synth {
            nodes,
            degree: cfg.degree,
        };
        let spec = |loss, minibatch| MeasureSpec {
            graph: graph.clone(),
            loss,
            featureless: true,
            warmup: 1,
            epochs: cfg.epochs,
            minibatch,
        };
        let mut specs = vec![spec(LossKind::Sampled, None)];
        if nodes <= cfg.dense_max {
            specs.push(spec(LossKind::Dense, None));
        }
        if let (Some(mb), true) = (&cfg.minibatch, nodes <= cfg.minibatch_max) {
            specs.push(spec(LossKind::Sampled, Some(mb.clone())));
        }
        for spec in specs {
            let m = runner.measure(&spec)?;
            on_row(&spec, &m);
            rows.push(m);
        }
    }
    Ok(ScalingResult {
        machine: machine(),
        degree: cfg.degree,
        rows,
    })
}

/// Parses a loss name (`dense` or `sampled`, as `--losses` takes them).
pub fn parse_loss(s: &str) -> Result<LossKind> {
    match s.trim().to_ascii_lowercase().as_str() {
        "dense" => Ok(LossKind::Dense),
        "sampled" => Ok(LossKind::Sampled),
        _ => Err(Error::msg(format!(
            "--losses: unknown loss '{s}': expected dense or sampled"
        ))),
    }
}

#[cfg(test)]
mod tests;
