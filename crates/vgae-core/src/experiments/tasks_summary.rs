//! What the tasks table holds: each seed's scores ([`SeedTasks`]) and their summary per model and dataset
//! ([`TasksRow`], mean ± std over seeds).

use super::node_tasks::RankingScores;
use crate::graph::paper::mean_std;
use crate::tasks::{ClusteringScores, ProbeScores};
use serde::{Deserialize, Serialize};

/// Link prediction scores of one seed: Table 1's AUC / AP and the ranking metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkTaskScores {
    /// Test ROC-AUC at the last epoch.
    pub auc: f64,
    /// Test AP at the last epoch.
    pub ap: f64,
    /// Hits@K and MRR of the same test edges.
    pub ranking: RankingScores,
}

/// Every task's scores of one model, dataset and seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedTasks {
    /// The graph's name.
    pub dataset: String,
    /// The row label (GAE, VGAE, GAE*, VGAE*).
    pub model: String,
    /// The seed.
    pub seed: u64,
    /// Clustering scores, when asked for.
    pub clustering: Option<ClusteringScores>,
    /// Probe accuracies, when asked for.
    pub classification: Option<ProbeScores>,
    /// Link scores, when asked for.
    pub link: Option<LinkTaskScores>,
    /// Seconds training on the whole graph (clustering / classification).
    pub whole_graph_seconds: Option<f64>,
    /// Seconds training on the link-prediction split (ranking).
    pub link_seconds: Option<f64>,
}

impl SeedTasks {
    /// The scalar metrics by name, in table order (`acc`, `nmi`, `ari`, `ami`, `probe_acc`, `probe_val_acc`,
    /// `auc`, `ap`, `hits@K`..., `mrr`).
    pub fn values(&self) -> Vec<(String, f64)> {
        let mut v = Vec::new();
        if let Some(c) = &self.clustering {
            v.extend(
                [
                    ("acc", c.acc),
                    ("nmi", c.nmi),
                    ("ari", c.ari),
                    ("ami", c.ami),
                ]
                .map(|(k, x)| (k.into(), x)),
            );
        }
        if let Some(p) = &self.classification {
            v.push(("probe_acc".into(), p.test_acc));
            v.push(("probe_val_acc".into(), p.val_acc));
        }
        if let Some(l) = &self.link {
            v.push(("auc".into(), l.auc));
            v.push(("ap".into(), l.ap));
            v.extend(
                l.ranking
                    .hits
                    .iter()
                    .map(|&(k, h)| (format!("hits@{k}"), h)),
            );
            v.push(("mrr".into(), l.ranking.mrr.mrr));
        }
        v
    }
}

/// Mean and sample standard deviation of one metric over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSummary {
    /// The metric's name (see [`SeedTasks::values`]).
    pub name: String,
    /// Mean over seeds.
    pub mean: f64,
    /// Sample standard deviation over seeds.
    pub std: f64,
}

/// One model on one dataset, summarised over seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TasksRow {
    /// The graph's name.
    pub dataset: String,
    /// The row label.
    pub model: String,
    /// Seeds summarised.
    pub seeds: usize,
    /// Every metric's mean ± std, in [`SeedTasks::values`] order.
    pub metrics: Vec<MetricSummary>,
    /// The ARGA paper's (ACC, NMI, ARI), where it reports this model and dataset.
    pub arga_paper: Option<(f64, f64, f64)>,
    /// Mean seconds of training per seed (both trainings).
    pub seconds_per_seed: f64,
}

impl TasksRow {
    /// (mean, std) of a metric, if the row has it.
    pub fn get(&self, name: &str) -> Option<(f64, f64)> {
        self.metrics
            .iter()
            .find(|m| m.name == name)
            .map(|m| (m.mean, m.std))
    }
}

/// Everything one call ran: summary rows and each seed's scores.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TasksResult {
    /// One row per dataset × model.
    pub rows: Vec<TasksRow>,
    /// One entry per dataset × model × seed.
    pub runs: Vec<SeedTasks>,
}

/// The summary row of one model's seeds (at least one) on one dataset.
pub fn summarise(runs: &[SeedTasks]) -> TasksRow {
    let first = runs[0].values();
    let metrics = first
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let v: Vec<f64> = runs.iter().map(|r| r.values()[i].1).collect();
            let (mean, std) = mean_std(&v);
            MetricSummary {
                name: name.clone(),
                mean,
                std,
            }
        })
        .collect();
    let secs: Vec<f64> = runs
        .iter()
        .map(|r| r.whole_graph_seconds.unwrap_or(0.0) + r.link_seconds.unwrap_or(0.0))
        .collect();
    TasksRow {
        dataset: runs[0].dataset.clone(),
        model: runs[0].model.clone(),
        seeds: runs.len(),
        metrics,
        arga_paper: super::arga_paper::clustering(&runs[0].model, &runs[0].dataset),
        seconds_per_seed: mean_std(&secs).0,
    }
}
