//! `vgae experiment run GRID.toml`: an experiment grid (`vgae_core::experiments::grid`), resumable after a
//! crash, summarised in `tables.md` and `tables.csv`.

use crate::globals::Globals;
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::PathBuf;
use vgae_core::experiments::grid::GridSpec;
use vgae_core::experiments::grid_run::{run_grid, GridEvent};
use vgae_core::experiments::grid_tables;

#[derive(Subcommand)]
pub enum ExperimentCommand {
    /// Run (or resume) every cell of a grid file: datasets × models × params × tasks × seeds.
    Run(RunArgs),
}

#[derive(Args)]
pub struct RunArgs {
    /// The grid file (TOML; see grids/ for examples).
    pub grid: PathBuf,
    /// Output folder (default: runs/grids/<name>): grid.json, results.jsonl, cells/, tables.md, tables.csv.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run in a folder holding results of a different grid (cells the two grids share are kept).
    #[arg(long)]
    pub force: bool,
    /// No progress bar; print the grouped rows as JSON instead of markdown.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: ExperimentCommand, g: &Globals) -> anyhow::Result<()> {
    let ExperimentCommand::Run(a) = cmd;
    let spec = GridSpec::load(&a.grid)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/grids").join(&spec.name));
    let device = g.device()?;
    let mut pb = ProgressBar::hidden();
    let results = run_grid(
        &spec,
        &a.grid,
        &out,
        a.force,
        &g.source(),
        &device,
        &mut |e| match e {
            GridEvent::Start { total, finished } => {
                if !a.json {
                    pb = ProgressBar::new(total as u64);
                    pb.set_style(
                        ProgressStyle::with_template(
                            "{prefix} [{bar:30}] {pos}/{len} cells, ETA {eta} {msg}",
                        )
                        .unwrap()
                        .progress_chars("=> "),
                    );
                    pb.set_prefix(spec.name.clone());
                    pb.set_position(finished as u64);
                    pb.reset_eta();
                }
                eprintln!(
                    "grid {}: {total} cells, {finished} already finished in {}",
                    spec.name,
                    out.display()
                );
            }
            GridEvent::CellStart(_, cell) => pb.set_message(cell.id()),
            GridEvent::Epoch(_) => {}
            GridEvent::CellEnd(_) => pb.inc(1),
        },
    )?;
    pb.finish_and_clear();
    let rows = grid_tables::group(&results);
    let md = grid_tables::markdown(&spec.name, &rows);
    for (name, text) in [
        ("tables.md", md.clone()),
        ("tables.csv", grid_tables::csv(&rows)),
    ] {
        let p = out.join(name);
        std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
    }
    if a.json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        println!("{md}");
    }
    Ok(())
}
