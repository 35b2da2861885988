//! One cell of a grid, run into its own run directory:
//!
//! - link / ranking cells of an autoencoder are ordinary training runs ([`crate::graph::run::run`]: config.json,
//!   metrics.jsonl, curves.png, split.safetensors, model.safetensors, result.json), scored after training;
//! - clustering / classification cells train on every edge ([`super::node_tasks`]) and write config.json,
//!   metrics.jsonl (the loss per epoch), model.safetensors and result.json;
//! - SC / DW link cells write config.json and result.json.
//!
//! Every directory also holds `cell.json` (the cell as the grid defined it) and `task.json` (its metrics).

use super::grid::{Cell, GridTask};
use super::node_tasks::{
    classify_nodes, cluster_nodes, host_rows, rank_links, train_on_whole_graph, RankingConfig,
};
use super::table1::RowKind;
use crate::baselines::{self, BaselineConfig};
use crate::graph::train::split_with_held_out;
use crate::graph::{run, GraphTrainConfig, GraphTrainer};
use crate::rundir::RunDir;
use crate::tasks::{KMeansConfig, ProbeConfig};
use crate::{Error, Result};
use candle_core::Device;
use std::collections::BTreeMap;
use std::io::Write;
use vgae_data::planetoid_split::PublicSplit;
use vgae_data::Graph;

/// What a finished cell reports.
#[derive(Debug, Clone, PartialEq)]
pub struct CellOutcome {
    /// The row label (GAE, VGAE*, SC, ...).
    pub label: String,
    /// The task's metrics by name (fractions).
    pub metrics: BTreeMap<String, f64>,
    /// Seconds of training (or of the baseline's embedding).
    pub seconds: f64,
}

/// The graph (and public split, for classification) a cell runs on, and the evaluation settings.
pub struct CellInputs<'a> {
    /// The loaded graph.
    pub graph: &'a Graph,
    /// Its Planetoid public split, if it has one.
    pub public: Option<&'a PublicSplit>,
    /// Where to compute.
    pub device: &'a Device,
}

fn link_metrics(r: &crate::graph::GraphRunResult) -> BTreeMap<String, f64> {
    [
        ("auc", r.test_auc),
        ("ap", r.test_ap),
        ("best_val_auc", r.best_test_auc),
        ("best_val_ap", r.best_test_ap),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Runs `cell` into `dir` (created; expected empty); `on_epoch` sees each epoch.
pub fn run_cell(
    cell: &Cell,
    inputs: &CellInputs<'_>,
    dir: &RunDir,
    on_epoch: &mut dyn FnMut(usize),
) -> Result<CellOutcome> {
    dir.write_json("cell.json", cell)?;
    let graph = inputs.graph;
    let out = match (cell.model, cell.task) {
        (RowKind::Baseline(b), GridTask::Link) => {
            let tcfg = GraphTrainConfig {
                dataset: graph.name.clone(),
                seed: cell.seed,
                ..GraphTrainConfig::default()
            };
            let split = split_with_held_out(graph, &tcfg)?;
            let res =
                baselines::run(b, graph, &split, &BaselineConfig::default(), cell.seed)?.result();
            dir.write_json("config.json", &BaselineConfig::default())?;
            dir.write_json("result.json", &res)?;
            CellOutcome {
                label: b.label().into(),
                metrics: link_metrics(&res),
                seconds: res.train_seconds,
            }
        }
        (RowKind::Baseline(b), t) => {
            return Err(Error::msg(format!(
                "{} runs only the link task, not {}",
                b.label(),
                t.name()
            )))
        }
        (_, GridTask::Link | GridTask::Ranking) => {
            let tcfg = cell.train_config(&graph.name)?;
            let label = tcfg.label();
            let split = split_with_held_out(graph, &tcfg)?;
            let mut trainer = GraphTrainer::new(tcfg, graph, split, inputs.device)?;
            let res = run::run(&mut trainer, Some(dir.path()), |r| on_epoch(r.epoch))?;
            let mut metrics = link_metrics(&res);
            if cell.task == GridTask::Ranking {
                let cfg = RankingConfig::default();
                let r = rank_links(&trainer.embed()?, graph, &trainer.split, &cfg, cell.seed)?;
                metrics.extend(r.hits.iter().map(|&(k, h)| (format!("hits@{k}"), h)));
                metrics.insert("mrr".into(), r.mrr.mrr);
            }
            CellOutcome {
                label,
                metrics,
                seconds: res.train_seconds,
            }
        }
        (_, GridTask::Clustering | GridTask::Classification) => {
            let tcfg = cell.train_config(&graph.name)?;
            let label = tcfg.label();
            dir.write_json("config.json", &tcfg)?;
            let mut losses = Vec::new();
            let (trainer, seconds) =
                train_on_whole_graph(graph, tcfg, inputs.device, &mut |e, l| {
                    losses.push((e, l));
                    on_epoch(e);
                })?;
            write_losses(dir, &losses)?;
            trainer.save_checkpoint(&dir.join(run::FINAL))?;
            let (z, d) = host_rows(&trainer.embed()?)?;
            let mut metrics = BTreeMap::new();
            if cell.task == GridTask::Clustering {
                let c = cluster_nodes(&z, d, graph, &KMeansConfig::default(), cell.seed)?;
                metrics.extend(
                    [
                        ("acc", c.acc),
                        ("nmi", c.nmi),
                        ("ari", c.ari),
                        ("ami", c.ami),
                    ]
                    .map(|(k, v)| (k.to_string(), v)),
                );
            } else {
                let split = inputs.public.ok_or_else(|| {
                    Error::msg(format!(
                        "classification: dataset '{}' has no public node split",
                        graph.name
                    ))
                })?;
                let p = classify_nodes(&z, d, graph, split, &ProbeConfig::default())?;
                metrics.extend(
                    [("acc", p.test_acc), ("val_acc", p.val_acc), ("c", p.c)]
                        .map(|(k, v)| (k.to_string(), v)),
                );
            }
            dir.write_json("result.json", &metrics)?;
            CellOutcome {
                label,
                metrics,
                seconds,
            }
        }
    };
    dir.write_json("task.json", &out.metrics)?;
    Ok(out)
}

/// `metrics.jsonl` of a whole-graph run: `{"epoch": e, "loss": l}` per line.
fn write_losses(dir: &RunDir, losses: &[(usize, f64)]) -> Result<()> {
    let p = dir.join("metrics.jsonl");
    let mut f = std::fs::File::create(&p).map_err(|e| Error::io(&p, e))?;
    for &(epoch, loss) in losses {
        writeln!(f, "{}", serde_json::json!({ "epoch": epoch, "loss": loss }))
            .map_err(|e| Error::io(&p, e))?;
    }
    Ok(())
}
