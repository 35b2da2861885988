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
//! println!("{}", markdown(&res.rows, &cfg));
//! # Ok::<(), vgae_core::Error>(())
//! ```

use crate::baselines::{self, BaselineConfig, BaselineKind};
use crate::graph::paper::{self, mean_std};
use crate::graph::train::make_split;
use crate::graph::{run, EpochRecord, GraphRunResult, GraphTrainConfig, GraphTrainer};
use crate::graph::{LossKind, ModelKind};
use crate::{Error, Result};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use vgae_data::source::DataSource;

/// A row of the table: an autoencoder (kind, with node features?) or a baseline.
///
/// Written and read as its name: `sc`, `dw`, `gae-x` (GAE*), `vgae-x` (VGAE*), `gae`, `vgae`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RowKind {
    /// GAE or VGAE; `true` = with node features, `false` = featureless (GAE* / VGAE*).
    Model(ModelKind, bool),
    /// Spectral clustering or DeepWalk, on the same split as the autoencoders.
    Baseline(BaselineKind),
}

impl RowKind {
    /// All six rows of the paper, in its order.
    pub const ALL: [RowKind; 6] = [
        RowKind::Baseline(BaselineKind::Sc),
        RowKind::Baseline(BaselineKind::Dw),
        RowKind::Model(ModelKind::Gae, false),
        RowKind::Model(ModelKind::Vgae, false),
        RowKind::Model(ModelKind::Gae, true),
        RowKind::Model(ModelKind::Vgae, true),
    ];

    /// The row's name as `--models` takes it (`gae-x` for GAE*).
    pub fn name(self) -> &'static str {
        match self {
            RowKind::Baseline(BaselineKind::Sc) => "sc",
            RowKind::Baseline(BaselineKind::Dw) => "dw",
            RowKind::Model(ModelKind::Gae, false) => "gae-x",
            RowKind::Model(ModelKind::Vgae, false) => "vgae-x",
            RowKind::Model(ModelKind::Gae, true) => "gae",
            RowKind::Model(ModelKind::Vgae, true) => "vgae",
        }
    }
}

impl std::str::FromStr for RowKind {
    type Err = Error;

    /// Parses a row name (case-insensitive; `gae*` / `vgae*` also accepted).
    fn from_str(s: &str) -> Result<Self> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "sc" => RowKind::Baseline(BaselineKind::Sc),
            "dw" => RowKind::Baseline(BaselineKind::Dw),
            "gae-x" | "gae*" => RowKind::Model(ModelKind::Gae, false),
            "vgae-x" | "vgae*" => RowKind::Model(ModelKind::Vgae, false),
            "gae" => RowKind::Model(ModelKind::Gae, true),
            "vgae" => RowKind::Model(ModelKind::Vgae, true),
            _ => {
                return Err(Error::msg(format!(
                    "--models: unknown row '{s}': expected sc, dw, gae-x, vgae-x, gae or vgae"
                )))
            }
        })
    }
}

impl TryFrom<String> for RowKind {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}

impl From<RowKind> for String {
    fn from(r: RowKind) -> String {
        r.name().into()
    }
}

/// Parses row names (`--models`), failing on the first unknown one.
pub fn parse_rows<S: AsRef<str>>(names: &[S]) -> Result<Vec<RowKind>> {
    names.iter().map(|s| s.as_ref().parse()).collect()
}

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
    /// One entry per dataset × row kind × seed.
    pub runs: Vec<SeedRun>,
}

impl Table1Result {
    /// The contents of `table1.json`: `{"rows": [...], "runs": [...]}`.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({ "rows": self.rows, "runs": self.runs })
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
    /// All seeds of a row finished; its summary.
    Row(&'a Row),
}

/// Runs the table: for each dataset, each row, each seed. Errors name the row, dataset and seed of a failed
/// baseline; `seeds` must be at least 1.
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
    };
    for ds in &cfg.datasets {
        let graph = source.load_graph(ds)?;
        for &kind in &cfg.rows {
            let mut results = Vec::new();
            for seed in 0..cfg.seeds {
                let res = match kind {
                    RowKind::Baseline(b) => {
                        // The split of this seed, exactly as the autoencoder rows draw it.
                        let tcfg = GraphTrainConfig {
                            dataset: graph.name.clone(),
                            seed,
                            ..GraphTrainConfig::default()
                        };
                        let split = make_split(&graph, &tcfg)?;
                        progress(Table1Event::RunStart {
                            dataset: &graph.name,
                            label: b.label(),
                            seed,
                            epochs: None,
                        });
                        baselines::run(b, &graph, &split, &BaselineConfig::default(), seed)
                            .map_err(|e| {
                                Error::msg(format!(
                                    "{} on {} (seed {seed}): {e}",
                                    b.label(),
                                    graph.name
                                ))
                            })?
                            .result()
                    }
                    RowKind::Model(model, features) => {
                        let tcfg = GraphTrainConfig {
                            dataset: graph.name.clone(),
                            model,
                            features,
                            loss: cfg.loss,
                            epochs: cfg.epochs,
                            seed,
                            ..GraphTrainConfig::default()
                        };
                        let split = make_split(&graph, &tcfg)?;
                        let mut trainer = GraphTrainer::new(tcfg, &graph, split, device)?;
                        progress(Table1Event::RunStart {
                            dataset: &graph.name,
                            label: &trainer.cfg.label(),
                            seed,
                            epochs: Some(cfg.epochs),
                        });
                        run::run(&mut trainer, None, |r| progress(Table1Event::Epoch(r)))?
                    }
                };
                progress(Table1Event::RunEnd(&res));
                results.push(res.clone());
                out.runs.push(SeedRun {
                    dataset: graph.name.clone(),
                    seed,
                    result: res,
                });
            }
            let row = summarise(&graph.name, kind, &results);
            progress(Table1Event::Row(&row));
            out.rows.push(row);
        }
    }
    Ok(out)
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
        seconds_per_epoch: match kind {
            RowKind::Model(..) => Some(mean_std(&col(|r| r.seconds_per_epoch)).0),
            RowKind::Baseline(_) => None,
        },
        seconds_per_run: mean_std(&col(|r| r.train_seconds)).0,
    }
}

/// `mean ± std` of fractions, in % with one decimal: `91.1 ± 0.8`.
pub fn pct(mean: f64, std: f64) -> String {
    format!("{:.1} ± {:.1}", 100.0 * mean, 100.0 * std)
}

/// The loss's lower-case name (`dense`, `sampled`), as in the table's header.
pub fn loss_name(loss: LossKind) -> String {
    format!("{loss:?}").to_lowercase()
}

/// One markdown table line of a row.
pub fn row_line(r: &Row) -> String {
    let paper = match (r.paper_auc, r.paper_ap) {
        (Some(a), Some(p)) => format!("{a:.1} / {p:.1}"),
        _ => "–".into(),
    };
    let per_epoch = r
        .seconds_per_epoch
        .map_or("–".to_string(), |s| format!("{s:.4}"));
    format!(
        "| {} | {} | {} | {} | {:.1} / {:.1} | {} | {} | {} | {:.1} |",
        r.model,
        r.dataset,
        pct(r.auc_mean, r.auc_std),
        pct(r.ap_mean, r.ap_std),
        100.0 * r.best_val_auc_mean,
        100.0 * r.best_val_ap_mean,
        paper,
        r.seeds,
        per_epoch,
        r.seconds_per_run
    )
}

/// `table1.md`: a short legend and the table of `rows`.
pub fn markdown(rows: &[Row], cfg: &Table1Config) -> String {
    let mut s = format!(
        "Link prediction, test AUC / AP in % (mean ± std over {} seeds, each its own split; {} loss, {} epochs).\n\
         \"last\" = after the last epoch (the paper's protocol); \"best-val\" = at the epoch of best validation AUC.\n\
         SC (128 non-trivial eigenvectors of the training graph's normalised Laplacian) and DW (DeepWalk, 128 dims) \
         have no epochs: their two AUC / AP columns are the same run.\n\n\
         | model | dataset | AUC (last) | AP (last) | AUC / AP (best-val) | paper AUC / AP | seeds | s/epoch | s/run |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        cfg.seeds,
        loss_name(cfg.loss),
        cfg.epochs
    );
    for r in rows {
        s.push_str(&row_line(r));
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests;
