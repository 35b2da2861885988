//! Experiment grids: a TOML file naming datasets × models × hyperparameter values × tasks × seeds, expanded into
//! [`Cell`]s, each run into its own run directory by [`grid_run`](super::grid_run).
//!
//! ```toml
//! name = "clustering"
//! datasets = ["cora", "citeseer"]
//! models = ["gae", "vgae"]          # sc, dw, gae-x, vgae-x, gae, vgae (sc / dw: link task only)
//! tasks = ["clustering"]            # link, clustering, classification, ranking
//! seeds = 10                        # seeds 0..10, or a list: [0, 3, 7]
//! epochs = 200                      # default 200
//! loss = "dense"                    # default dense
//! [params]                          # optional: every combination of these values
//! lr = [0.01, 0.005]
//! ```
//!
//! `params` keys are [`PARAM_KEYS`], fields of [`GraphTrainConfig`]. A cell's key is a hash of everything
//! that defines it, so results are matched to cells whatever the order of the file.

use super::table1::RowKind;
use crate::graph::{GraphTrainConfig, LossKind};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The hyperparameters a grid may vary (fields of [`GraphTrainConfig`]).
pub const PARAM_KEYS: [&str; 8] = [
    "lr",
    "hidden",
    "latent",
    "dropout",
    "adversarial",
    "weighted",
    "soft_targets",
    "hidden_layers",
];

/// The most cells a grid may have (each is a training run).
pub const MAX_CELLS: u64 = 10_000;

/// One evaluation task of a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GridTask {
    /// Table 1: test AUC / AP on the seed's link split (the baselines too).
    Link,
    /// k-means on μ of the model trained on every edge.
    Clustering,
    /// Logistic-regression probe on the same μ, Planetoid public split.
    Classification,
    /// AUC / AP, Hits@K and MRR on the seed's link split.
    Ranking,
}

impl GridTask {
    /// The task's name as the grid file spells it.
    pub fn name(self) -> &'static str {
        match self {
            GridTask::Link => "link",
            GridTask::Clustering => "clustering",
            GridTask::Classification => "classification",
            GridTask::Ranking => "ranking",
        }
    }
}

/// `seeds = 10` (seeds 0..10) or `seeds = [0, 3, 7]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Seeds {
    /// Seeds `0..n`.
    Count(u64),
    /// These seeds.
    List(Vec<u64>),
}

impl Seeds {
    /// How many seeds, without listing them.
    pub fn len(&self) -> u64 {
        match self {
            Seeds::Count(n) => *n,
            Seeds::List(v) => v.len() as u64,
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The seeds, in order.
    pub fn list(&self) -> Vec<u64> {
        match self {
            Seeds::Count(n) => (0..*n).collect(),
            Seeds::List(v) => v.clone(),
        }
    }
}

fn default_epochs() -> usize {
    200
}

fn default_loss() -> LossKind {
    LossKind::Dense
}

/// A grid file, parsed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSpec {
    /// The grid's name, used in tables.
    pub name: String,
    /// Dataset names or edge-list paths.
    pub datasets: Vec<String>,
    /// Model rows.
    pub models: Vec<RowKind>,
    /// Tasks per model.
    pub tasks: Vec<GridTask>,
    /// Seeds per combination.
    pub seeds: Seeds,
    /// Training epochs.
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Reconstruction loss.
    #[serde(default = "default_loss")]
    pub loss: LossKind,
    /// Hyperparameter values: every combination becomes its own cells.
    #[serde(default)]
    pub params: BTreeMap<String, Vec<serde_json::Value>>,
}

/// One run of the grid: a model on a dataset with one set of hyperparameters, one task, one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Dataset name or edge-list path.
    pub dataset: String,
    /// The model row.
    pub model: RowKind,
    /// The task.
    pub task: GridTask,
    /// The seed.
    pub seed: u64,
    /// Epochs.
    pub epochs: usize,
    /// Reconstruction loss.
    pub loss: LossKind,
    /// This cell's hyperparameter values, by key.
    pub params: BTreeMap<String, serde_json::Value>,
}

/// FNV-1a, 64 bits: a stable short hash for cell keys and grid fingerprints.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Cell {
    /// A hash of everything that defines the cell (its JSON form), 16 hex digits.
    pub fn key(&self) -> String {
        let json = serde_json::to_string(self).expect("a cell serialises");
        format!("{:016x}", fnv1a(json.as_bytes()))
    }

    /// `params` as `lr=0.01,hidden=64`, empty when the grid varies none.
    pub fn params_label(&self) -> String {
        let v: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        v.join(",")
    }

    /// A readable, unique directory name: `cora-gae-link-s3-<key>`.
    pub fn id(&self) -> String {
        let ds = Path::new(&self.dataset)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("data");
        format!(
            "{ds}-{}-{}-s{}-{}",
            self.model.name(),
            self.task.name(),
            self.seed,
            &self.key()[..8]
        )
    }

    /// The training config of an autoencoder cell: the paper's defaults, then the cell's values.
    pub fn train_config(&self, dataset: &str) -> Result<GraphTrainConfig> {
        let Some(base) = self
            .model
            .run_config(dataset, self.loss, self.epochs, self.seed)
        else {
            return Err(Error::msg(format!(
                "{} is a baseline, not an autoencoder",
                self.model.name()
            )));
        };
        let mut json = serde_json::to_value(&base).map_err(|e| Error::msg(e.to_string()))?;
        for (k, v) in &self.params {
            json[k.as_str()] = v.clone();
        }
        serde_json::from_value(json)
            .map_err(|e| Error::msg(format!("grid params {}: {e}", self.params_label())))
    }
}

impl GridSpec {
    /// Parses a grid file's text; `path` only names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<GridSpec> {
        let spec: GridSpec =
            toml::from_str(text).map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
        spec.validate()
            .map_err(|e| Error::msg(format!("{}: {e}", path.display())))?;
        Ok(spec)
    }

    /// Reads and parses a grid file.
    pub fn load(path: &Path) -> Result<GridSpec> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Self::parse(path, &text)
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if self.datasets.is_empty() || self.models.is_empty() || self.tasks.is_empty() {
            return Err("datasets, models and tasks each need at least one value".into());
        }
        if self.seeds.is_empty() {
            return Err("seeds: at least one seed".into());
        }
        // Counted before anything is expanded (found by fuzzing: `seeds = 11111111111111110` tried to
        // allocate them all, and 10⁵ seeds took seconds to validate).
        let combos = self
            .params
            .values()
            .map(|v| v.len() as u64)
            .product::<u64>();
        let cells = [
            self.datasets.len() as u64,
            self.models.len() as u64,
            self.tasks.len() as u64,
            combos,
        ]
        .iter()
        .try_fold(self.seeds.len(), |a, &b| a.checked_mul(b))
        .unwrap_or(u64::MAX);
        if cells > MAX_CELLS {
            return Err(format!(
                "the grid has {cells} cells (datasets × models × tasks × params × seeds); at most {MAX_CELLS}"
            ));
        }
        for (k, v) in &self.params {
            if !PARAM_KEYS.contains(&k.as_str()) {
                return Err(format!(
                    "params: unknown key '{k}': expected one of {}",
                    PARAM_KEYS.join(", ")
                ));
            }
            if v.is_empty() {
                return Err(format!("params: '{k}' has no values"));
            }
        }
        for m in &self.models {
            if matches!(m, RowKind::Baseline(_)) && self.tasks.iter().any(|t| *t != GridTask::Link)
            {
                return Err(format!(
                    "model '{}' is a baseline: it only runs the link task",
                    m.name()
                ));
            }
        }
        // A config's validity depends on the model and the params only: check each pair once.
        for &model in self.models.iter().filter(|m| m.is_autoencoder()) {
            for params in self.param_sets() {
                let cell = Cell {
                    dataset: self.datasets[0].clone(),
                    model,
                    task: self.tasks[0],
                    seed: 0,
                    epochs: self.epochs,
                    loss: self.loss,
                    params,
                };
                cell.train_config(&cell.dataset)
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// A fingerprint of the grid's meaning (not its formatting or comments), 16 hex digits.
    pub fn fingerprint(&self) -> String {
        let json = serde_json::to_string(self).expect("a grid serialises");
        format!("{:016x}", fnv1a(json.as_bytes()))
    }

    /// Every combination of the `params` values, keys sorted.
    fn param_sets(&self) -> Vec<BTreeMap<String, serde_json::Value>> {
        let mut sets = vec![BTreeMap::new()];
        for (k, values) in &self.params {
            sets = sets
                .into_iter()
                .flat_map(|s| {
                    values.iter().map(move |v| {
                        let mut s = s.clone();
                        s.insert(k.clone(), v.clone());
                        s
                    })
                })
                .collect();
        }
        sets
    }

    /// The cells in run order: datasets, then models, hyperparameter sets, tasks, and seeds innermost.
    pub fn cells(&self) -> Vec<Cell> {
        let mut out = Vec::new();
        for dataset in &self.datasets {
            for &model in &self.models {
                for params in self.param_sets() {
                    for &task in &self.tasks {
                        for seed in self.seeds.list() {
                            out.push(Cell {
                                dataset: dataset.clone(),
                                model,
                                task,
                                seed,
                                epochs: self.epochs,
                                loss: self.loss,
                                params: params.clone(),
                            });
                        }
                    }
                }
            }
        }
        out
    }
}
