//! The scaling benchmark's mini-batch column: epoch times of [`MiniBatchTrainer`] (GAE*, X = I) on the same
//! graphs and split as the full-batch columns.

use super::measure::{median, BenchGraph, Measurement};
use super::proc::peak_rss_mb;
use crate::graph::minibatch::{MiniBatchConfig, MiniBatchTrainer};
use crate::graph::train::make_split;
use crate::graph::GraphTrainConfig;
use crate::rng::RunRng;
use crate::Result;
use std::time::Instant;
use vgae_data::source::DataSource;

/// The mini-batch settings a measurement uses (the paper's widths and learning rate).
#[derive(Debug, Clone, PartialEq)]
pub struct MiniBatchBench {
    /// Positive edges per batch.
    pub batch_edges: usize,
    /// Fan-out per GCN layer, input layer first (0: every neighbour).
    pub fanouts: Vec<usize>,
    /// The last layer reads a history of hidden rows (then the last fan-out is 0).
    pub history: bool,
}

impl MiniBatchBench {
    /// The configuration it trains for `epochs` epochs, scoring only after the last.
    pub fn config(&self, epochs: usize) -> MiniBatchConfig {
        MiniBatchConfig {
            history: self.history,
            eval_every: 0,
            ..MiniBatchConfig::paper(self.batch_edges, self.fanouts.clone(), epochs)
        }
    }

    /// The loss column's name, e.g. `minibatch 65536 [5, 5]`.
    pub fn name(&self) -> String {
        let h = if self.history { " history" } else { "" };
        format!("minibatch {} {:?}{h}", self.batch_edges, self.fanouts)
    }
}

/// Times `warmup + epochs` mini-batch epochs on `graph` (training only: sampling, forward, backward,
/// updates); the split is the full-batch columns' (`make_split` of the default config, seed 0).
pub fn measure_minibatch(
    graph: &BenchGraph,
    mb: &MiniBatchBench,
    warmup: usize,
    epochs: usize,
    source: &DataSource,
) -> Result<Measurement> {
    let t0 = Instant::now();
    let g = graph.load(source)?;
    let split = make_split(&g, &GraphTrainConfig::default())?;
    let mut t = MiniBatchTrainer::new(
        g.num_nodes,
        split,
        mb.config(warmup + epochs),
        RunRng::stream(0, 1),
    )?;
    let setup = t0.elapsed().as_secs_f64();
    t.train(&mut |_| Ok(false), &mut |_, _| Ok(()))?;
    let times: Vec<f64> = t.records[warmup..].iter().map(|r| r.seconds).collect();
    let med = median(times.clone());
    Ok(Measurement {
        dataset: g.name.clone(),
        loss: mb.name(),
        nodes: g.num_nodes,
        edges: g.edges.len(),
        setup_seconds: setup,
        median_epoch_seconds: med,
        epochs_measured: times.len(),
        run_200_seconds: med * 200.0 + setup,
        peak_rss_mb: peak_rss_mb(),
    })
}
