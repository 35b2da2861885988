//! `vgae experiment run GRID.toml`: an experiment grid (`vgae_core::experiments::grid`), resumable after a
//! crash, summarised in `tables.md`, `tables.csv` and `chart.png`.

use crate::globals::Globals;
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use vgae_core::experiments::grid::GridSpec;
use vgae_core::experiments::grid_jobs::{run_grid_jobs, run_worker_cell};
use vgae_core::experiments::grid_run::{run_grid, GridEvent};
use vgae_core::experiments::{grid_chart, grid_tables};

#[derive(Subcommand)]
pub enum ExperimentCommand {
    /// Run (or resume) every cell of a grid file: datasets × models × params × tasks × seeds.
    Run(RunArgs),
    /// One cell of a grid, as a worker of `run --jobs N` (writes cells/<id>/cell_result.json).
    #[command(hide = true)]
    Cell(CellArgs),
}

#[derive(Args)]
pub struct CellArgs {
    /// The grid file.
    pub grid: PathBuf,
    /// The grid's output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// The cell's key (as in results.jsonl).
    #[arg(long)]
    pub key: String,
}

#[derive(Args)]
pub struct RunArgs {
    /// The grid file (TOML; see grids/ for examples).
    pub grid: PathBuf,
    /// Output folder (default: runs/grids/<name>): grid.json, results.jsonl, cells/, tables.md, tables.csv,
    /// chart.png.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run in a folder holding results of a different grid (cells the two grids share are kept).
    #[arg(long)]
    pub force: bool,
    /// No progress bar; print the grouped rows as JSON instead of markdown.
    #[arg(long)]
    pub json: bool,
    /// Cells run at a time, each in its own process with its share of the cores (1..=64). The results
    /// are those of one process.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
}

pub fn run(cmd: ExperimentCommand, g: &Globals) -> anyhow::Result<()> {
    let a = match cmd {
        ExperimentCommand::Run(a) => a,
        ExperimentCommand::Cell(c) => return cell(c, g),
    };
    let spec = GridSpec::load(&a.grid)?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs/grids").join(&spec.name));
    let mut pb = ProgressBar::hidden();
    let mut on_event = |e: GridEvent<'_>| match e {
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
    };
    let results = if a.jobs > 1 {
        let jobs = a.jobs as usize;
        let mut spawn = worker(g, &a.grid, &out, jobs)?;
        run_grid_jobs(
            &spec,
            &a.grid,
            &out,
            a.force,
            jobs,
            &mut spawn,
            &mut on_event,
        )?
    } else {
        let device = g.device()?;
        run_grid(
            &spec,
            &a.grid,
            &out,
            a.force,
            &g.source(),
            &device,
            &mut on_event,
        )?
    };
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
    if !rows.is_empty() {
        grid_chart::chart_png(&out.join("chart.png"), &spec.name, &rows)?;
    }
    if a.json {
        println!("{}", serde_json::to_string(&rows)?);
    } else {
        println!("{md}");
    }
    Ok(())
}

/// `vgae experiment cell`: one cell, in a worker process.
fn cell(c: CellArgs, g: &Globals) -> anyhow::Result<()> {
    let spec = GridSpec::load(&c.grid)?;
    let device = g.device()?;
    let r = run_worker_cell(&spec, &c.out, &c.key, &g.source(), &device)?;
    println!("{}: {}", r.id, serde_json::to_string(&r.metrics)?);
    Ok(())
}

/// Starts `vgae experiment cell` for a cell, with this run's global options and 1/jobs of the cores.
fn worker<'a>(
    g: &'a Globals,
    grid: &'a Path,
    out: &'a Path,
    jobs: usize,
) -> anyhow::Result<
    impl FnMut(&vgae_core::experiments::grid::Cell, &Path) -> std::io::Result<Child> + 'a,
> {
    let exe = std::env::current_exe().context("finding the vgae binary to start workers")?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = g.threads.unwrap_or((cores / jobs).max(1));
    Ok(
        move |cell: &vgae_core::experiments::grid::Cell, log: &Path| {
            let file = std::fs::File::create(log)?;
            let mut cmd = Command::new(&exe);
            cmd.args(["--device", &g.device.to_string()]).args([
                "--threads",
                &threads.to_string(),
                "--quiet",
            ]);
            if let Some(d) = &g.data_dir {
                cmd.arg("--data-dir").arg(d);
            }
            cmd.args(["experiment", "cell"])
                .arg(grid)
                .arg("--out")
                .arg(out)
                .args(["--key", &cell.key()])
                .stdin(Stdio::null())
                .stdout(file.try_clone()?)
                .stderr(file)
                .spawn()
        },
    )
}
