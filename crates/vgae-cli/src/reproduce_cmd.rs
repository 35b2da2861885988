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
    let ReproduceCommand::Table1(a) = cmd;
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
