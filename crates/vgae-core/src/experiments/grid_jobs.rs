//! A grid's cells in parallel processes (`vgae experiment run GRID --jobs N`).
//!
//! The parent is the only writer of `results.jsonl`: it starts up to `jobs` workers, each running one cell
//! ([`run_worker_cell`]) into `cells/<id>/`, with its output in `cells/<id>/log.txt` and its result line in
//! `cells/<id>/`[`CELL_RESULT`]; when a worker exits cleanly the parent appends that line. A kill of the
//! parent loses at most the cells that were running, as with one process. Every cell's numbers are those of
//! the serial run: a cell depends only on its own seed, never on which process ran it or when.

use super::grid::{Cell, GridSpec};
use super::grid_run::{
    append_result, execute, fresh_cell_dir, open_grid, CellResult, GridEvent, Inputs,
};
use crate::{Error, Result};
use candle_core::Device;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;
use vgae_data::source::DataSource;

/// A worker's result line, beside its cell's run.
pub const CELL_RESULT: &str = "cell_result.json";
/// A worker's stdout and stderr.
pub const LOG: &str = "log.txt";

/// Starts a worker for `cell` with its stdout and stderr going to the given log file.
pub type Spawn<'a> = dyn FnMut(&Cell, &Path) -> std::io::Result<Child> + 'a;

/// Runs the cell of `spec` whose key is `key` into `out/cells/<id>/` and writes its result line there
/// ([`CELL_RESULT`]). This is what a worker process does.
pub fn run_worker_cell(
    spec: &GridSpec,
    out: &Path,
    key: &str,
    source: &DataSource,
    device: &Device,
) -> Result<CellResult> {
    let cells = spec.cells();
    let cell = cells
        .iter()
        .find(|c| c.key() == key)
        .ok_or_else(|| Error::msg(format!("--key: the grid has no cell with key '{key}'")))?;
    let mut inputs = Inputs {
        source,
        graphs: HashMap::new(),
    };
    let dir = out.join("cells").join(cell.id());
    let r = execute(cell, &mut inputs, &dir, device, &mut |_| {})?;
    let line = serde_json::to_string(&r).map_err(|e| Error::msg(e.to_string()))?;
    vgae_data::fsio::atomic_write(&dir.join(CELL_RESULT), line.as_bytes())?;
    Ok(r)
}

/// The end of a worker's log, for an error message.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(5).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("\n")
}

/// Like [`super::grid_run::run_grid`], with up to `jobs` cells at a time, each in a worker started by
/// `spawn`. A failing cell lets the running ones finish, then stops the grid with an error naming it.
#[allow(clippy::too_many_arguments)]
pub fn run_grid_jobs(
    spec: &GridSpec,
    path: &Path,
    out: &Path,
    force: bool,
    jobs: usize,
    spawn: &mut Spawn<'_>,
    progress: &mut dyn FnMut(GridEvent<'_>),
) -> Result<Vec<CellResult>> {
    let (results_path, mut done) = open_grid(spec, path, out, force)?;
    let cells = spec.cells();
    let mut pending: VecDeque<(usize, &Cell)> = cells
        .iter()
        .enumerate()
        .filter(|(_, c)| !done.contains_key(&c.key()))
        .collect();
    progress(GridEvent::Start {
        total: cells.len(),
        finished: cells.len() - pending.len(),
    });
    let mut running: Vec<(&Cell, Child, PathBuf)> = Vec::new();
    let mut failure: Option<Error> = None;
    loop {
        while failure.is_none() && running.len() < jobs.max(1) {
            let Some((i, cell)) = pending.pop_front() else {
                break;
            };
            let dir = fresh_cell_dir(out, cell)?;
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            progress(GridEvent::CellStart(i, cell));
            let child = spawn(cell, &dir.join(LOG)).map_err(|e| {
                Error::msg(format!(
                    "grid cell {}: cannot start a worker: {e}",
                    cell.id()
                ))
            })?;
            running.push((cell, child, dir));
        }
        if running.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        let mut k = 0;
        while k < running.len() {
            let status = running[k]
                .1
                .try_wait()
                .map_err(|e| Error::msg(e.to_string()))?;
            let Some(status) = status else {
                k += 1;
                continue;
            };
            let (cell, _, dir) = running.swap_remove(k);
            let line = dir.join(CELL_RESULT);
            match (status.success(), std::fs::read_to_string(&line)) {
                (true, Ok(text)) => {
                    let r: CellResult = serde_json::from_str(&text)
                        .map_err(|e| Error::msg(format!("{}: {e}", line.display())))?;
                    append_result(&results_path, &r)?;
                    progress(GridEvent::CellEnd(&r));
                    done.insert(r.key.clone(), r);
                }
                _ => {
                    let log = dir.join(LOG);
                    failure.get_or_insert(Error::msg(format!(
                        "grid cell {} failed ({status}; output in {}):\n{}",
                        cell.id(),
                        log.display(),
                        log_tail(&log)
                    )));
                }
            }
        }
    }
    if let Some(e) = failure {
        return Err(e);
    }
    Ok(cells
        .iter()
        .filter_map(|c| done.get(&c.key()).cloned())
        .collect())
}
