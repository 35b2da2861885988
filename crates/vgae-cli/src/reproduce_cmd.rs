use crate::globals::Globals;
use crate::train_cmd::{bar, LossArg};
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::ProgressBar;
use std::path::PathBuf;
use vgae_core::experiments::table1::{self, Table1Config, Table1Event};

#[derive(Subcommand)]
pub enum ReproduceCommand {
    /// Kipf & Welling (2016) Table 1: link prediction on Cora, Citeseer and Pubmed.
    Table1(Table1Args),
    /// Salha et al. (2019): the three directed link-prediction tasks for GAE / VGAE with the inner-product,
    /// source/target and gravity decoders, on a seeded directed block model or your directed edge list.
    Directed(DirectedArgs),
}

#[derive(Args)]
pub struct DirectedArgs {
    /// A directed edge list (read with its orientation); default: `vgae data synth --directed` with the
    /// given --nodes and --graph-seed.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Nodes of the synthetic graph.
    #[arg(long, default_value_t = 1000)]
    pub nodes: usize,
    /// Seed of the synthetic graph.
    #[arg(long, default_value_t = 0)]
    pub graph_seed: u64,
    /// Number of seeds (0..N), each with its own split and initialisation.
    #[arg(long, default_value_t = 5)]
    pub seeds: u64,
    #[arg(long, default_value_t = 200)]
    pub epochs: usize,
    #[arg(long, value_enum, default_value = "dense")]
    pub loss: LossArg,
    /// Output directory for directed.md and directed.json.
    #[arg(long, default_value = "runs/directed")]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct Table1Args {
    /// Comma-separated datasets.
    #[arg(long, default_value = "cora,citeseer,pubmed", value_delimiter = ',')]
    pub datasets: Vec<String>,
    /// Comma-separated rows: sc (spectral clustering), dw (DeepWalk), gae-x (GAE*), vgae-x (VGAE*), gae,
    /// vgae, and beyond the paper linear-gae, linear-vgae, arga, argva (each also -x: featureless). The
    /// baselines use the same split per seed as the autoencoders.
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

pub fn run(cmd: ReproduceCommand, g: &Globals) -> anyhow::Result<()> {
    let a = match cmd {
        ReproduceCommand::Table1(a) => a,
        ReproduceCommand::Directed(a) => return directed(a, g),
    };
    let cfg = Table1Config {
        datasets: a.datasets.clone(),
        rows: table1::parse_rows(&a.models)?,
        seeds: a.seeds,
        loss: a.loss.into(),
        epochs: a.epochs,
    };
    let device = g.device()?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    // One bar per run: its epochs, or a single tick for a baseline.
    let mut pb: Option<ProgressBar> = None;
    let res = table1::table1(&cfg, &g.source(), &device, &mut |e| match e {
        Table1Event::RunStart {
            dataset,
            label,
            seed,
            epochs,
        } => {
            let b = bar(epochs.unwrap_or(1) as u64, a.json);
            b.set_prefix(format!("{dataset} {label} seed {seed}"));
            if epochs.is_none() {
                b.tick();
            }
            pb = Some(b);
        }
        Table1Event::Epoch(_) => {
            if let Some(b) = &pb {
                b.inc(1);
            }
        }
        Table1Event::RunEnd(_) => {
            if let Some(b) = pb.take() {
                b.finish_and_clear();
            }
        }
        Table1Event::RunFailed(f) => {
            if let Some(b) = pb.take() {
                b.finish_and_clear();
            }
            eprintln!("warning: {}", table1::failure_line(f));
        }
        Table1Event::Row(row) => {
            if !a.json {
                eprintln!("{}", table1::row_line(row));
            }
        }
    })?;
    let md = table1::markdown(&res, &cfg);
    std::fs::write(a.out.join("table1.md"), &md)?;
    std::fs::write(
        a.out.join("table1.json"),
        serde_json::to_string_pretty(&res.json())?,
    )?;
    if a.json {
        println!("{}", serde_json::to_string(&res.rows)?);
    } else {
        println!("{md}");
    }
    Ok(())
}

fn directed(a: DirectedArgs, g: &Globals) -> anyhow::Result<()> {
    use vgae_core::experiments::directed_tasks::{self, DirectedTasksConfig};
    let graph = match &a.dataset {
        Some(d) => {
            let opts = vgae_data::edgelist::EdgeListOptions {
                directed: true,
                ..Default::default()
            };
            g.source().load_graph_with(d, &opts)?
        }
        None => {
            let cfg = vgae_data::synth::DirectedSbmConfig {
                nodes: a.nodes,
                ..Default::default()
            };
            vgae_data::synth::directed_sbm(&cfg, &mut vgae_core::rng::RunRng::new(a.graph_seed))
        }
    };
    let cfg = DirectedTasksConfig {
        seeds: a.seeds,
        epochs: a.epochs,
        loss: a.loss.into(),
        ..DirectedTasksConfig::default()
    };
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let device = g.device()?;
    let total = (directed_tasks::TASKS.len() * directed_tasks::MODELS.len()) as u64 * a.seeds;
    let pb = bar(total, g.quiet);
    pb.set_prefix(format!("{} directed tasks", graph.name));
    let runs = directed_tasks::directed_tasks(&graph, &cfg, &device, |r| {
        pb.set_message(format!("{} {} seed {}", r.task, r.model, r.seed));
        pb.inc(1);
    })?;
    pb.finish_and_clear();
    let md = format!(
        "{} ({} nodes, {} arcs, {} reciprocated)\n\n{}",
        graph.name,
        graph.num_nodes,
        graph.edges.len(),
        graph.reciprocal_arcs(),
        directed_tasks::markdown(&runs, &cfg)
    );
    std::fs::write(a.out.join("directed.md"), &md)?;
    std::fs::write(
        a.out.join("directed.json"),
        serde_json::to_string_pretty(&runs)?,
    )?;
    println!("{md}");
    Ok(())
}
