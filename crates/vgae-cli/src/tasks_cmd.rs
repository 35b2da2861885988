//! `vgae tasks`: node clustering, node classification and link ranking for GAE / VGAE over seeds
//! (`vgae_core::experiments::tasks_table`), written to `tasks.md` and `tasks.json`.

use crate::globals::Globals;
use crate::train_cmd::{bar, LossArg};
use anyhow::Context;
use clap::Args;
use indicatif::ProgressBar;
use std::path::PathBuf;
use vgae_core::experiments::node_tasks::RankingConfig;
use vgae_core::experiments::table1;
use vgae_core::experiments::tasks_table::{self, Phase, Task, TasksConfig, TasksEvent};
use vgae_core::tasks::{KMeansConfig, ProbeConfig};

#[derive(Args)]
pub struct TasksArgs {
    /// Comma-separated datasets (classification needs cora, citeseer or pubmed: the public split).
    #[arg(long, default_value = "cora,citeseer,pubmed", value_delimiter = ',')]
    pub datasets: Vec<String>,
    /// Comma-separated models: gae, vgae (with features), gae-x, vgae-x (featureless).
    #[arg(long, default_value = "gae,vgae", value_delimiter = ',')]
    pub models: Vec<String>,
    /// Number of seeds (0..N).
    #[arg(long, default_value_t = 10)]
    pub seeds: u64,
    /// Comma-separated tasks: clustering (k-means on mu, model trained on every edge), classification
    /// (logistic regression on the same mu, public split), ranking (AUC / AP, Hits@K, MRR on the link split).
    #[arg(
        long,
        default_value = "clustering,classification,ranking",
        value_delimiter = ','
    )]
    pub tasks: Vec<String>,
    #[arg(long, value_enum, default_value = "dense")]
    pub loss: LossArg,
    #[arg(long, default_value_t = 200)]
    pub epochs: usize,
    /// k-means++ restarts (the run of lowest inertia is kept).
    #[arg(long, default_value_t = 10)]
    pub kmeans_restarts: usize,
    /// Comma-separated K of Hits@K.
    #[arg(long, default_value = "20,50,100", value_delimiter = ',')]
    pub hits: Vec<usize>,
    /// Negatives per test edge for MRR.
    #[arg(long, default_value_t = 100)]
    pub mrr_negatives: usize,
    /// Output directory for tasks.md and tasks.json.
    #[arg(long, default_value = "runs/tasks")]
    pub out: PathBuf,
    /// Print the summary rows as JSON instead of the markdown tables.
    #[arg(long)]
    pub json: bool,
}

impl TasksArgs {
    /// The library config, or an error naming the bad flag.
    pub fn config(&self) -> anyhow::Result<TasksConfig> {
        let tasks = self
            .tasks
            .iter()
            .map(|t| t.parse::<Task>())
            .collect::<Result<Vec<_>, _>>()?;
        if self.hits.contains(&0) {
            anyhow::bail!("--hits: K must be at least 1");
        }
        if self.mrr_negatives == 0 || self.kmeans_restarts == 0 {
            anyhow::bail!("--mrr-negatives and --kmeans-restarts must be at least 1");
        }
        Ok(TasksConfig {
            datasets: self.datasets.clone(),
            models: table1::parse_rows(&self.models)?,
            seeds: self.seeds,
            epochs: self.epochs,
            loss: self.loss.into(),
            tasks,
            kmeans: KMeansConfig {
                restarts: self.kmeans_restarts,
                ..KMeansConfig::default()
            },
            probe: ProbeConfig::default(),
            ranking: RankingConfig {
                hits: self.hits.clone(),
                mrr_negatives: self.mrr_negatives,
            },
        })
    }
}

pub fn run(a: TasksArgs, g: &Globals) -> anyhow::Result<()> {
    let cfg = a.config()?;
    let device = g.device()?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let mut pb: Option<ProgressBar> = None;
    let res = tasks_table::tasks(&cfg, &g.source(), &device, &mut |e| match e {
        TasksEvent::RunStart {
            dataset,
            label,
            seed,
            phase,
            epochs,
        } => {
            if let Some(b) = pb.take() {
                b.finish_and_clear();
            }
            let b = bar(epochs as u64, a.json);
            let what = match phase {
                Phase::WholeGraph => "all edges",
                Phase::LinkSplit => "link split",
            };
            b.set_prefix(format!("{dataset} {label} seed {seed} ({what})"));
            pb = Some(b);
        }
        TasksEvent::Epoch(_) => {
            if let Some(b) = &pb {
                b.inc(1);
            }
        }
        TasksEvent::SeedEnd(_) => {
            if let Some(b) = pb.take() {
                b.finish_and_clear();
            }
        }
        TasksEvent::Row(row) => {
            if !a.json {
                let show: Vec<String> = row
                    .metrics
                    .iter()
                    .map(|m| format!("{} {}", m.name, table1::pct(m.mean, m.std)))
                    .collect();
                eprintln!("{} {}: {}", row.model, row.dataset, show.join(", "));
            }
        }
    })?;
    let md = tasks_table::markdown(&res.rows, &cfg);
    std::fs::write(a.out.join("tasks.md"), &md)
        .with_context(|| format!("writing {}", a.out.join("tasks.md").display()))?;
    let json = serde_json::json!({ "config": cfg, "rows": res.rows, "runs": res.runs });
    std::fs::write(
        a.out.join("tasks.json"),
        serde_json::to_string_pretty(&json)?,
    )
    .with_context(|| format!("writing {}", a.out.join("tasks.json").display()))?;
    if a.json {
        println!("{}", serde_json::to_string(&res.rows)?);
    } else {
        println!("{md}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: TasksArgs,
    }

    fn config(argv: &[&str]) -> anyhow::Result<TasksConfig> {
        let mut all = vec!["vgae"];
        all.extend_from_slice(argv);
        Cli::try_parse_from(all)?.args.config()
    }

    #[test]
    fn flags_become_the_library_config_and_bad_ones_are_named() {
        let c = config(&[
            "--datasets",
            "cora",
            "--models",
            "vgae",
            "--tasks",
            "ranking",
            "--hits",
            "10",
        ])
        .unwrap();
        assert_eq!(
            (c.datasets.len(), c.models.len(), c.tasks.clone()),
            (1, 1, vec![Task::Ranking])
        );
        assert_eq!(
            (c.ranking.hits.clone(), c.ranking.mrr_negatives, c.seeds),
            (vec![10], 100, 10)
        );
        for (argv, names) in [
            (&["--tasks", "ranking,clusters"][..], "--tasks"),
            (&["--models", "gae,sc2"][..], "--models"),
            (&["--hits", "0"][..], "--hits"),
            (&["--mrr-negatives", "0"][..], "--mrr-negatives"),
        ] {
            let e = config(argv).unwrap_err().to_string();
            assert!(e.contains(names), "{argv:?}: {e}");
        }
    }
}
