//! One measurement: a GAE's epoch times after warm-up, its setup time and the process's peak memory.

use super::minibatch::{measure_minibatch, MiniBatchBench};
use super::proc::peak_rss_mb;
use crate::experiments::table1::loss_name;
use crate::graph::train::make_split;
use crate::graph::{GraphTrainConfig, GraphTrainer, LossKind, ModelKind};
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use vgae_data::source::DataSource;
use vgae_data::synth::{sbm, SbmConfig};
use vgae_data::Graph;

/// The graph a measurement trains on.
#[derive(Debug, Clone, PartialEq)]
pub enum BenchGraph {
    /// A dataset name or edge-list path, loaded from a [`DataSource`].
    Named(String),
    /// A seeded stochastic-block-model graph (seed 0) of `nodes` nodes and average degree `degree`.
    Synth {
        /// Number of nodes.
        nodes: usize,
        /// Average degree.
        degree: f64,
    },
}

impl std::str::FromStr for BenchGraph {
    type Err = Error;

    /// `synth:NODES[:DEGREE]` (degree 10 if left out), or anything else as a dataset name.
    fn from_str(s: &str) -> Result<Self> {
        let Some(spec) = s.strip_prefix("synth:") else {
            return Ok(BenchGraph::Named(s.to_string()));
        };
        let bad = |e: &dyn std::fmt::Display| Error::msg(format!("synth:NODES:DEGREE: {e}"));
        let mut it = spec.split(':');
        let nodes = it.next().unwrap_or("").parse().map_err(|e| bad(&e))?;
        let degree = it.next().unwrap_or("10").parse().map_err(|e| bad(&e))?;
        Ok(BenchGraph::Synth { nodes, degree })
    }
}

impl std::fmt::Display for BenchGraph {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BenchGraph::Named(n) => f.write_str(n),
            BenchGraph::Synth { nodes, degree } => write!(f, "synth:{nodes}:{degree}"),
        }
    }
}

impl BenchGraph {
    /// Loads or generates the graph.
    pub fn load(&self, source: &DataSource) -> Result<Graph> {
        Ok(match self {
            BenchGraph::Named(n) => source.load_graph(n)?,
            BenchGraph::Synth { nodes, degree } => sbm(
                &SbmConfig {
                    nodes: *nodes,
                    degree: *degree,
                    ..Default::default()
                },
                &mut RunRng::new(0),
            ),
        })
    }
}

/// What to measure: a GAE (with the graph's features unless `featureless`) on `graph` with `loss`.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureSpec {
    /// The graph.
    pub graph: BenchGraph,
    /// The reconstruction loss.
    pub loss: LossKind,
    /// Train featureless (X = I) even if the graph has features.
    pub featureless: bool,
    /// Epochs trained before timing starts.
    pub warmup: usize,
    /// Epochs timed.
    pub epochs: usize,
    /// Time mini-batch epochs with these settings instead (featureless; `loss` is not used).
    pub minibatch: Option<MiniBatchBench>,
}

/// The result of one measurement (one line of JSON from `vgae bench one`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    /// The graph's name.
    pub dataset: String,
    /// `dense` or `sampled`.
    pub loss: String,
    /// Nodes of the graph.
    pub nodes: usize,
    /// Undirected edges of the graph.
    pub edges: usize,
    /// Seconds to load the graph, split it and build the model.
    pub setup_seconds: f64,
    /// Median seconds of a training step (forward, backward, update) over the timed epochs.
    pub median_epoch_seconds: f64,
    /// Number of timed epochs.
    pub epochs_measured: usize,
    /// Median × 200 + setup, or the measured total with --full.
    pub run_200_seconds: f64,
    /// Peak resident memory of the measuring process (Linux only).
    pub peak_rss_mb: Option<f64>,
}

/// The median (upper median for an even count; NaN if empty).
pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

/// Measures `spec` in this process. Peak memory is the whole process's so far: measure each configuration in
/// a fresh process (as `vgae bench` does) for a number that belongs to it alone.
pub fn measure(spec: &MeasureSpec, source: &DataSource, device: &Device) -> Result<Measurement> {
    if let Some(mb) = &spec.minibatch {
        return measure_minibatch(&spec.graph, mb, spec.warmup, spec.epochs, source);
    }
    let t0 = Instant::now();
    let graph = spec.graph.load(source)?;
    let cfg = GraphTrainConfig {
        dataset: graph.name.clone(),
        model: ModelKind::Gae,
        features: !spec.featureless && graph.features.is_some(),
        loss: spec.loss,
        epochs: spec.warmup + spec.epochs,
        ..GraphTrainConfig::default()
    };
    let split = make_split(&graph, &cfg)?;
    let mut t = GraphTrainer::new(cfg, &graph, split, device)?;
    let setup = t0.elapsed().as_secs_f64();
    // Training steps alone: no per-epoch evaluation, whose embedding and scores would add time and memory.
    let mut times = Vec::new();
    for e in 0..spec.warmup + spec.epochs {
        let s = Instant::now();
        t.train_epoch()?;
        if e >= spec.warmup {
            times.push(s.elapsed().as_secs_f64());
        }
    }
    let total: f64 = times.iter().sum();
    let med = median(times.clone());
    Ok(Measurement {
        dataset: graph.name.clone(),
        loss: loss_name(spec.loss),
        nodes: graph.num_nodes,
        edges: graph.edges.len(),
        setup_seconds: setup,
        median_epoch_seconds: med,
        epochs_measured: times.len(),
        run_200_seconds: if times.len() >= 200 {
            total + setup
        } else {
            med * 200.0 + setup
        },
        peak_rss_mb: peak_rss_mb(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_graph_names_parse_and_print() {
        let g: BenchGraph = "synth:1000:10".parse().unwrap();
        assert_eq!(
            g,
            BenchGraph::Synth {
                nodes: 1000,
                degree: 10.0
            }
        );
        assert_eq!(g.to_string(), "synth:1000:10");
        let g: BenchGraph = "synth:500".parse().unwrap();
        assert_eq!(g.to_string(), "synth:500:10");
        assert_eq!(
            "synth:5:2.5".parse::<BenchGraph>().unwrap().to_string(),
            "synth:5:2.5"
        );
        assert_eq!(
            "pubmed".parse::<BenchGraph>().unwrap(),
            BenchGraph::Named("pubmed".into())
        );
        let e = "synth:many".parse::<BenchGraph>().unwrap_err().to_string();
        assert!(e.starts_with("synth:NODES:DEGREE: "), "{e}");
        assert!("synth:10:x".parse::<BenchGraph>().is_err());
    }

    #[test]
    fn median_takes_the_upper_middle() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 3.0);
        assert!(median(Vec::new()).is_nan());
    }

    #[test]
    fn a_tiny_measurement_times_only_the_measured_epochs() {
        let spec = MeasureSpec {
            graph: BenchGraph::Synth {
                nodes: 200,
                degree: 6.0,
            },
            loss: LossKind::Sampled,
            featureless: true,
            warmup: 2,
            epochs: 3,
            minibatch: None,
        };
        let m = measure(&spec, &DataSource::new(None), &Device::Cpu).unwrap();
        assert_eq!(m.epochs_measured, 3);
        assert_eq!(m.loss, "sampled");
        assert_eq!(m.nodes, 200);
        assert!(m.median_epoch_seconds >= 0.0);
        assert!(m.run_200_seconds >= m.setup_seconds);
    }
}
