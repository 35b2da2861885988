use crate::globals::Globals;
use crate::train_cmd::{bar, LossArg};
use anyhow::Context;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::path::PathBuf;
use vgae_core::baselines::{self, BaselineConfig, BaselineKind};
use vgae_core::graph::paper::{mean_std, table1};
use vgae_core::graph::{run, train, GraphRunResult, GraphTrainConfig, GraphTrainer, ModelKind};

#[derive(Subcommand)]
pub enum ReproduceCommand {
    /// Kipf & Welling (2016) Table 1: link prediction on Cora, Citeseer and Pubmed.
    Table1(Table1Args),
}

#[derive(Args)]
pub struct Table1Args {
    /// Comma-separated datasets.
    #[arg(long, default_value = "cora,citeseer,pubmed", value_delimiter = ',')]
    pub datasets: Vec<String>,
    /// Comma-separated rows: sc (spectral clustering), dw (DeepWalk), gae-x (GAE*), vgae-x (VGAE*), gae,
    /// vgae. The baselines use the same split per seed as the autoencoders.
    #[arg(
        long,
        default_value = "sc,dw,gae-x,vgae-x,gae,vgae",
        value_delimiter = ','
    )]
    pub models: Vec<String>,
    /// Number of seeds (0..N), each with its own split.
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    #[arg(long, value_enum, default_value = "dense")]
    pub loss: LossArg,
    #[arg(long, default_value_t = 200)]
    pub epochs: usize,
    /// Output directory for table1.md and table1.json.
    #[arg(long, default_value = "runs/table1")]
    pub out: PathBuf,
    /// Print the summary rows as JSON instead of the markdown table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Row {
    dataset: String,
    model: String,
    seeds: usize,
    auc_mean: f64,
    auc_std: f64,
    ap_mean: f64,
    ap_std: f64,
    best_val_auc_mean: f64,
    best_val_ap_mean: f64,
    paper_auc: Option<f64>,
    paper_ap: Option<f64>,
    /// Mean seconds per training epoch (null for SC / DW, which have no epochs).
    seconds_per_epoch: Option<f64>,
    /// Mean seconds per run (training, or computing the baseline's embedding).
    seconds_per_run: f64,
}

#[derive(Serialize)]
struct RunEntry<'a> {
    dataset: &'a str,
    seed: u64,
    #[serde(flatten)]
    result: &'a GraphRunResult,
}

/// A row of the table: an autoencoder (kind, with features?) or a baseline.
#[derive(Clone, Copy)]
enum RowKind {
    Model(ModelKind, bool),
    Baseline(BaselineKind),
}

fn parse_model(s: &str) -> anyhow::Result<RowKind> {
    Ok(match s.trim().to_ascii_lowercase().as_str() {
        "sc" => RowKind::Baseline(BaselineKind::Sc),
        "dw" => RowKind::Baseline(BaselineKind::Dw),
        "gae-x" | "gae*" => RowKind::Model(ModelKind::Gae, false),
        "vgae-x" | "vgae*" => RowKind::Model(ModelKind::Vgae, false),
        "gae" => RowKind::Model(ModelKind::Gae, true),
        "vgae" => RowKind::Model(ModelKind::Vgae, true),
        _ => anyhow::bail!(
            "--models: unknown row '{s}': expected sc, dw, gae-x, vgae-x, gae or vgae"
        ),
    })
}

pub fn run(cmd: ReproduceCommand, g: &Globals) -> anyhow::Result<()> {
    let ReproduceCommand::Table1(a) = cmd;
    let models = a
        .models
        .iter()
        .map(|m| parse_model(m))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let device = g.device()?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let mut rows = Vec::new();
    let mut runs: Vec<(String, u64, GraphRunResult)> = Vec::new();
    for ds in &a.datasets {
        let graph = g.source().load_graph(ds)?;
        for &kind in &models {
            let mut results = Vec::new();
            for seed in 0..a.seeds {
                let (model, features) = match kind {
                    RowKind::Model(m, f) => (m, f),
                    RowKind::Baseline(b) => {
                        // The split of this seed, exactly as the autoencoder rows draw it.
                        let cfg = GraphTrainConfig {
                            dataset: graph.name.clone(),
                            seed,
                            ..GraphTrainConfig::default()
                        };
                        let split = train::make_split(&graph, &cfg)?;
                        let pb = bar(1, a.json);
                        pb.set_prefix(format!("{} {} seed {seed}", graph.name, b.label()));
                        pb.tick();
                        let r = baselines::run(b, &graph, &split, &BaselineConfig::default(), seed)
                            .with_context(|| {
                                format!("{} on {} (seed {seed})", b.label(), graph.name)
                            })?;
                        pb.finish_and_clear();
                        let res = r.result();
                        results.push(res.clone());
                        runs.push((graph.name.clone(), seed, res));
                        continue;
                    }
                };
                let cfg = GraphTrainConfig {
                    dataset: graph.name.clone(),
                    model,
                    features,
                    loss: a.loss.into(),
                    epochs: a.epochs,
                    seed,
                    ..GraphTrainConfig::default()
                };
                let split = train::make_split(&graph, &cfg)?;
                let mut trainer = GraphTrainer::new(cfg, &graph, split, &device)?;
                let pb = bar(a.epochs as u64, a.json);
                pb.set_prefix(format!(
                    "{} {} seed {seed}",
                    graph.name,
                    trainer.cfg.label()
                ));
                let res = run::run(&mut trainer, None, |_| pb.inc(1))?;
                pb.finish_and_clear();
                results.push(res.clone());
                runs.push((graph.name.clone(), seed, res));
            }
            let label = results[0].label.clone();
            let col = |f: fn(&GraphRunResult) -> f64| results.iter().map(f).collect::<Vec<_>>();
            let (auc_mean, auc_std) = mean_std(&col(|r| r.test_auc));
            let (ap_mean, ap_std) = mean_std(&col(|r| r.test_ap));
            let paper = table1(&label, &graph.name);
            let row = Row {
                dataset: graph.name.clone(),
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
            };
            if !a.json {
                eprintln!("{}", row_line(&row));
            }
            rows.push(row);
        }
    }
    let md = markdown(&rows, &a);
    std::fs::write(a.out.join("table1.md"), &md)?;
    let all: Vec<RunEntry> = runs
        .iter()
        .map(|(d, s, r)| RunEntry {
            dataset: d,
            seed: *s,
            result: r,
        })
        .collect();
    std::fs::write(
        a.out.join("table1.json"),
        serde_json::to_string_pretty(&serde_json::json!({ "rows": rows, "runs": all }))?,
    )?;
    if a.json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        println!("{md}");
    }
    Ok(())
}

fn pct(m: f64, s: f64) -> String {
    format!("{:.1} ± {:.1}", 100.0 * m, 100.0 * s)
}

fn row_line(r: &Row) -> String {
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

fn markdown(rows: &[Row], a: &Table1Args) -> String {
    let mut s = format!(
        "Link prediction, test AUC / AP in % (mean ± std over {} seeds, each its own split; {} loss, {} epochs).\n\
         \"last\" = after the last epoch (the paper's protocol); \"best-val\" = at the epoch of best validation AUC.\n\
         SC (128 non-trivial eigenvectors of the training graph's normalised Laplacian) and DW (DeepWalk, 128 dims) \
         have no epochs: their two AUC / AP columns are the same run.\n\n\
         | model | dataset | AUC (last) | AP (last) | AUC / AP (best-val) | paper AUC / AP | seeds | s/epoch | s/run |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        a.seeds,
        format!("{:?}", a.loss).to_lowercase(),
        a.epochs
    );
    for r in rows {
        s.push_str(&row_line(r));
        s.push('\n');
    }
    s
}
