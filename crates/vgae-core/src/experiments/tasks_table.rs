//! The tasks table: node clustering, node classification and link ranking for GAE / VGAE over seeds, mean ±
//! std per model and dataset, the clustering beside the ARGA paper's numbers. See
//! [`node_tasks`](super::node_tasks) for each protocol.
//!
//! ```no_run
//! use vgae_core::experiments::tasks_table::{markdown, tasks, TasksConfig};
//! use vgae_data::source::DataSource;
//!
//! let cfg = TasksConfig { datasets: vec!["cora".into()], seeds: 2, ..TasksConfig::default() };
//! let res = tasks(&cfg, &DataSource::new(None), &candle_core::Device::Cpu, &mut |_event| {})?;
//! println!("{}", markdown(&res.rows, &cfg));
//! # Ok::<(), vgae_core::Error>(())
//! ```

use super::node_tasks::{
    classify_nodes, cluster_nodes, host_rows, rank_links, train_on_whole_graph, RankingConfig,
};
use super::table1::RowKind;
use crate::graph::train::split_with_held_out;
use crate::graph::{run, GraphTrainConfig, GraphTrainer, LossKind, ModelKind};
use crate::tasks::{KMeansConfig, ProbeConfig};
use crate::{Error, Result};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use vgae_data::planetoid_split::PublicSplit;
use vgae_data::source::DataSource;
use vgae_data::Graph;

/// One evaluation task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// k-means on μ of the model trained on every edge: ACC, NMI, ARI, AMI.
    Clustering,
    /// Logistic-regression probe on the same μ, Planetoid public split: accuracy.
    Classification,
    /// Test AUC / AP, Hits@K and MRR of the link-prediction split's model.
    Ranking,
}

impl std::str::FromStr for Task {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "clustering" => Ok(Task::Clustering),
            "classification" => Ok(Task::Classification),
            "ranking" => Ok(Task::Ranking),
            _ => Err(Error::msg(format!(
                "--tasks: unknown task '{s}': expected clustering, classification or ranking"
            ))),
        }
    }
}

/// What to run: datasets × models × seeds `0..seeds`, each seed running the tasks asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TasksConfig {
    /// Dataset names; classification needs a Planetoid dataset (its public split).
    pub datasets: Vec<String>,
    /// Autoencoder rows (`gae`, `vgae`, `gae-x`, `vgae-x`); SC / DW are refused.
    pub models: Vec<RowKind>,
    /// Number of seeds.
    pub seeds: u64,
    /// Training epochs of every model.
    pub epochs: usize,
    /// Reconstruction loss of every model.
    pub loss: LossKind,
    /// Tasks to run.
    pub tasks: Vec<Task>,
    /// k-means settings.
    pub kmeans: KMeansConfig,
    /// Classification probe settings.
    pub probe: ProbeConfig,
    /// Ranking settings.
    pub ranking: RankingConfig,
}

impl Default for TasksConfig {
    /// GAE and VGAE with features on Cora, Citeseer and Pubmed, 10 seeds, dense loss, 200 epochs, all tasks.
    fn default() -> Self {
        TasksConfig {
            datasets: vec!["cora".into(), "citeseer".into(), "pubmed".into()],
            models: vec![
                RowKind::Model(ModelKind::Gae, true),
                RowKind::Model(ModelKind::Vgae, true),
            ],
            seeds: 10,
            epochs: 200,
            loss: LossKind::Dense,
            tasks: vec![Task::Clustering, Task::Classification, Task::Ranking],
            kmeans: KMeansConfig::default(),
            probe: ProbeConfig::default(),
            ranking: RankingConfig::default(),
        }
    }
}

/// Which training a run event belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Training on every edge (clustering, classification).
    WholeGraph,
    /// Training on the link-prediction split (ranking).
    LinkSplit,
}

/// What [`tasks`] reports while it works.
#[derive(Debug)]
pub enum TasksEvent<'a> {
    /// A training starts.
    RunStart {
        /// The graph's name.
        dataset: &'a str,
        /// The row label.
        label: &'a str,
        /// The seed.
        seed: u64,
        /// Which training.
        phase: Phase,
        /// Its epochs.
        epochs: usize,
    },
    /// An epoch finished (its number).
    Epoch(usize),
    /// All tasks of one seed finished.
    SeedEnd(&'a SeedTasks),
    /// All seeds of a row finished.
    Row(&'a TasksRow),
}

/// The training config of a row on `graph` for `seed`.
pub fn train_config(
    kind: RowKind,
    graph: &Graph,
    seed: u64,
    cfg: &TasksConfig,
) -> Result<GraphTrainConfig> {
    kind.run_config(&graph.name, cfg.loss, cfg.epochs, seed)
        .ok_or_else(|| {
            Error::msg(format!(
            "--models: '{}' is a baseline without embeddings to evaluate here: use an autoencoder \
             (gae, vgae, gae-x, vgae-x, linear-gae, arga, ...)",
            kind.name()
        ))
        })
}

/// Runs every task of `cfg` for one row and seed. `public` is required for classification.
pub fn run_seed(
    graph: &Graph,
    public: Option<&PublicSplit>,
    kind: RowKind,
    seed: u64,
    cfg: &TasksConfig,
    device: &Device,
    progress: &mut dyn FnMut(TasksEvent<'_>),
) -> Result<SeedTasks> {
    let tcfg = train_config(kind, graph, seed, cfg)?;
    let label = tcfg.label();
    let mut out = SeedTasks {
        dataset: graph.name.clone(),
        model: label.clone(),
        seed,
        clustering: None,
        classification: None,
        link: None,
        whole_graph_seconds: None,
        link_seconds: None,
    };
    let wants = |t| cfg.tasks.contains(&t);
    if wants(Task::Clustering) || wants(Task::Classification) {
        progress(TasksEvent::RunStart {
            dataset: &graph.name,
            label: &label,
            seed,
            phase: Phase::WholeGraph,
            epochs: cfg.epochs,
        });
        let (trainer, secs) = train_on_whole_graph(graph, tcfg.clone(), device, &mut |e, _| {
            progress(TasksEvent::Epoch(e))
        })?;
        let (z, d) = host_rows(&trainer.embed()?)?;
        out.whole_graph_seconds = Some(secs);
        if wants(Task::Clustering) {
            out.clustering = Some(cluster_nodes(&z, d, graph, &cfg.kmeans, seed)?);
        }
        if wants(Task::Classification) {
            let split = public.ok_or_else(|| {
                Error::msg(format!(
                    "classification: dataset '{}' has no public node split",
                    graph.name
                ))
            })?;
            out.classification = Some(classify_nodes(&z, d, graph, split, &cfg.probe)?);
        }
    }
    if wants(Task::Ranking) {
        progress(TasksEvent::RunStart {
            dataset: &graph.name,
            label: &label,
            seed,
            phase: Phase::LinkSplit,
            epochs: cfg.epochs,
        });
        let split = split_with_held_out(graph, &tcfg)?;
        let mut trainer = GraphTrainer::new(tcfg, graph, split, device)?;
        let res = run::run(&mut trainer, None, |r| progress(TasksEvent::Epoch(r.epoch)))?;
        let ranking = rank_links(&trainer.embed()?, graph, &trainer.split, &cfg.ranking, seed)?;
        out.link_seconds = Some(res.train_seconds);
        out.link = Some(LinkTaskScores {
            auc: res.test_auc,
            ap: res.test_ap,
            ranking,
        });
    }
    Ok(out)
}

/// Runs the table: for each dataset, each model, each seed. `seeds` must be at least 1.
pub fn tasks(
    cfg: &TasksConfig,
    source: &DataSource,
    device: &Device,
    progress: &mut dyn FnMut(TasksEvent<'_>),
) -> Result<TasksResult> {
    if cfg.seeds == 0 || cfg.tasks.is_empty() || cfg.models.is_empty() {
        return Err(Error::msg(
            "--seeds, --tasks and --models each need at least one value",
        ));
    }
    let mut out = TasksResult {
        rows: Vec::new(),
        runs: Vec::new(),
    };
    for ds in &cfg.datasets {
        let graph = source.load_graph(ds)?;
        let public = if cfg.tasks.contains(&Task::Classification) {
            Some(PublicSplit::from_source(source, ds)?)
        } else {
            None
        };
        for &kind in &cfg.models {
            let mut runs = Vec::new();
            for seed in 0..cfg.seeds {
                let r = run_seed(&graph, public.as_ref(), kind, seed, cfg, device, progress)?;
                progress(TasksEvent::SeedEnd(&r));
                runs.push(r);
            }
            let row = summarise(&runs);
            progress(TasksEvent::Row(&row));
            out.rows.push(row);
            out.runs.extend(runs);
        }
    }
    Ok(out)
}

pub use super::tasks_markdown::markdown;
pub use super::tasks_summary::{
    summarise, LinkTaskScores, MetricSummary, SeedTasks, TasksResult, TasksRow,
};
