//! Kipf & Welling (2016), Table 1: link prediction on the Planetoid graphs, every row trained over several
//! seeds (each seed its own split, shared by the baselines), summarised as mean ± std beside the paper.
//!
//! ```no_run
//! use vgae_core::experiments::table1::{markdown, table1, Table1Config};
//! use vgae_data::source::DataSource;
//!
//! let cfg = Table1Config {
//!     datasets: vec!["cora".into()],
//!     rows: vgae_core::experiments::table1::parse_rows(&["gae", "vgae-x"])?,
//!     seeds: 3,
//!     ..Table1Config::default()
//! };
//! let source = DataSource::new(None);
//! let res = table1(&cfg, &source, &candle_core::Device::Cpu, &mut |_event| {})?;
//! println!("{}", markdown(&res, &cfg));
//! # Ok::<(), vgae_core::Error>(())
//! ```

use crate::baselines::{self, BaselineConfig};
use crate::graph::paper::{self, mean_std};
use crate::graph::train::split_with_held_out;
use crate::graph::LossKind;
use crate::graph::{run, EpochRecord, GraphRunResult, GraphTrainConfig, GraphTrainer};
use crate::{Error, Result};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use vgae_data::source::DataSource;

/// What to run: datasets × rows × seeds `0..seeds`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table1Config {
    /// Dataset names (`cora`, `citeseer`, `pubmed`, or edge-list paths).
    pub datasets: Vec<String>,
    /// The rows, in the order they are run and printed.
    pub rows: Vec<RowKind>,
    /// Number of seeds; seed `s` draws its own split, used by every row.
    pub seeds: u64,
    /// The autoencoders' reconstruction loss.
    pub loss: LossKind,
    /// The autoencoders' training epochs.
    pub epochs: usize,
}

impl Default for Table1Config {
    /// The paper's table: all six rows on Cora, Citeseer and Pubmed, 10 seeds, dense loss, 200 epochs.
    fn default() -> Self {
        Table1Config {
            datasets: vec!["cora".into(), "citeseer".into(), "pubmed".into()],
            rows: RowKind::ALL.to_vec(),
            seeds: 10,
            loss: LossKind::Dense,
            epochs: 200,
        }
    }
}

/// One summarised row: test AUC / AP (fractions, not %) over the seeds, beside the paper's (in %).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// The graph's name.
    pub dataset: String,
    /// The paper's row name: SC, DW, GAE*, VGAE*, GAE or VGAE.
    pub model: String,
    /// Number of seeds summarised.
    pub seeds: usize,
    /// Mean test AUC at the last epoch.
    pub auc_mean: f64,
    /// Sample standard deviation of the test AUC.
    pub auc_std: f64,
    /// Mean test AP at the last epoch.
    pub ap_mean: f64,
    /// Sample standard deviation of the test AP.
    pub ap_std: f64,
    /// Mean test AUC at the epoch of best validation AUC.
    pub best_val_auc_mean: f64,
    /// Mean test AP at the epoch of best validation AUC.
    pub best_val_ap_mean: f64,
    /// The paper's AUC (%), if it reports this row and dataset.
    pub paper_auc: Option<f64>,
    /// The paper's AP (%), if it reports this row and dataset.
    pub paper_ap: Option<f64>,
    /// Mean seconds per training epoch (null for SC / DW, which have no epochs).
    pub seconds_per_epoch: Option<f64>,
    /// Mean seconds per run (training, or computing the baseline's embedding).
    pub seconds_per_run: f64,
    /// Seeds whose run failed (listed in [`Table1Result::failures`]); the means are over the others.
    #[serde(default)]
    pub failed: usize,
}

/// A run that failed: the table records it and goes on with the next seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedRun {
    /// The graph's name.
    pub dataset: String,
    /// The paper's row name (SC, GAE*, ...).
    pub model: String,
    /// The seed whose run failed.
    pub seed: u64,
    /// What went wrong.
    pub error: String,
}

/// One seed's run of one row, as written to `table1.json` (the result's fields flattened).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeedRun {
    /// The graph's name.
    pub dataset: String,
    /// The seed (of the split, the initialisation and the noise).
    pub seed: u64,
    /// Final metrics of the run.
    #[serde(flatten)]
    pub result: GraphRunResult,
}

/// The whole experiment: summary rows and every seed's run, in the order they ran.
#[derive(Debug, Clone)]
pub struct Table1Result {
    /// One row per dataset × row kind.
    pub rows: Vec<Row>,
    /// One entry per dataset × row kind × seed that finished.
    pub runs: Vec<SeedRun>,
    /// One entry per run that failed.
    pub failures: Vec<FailedRun>,
}

impl Table1Result {
    /// The contents of `table1.json`: `{"rows": [...], "runs": [...]}`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "rows": self.rows, "runs": self.runs, "failures": self.failures })
    }
}

/// What [`table1`] reports while it works (for progress bars and per-row lines).
#[derive(Debug)]
pub enum Table1Event<'a> {
    /// A run starts: `label` is the paper's row name; `epochs` is `None` for a baseline (no epochs).
    RunStart {
        /// The graph's name.
        dataset: &'a str,
        /// The paper's row name (GAE*, SC, ...).
        label: &'a str,
        /// The run's seed.
        seed: u64,
        /// Training epochs, or `None` for SC / DW.
        epochs: Option<usize>,
    },
    /// An autoencoder finished an epoch.
    Epoch(&'a EpochRecord),
    /// The current run finished.
    RunEnd(&'a GraphRunResult),
    /// The current run failed; the table goes on.
    RunFailed(&'a FailedRun),
    /// All seeds of a row finished; its summary.
    Row(&'a Row),
}

/// Runs the table: for each dataset, each row, each seed. A run that fails (a baseline that does not
/// converge on a small graph, a diverged model) is recorded in [`Table1Result::failures`] with its row,
/// dataset and seed, and the table goes on; a dataset that cannot be loaded is an error. `seeds` must be
/// at least 1.
pub fn table1(
    cfg: &Table1Config,
    source: &DataSource,
    device: &Device,
    progress: &mut dyn FnMut(Table1Event<'_>),
) -> Result<Table1Result> {
    if cfg.seeds == 0 {
        return Err(Error::msg("--seeds: Table 1 needs at least one seed"));
    }
    let mut out = Table1Result {
        rows: Vec::new(),
        runs: Vec::new(),
        failures: Vec::new(),
    };
    for ds in &cfg.datasets {
        let graph = source.load_graph(ds)?;
        for &kind in &cfg.rows {
            let mut results = Vec::new();
            let mut failed = 0;
            for seed in 0..cfg.seeds {
                match run_one(cfg, &graph, kind, seed, device, progress) {
                    Ok(res) => {
                        progress(Table1Event::RunEnd(&res));
                        results.push(res.clone());
                        out.runs.push(SeedRun {
                            dataset: graph.name.clone(),
                            seed,
                            result: res,
                        });
                    }
                    Err((model, e)) => {
                        let f = FailedRun {
                            dataset: graph.name.clone(),
                            model,
                            seed,
                            error: e.to_string(),
                        };
                        progress(Table1Event::RunFailed(&f));
                        out.failures.push(f);
                        failed += 1;
                    }
                }
            }
            if !results.is_empty() {
                let mut row = summarise(&graph.name, kind, &results);
                row.failed = failed;
                progress(Table1Event::Row(&row));
                out.rows.push(row);
            }
        }
    }
    Ok(out)
}

/// One seed of one row; an error comes with the row's label.
fn run_one(
    cfg: &Table1Config,
    graph: &vgae_data::Graph,
    kind: RowKind,
    seed: u64,
    device: &Device,
    progress: &mut dyn FnMut(Table1Event<'_>),
) -> std::result::Result<GraphRunResult, (String, Error)> {
    match kind {
        RowKind::Baseline(b) => {
            let fail = |e: Error| (b.label().to_string(), e);
            // The split of this seed, exactly as the autoencoder rows draw it.
            let tcfg = GraphTrainConfig {
                dataset: graph.name.clone(),
                seed,
                ..GraphTrainConfig::default()
            };
            let split = split_with_held_out(graph, &tcfg).map_err(fail)?;
            progress(Table1Event::RunStart {
                dataset: &graph.name,
                label: b.label(),
                seed,
                epochs: None,
            });
            let run = baselines::run(b, graph, &split, &BaselineConfig::default(), seed);
            Ok(run.map_err(fail)?.result())
        }
        _ => {
            let tcfg = kind
                .run_config(&graph.name, cfg.loss, cfg.epochs, seed)
                .expect("an autoencoder row");
            let label = tcfg.label();
            let fail = |e: Error| (label.clone(), e);
            let split = split_with_held_out(graph, &tcfg).map_err(fail)?;
            let mut trainer = GraphTrainer::new(tcfg, graph, split, device).map_err(fail)?;
            progress(Table1Event::RunStart {
                dataset: &graph.name,
                label: &label,
                seed,
                epochs: Some(cfg.epochs),
            });
            run::run(&mut trainer, None, |r| progress(Table1Event::Epoch(r))).map_err(fail)
        }
    }
}

/// The summary row of one row kind's runs (at least one) on `dataset`.
pub fn summarise(dataset: &str, kind: RowKind, results: &[GraphRunResult]) -> Row {
    let label = results[0].label.clone();
    let col = |f: fn(&GraphRunResult) -> f64| results.iter().map(f).collect::<Vec<_>>();
    let (auc_mean, auc_std) = mean_std(&col(|r| r.test_auc));
    let (ap_mean, ap_std) = mean_std(&col(|r| r.test_ap));
    let paper = paper::table1(&label, dataset);
    Row {
        dataset: dataset.to_string(),
        model: label,
        seeds: results.len(),
        auc_mean,
        auc_std,
        ap_mean,
        ap_std,
        best_val_auc_mean: mean_std(&col(|r| r.best_test_auc)).0,
        best_val_ap_mean: mean_std(&col(|r| r.best_test_ap)).0,
        paper_auc: paper.map(|p| p.0),
        paper_ap: paper.map(|p| p.1),
        seconds_per_epoch: kind
            .is_autoencoder()
            .then(|| mean_std(&col(|r| r.seconds_per_epoch)).0),
        seconds_per_run: mean_std(&col(|r| r.train_seconds)).0,
        failed: 0,
    }
}

pub mod report;
mod rows;
pub use report::{count, failure_line, loss_name, markdown, pct, pct_of, row_line};
pub use rows::{parse_rows, Extension, RowKind};

#[cfg(test)]
mod tests;
