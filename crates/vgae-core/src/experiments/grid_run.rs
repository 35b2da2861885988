//! Running a grid so that a crash costs at most the cell that was running.
//!
//! The output folder holds `grid.json` (the grid and its fingerprint), `results.jsonl` (one line per finished
//! cell, rewritten atomically — temporary file, fsync, rename — after each cell, so a kill at any moment leaves
//! it whole), and `cells/<id>/` (each cell's run directory). Re-running skips every cell whose key is in
//! `results.jsonl` and redoes the one a kill interrupted (its folder is cleared first). A grid whose meaning
//! changed since `grid.json` was written is refused unless `force`: then cells are still matched by key, so
//! results of cells the new grid also has are kept.

use super::grid::{Cell, GridSpec, GridTask};
use super::grid_cell::{run_cell, CellInputs};
use crate::rundir::RunDir;
use crate::{Error, Result};
use candle_core::Device;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use vgae_data::planetoid_split::PublicSplit;
use vgae_data::source::DataSource;
use vgae_data::Graph;

/// `results.jsonl` in the output folder.
pub const RESULTS: &str = "results.jsonl";
/// `grid.json` in the output folder.
pub const GRID: &str = "grid.json";

/// One line of `results.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    /// The cell's key ([`Cell::key`]).
    pub key: String,
    /// Its directory name under `cells/`.
    pub id: String,
    /// The cell itself.
    pub cell: Cell,
    /// The row label (GAE, VGAE*, SC, ...).
    pub label: String,
    /// Metrics by name (fractions).
    pub metrics: BTreeMap<String, f64>,
    /// Training seconds.
    pub seconds: f64,
    /// The process that ran it (a resumed grid's new cells carry the new process's id).
    pub pid: u32,
}

/// Reads `results.jsonl` (empty if absent); an error names the file and line of a malformed entry.
pub fn read_results(path: &Path) -> Result<Vec<CellResult>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(path, e)),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| Error::msg(format!("{}: line {}: {e}", path.display(), i + 1)))
        })
        .collect()
}

/// Appends one line to `results.jsonl` by rewriting it atomically.
pub(crate) fn append_result(path: &Path, r: &CellResult) -> Result<()> {
    let mut bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::io(path, e)),
    };
    let line = serde_json::to_string(r).map_err(|e| Error::msg(e.to_string()))?;
    bytes.extend_from_slice(line.as_bytes());
    bytes.push(b'\n');
    Ok(vgae_data::fsio::atomic_write(path, &bytes)?)
}

/// What `grid.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct GridRecord {
    fingerprint: String,
    source: PathBuf,
    grid: GridSpec,
}

/// Writes `grid.json`, refusing (unless `force`) when the folder holds results of a different grid.
pub(crate) fn check_grid(out: &Path, spec: &GridSpec, path: &Path, force: bool) -> Result<()> {
    let p = out.join(GRID);
    if let Ok(text) = std::fs::read_to_string(&p) {
        let old: GridRecord = serde_json::from_str(&text)
            .map_err(|e| Error::msg(format!("{}: not a grid record: {e}", p.display())))?;
        if old.fingerprint != spec.fingerprint() && !force {
            return Err(Error::msg(format!(
                "{} holds results of a different grid (from {}, fingerprint {}; {} is {}): \
                 pass --force to run this grid there anyway (finished cells it shares are kept), \
                 or choose another --out",
                out.display(),
                old.source.display(),
                old.fingerprint,
                path.display(),
                spec.fingerprint()
            )));
        }
    }
    let rec = GridRecord {
        fingerprint: spec.fingerprint(),
        source: path.to_path_buf(),
        grid: spec.clone(),
    };
    let s = serde_json::to_string_pretty(&rec).map_err(|e| Error::msg(e.to_string()))?;
    Ok(vgae_data::fsio::atomic_write(&p, (s + "\n").as_bytes())?)
}

/// What [`run_grid`] reports while it works.
#[derive(Debug)]
pub enum GridEvent<'a> {
    /// The grid starts: cells in all, and how many are already finished.
    Start {
        /// Cells of the grid.
        total: usize,
        /// Cells found in `results.jsonl`.
        finished: usize,
    },
    /// A cell starts (its index in run order).
    CellStart(usize, &'a Cell),
    /// An epoch of the running cell finished.
    Epoch(usize),
    /// The running cell finished.
    CellEnd(&'a CellResult),
}

/// Datasets loaded once per grid run.
pub(crate) struct Inputs<'a> {
    pub(crate) source: &'a DataSource,
    pub(crate) graphs: HashMap<String, (Graph, Option<PublicSplit>)>,
}

impl Inputs<'_> {
    pub(crate) fn get(
        &mut self,
        name: &str,
        public: bool,
    ) -> Result<&(Graph, Option<PublicSplit>)> {
        if !self.graphs.contains_key(name) {
            let g = self.source.load_graph(name)?;
            self.graphs.insert(name.to_string(), (g, None));
        }
        let entry = self.graphs.get_mut(name).expect("inserted");
        if public && entry.1.is_none() {
            entry.1 = Some(PublicSplit::from_source(self.source, name)?);
        }
        Ok(entry)
    }
}

/// `cells/<id>` of `cell` under `out`, emptied of whatever a killed run left there.
pub(crate) fn fresh_cell_dir(out: &Path, cell: &Cell) -> Result<PathBuf> {
    let dir = out.join("cells").join(cell.id());
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    Ok(dir)
}

/// Runs `cell` into `dir_path` and returns its line of `results.jsonl`; an error names the cell.
pub(crate) fn execute(
    cell: &Cell,
    inputs: &mut Inputs<'_>,
    dir_path: &Path,
    device: &Device,
    on_epoch: &mut dyn FnMut(usize),
) -> Result<CellResult> {
    let dir = RunDir::create(dir_path)?;
    let (graph, public) = inputs.get(&cell.dataset, cell.task == GridTask::Classification)?;
    let cin = CellInputs {
        graph,
        public: public.as_ref(),
        device,
    };
    let o = run_cell(cell, &cin, &dir, on_epoch).map_err(|e| {
        Error::msg(format!(
            "grid cell {} ({}): {e}",
            cell.id(),
            dir_path.display()
        ))
    })?;
    Ok(CellResult {
        key: cell.key(),
        id: cell.id(),
        cell: cell.clone(),
        label: o.label,
        metrics: o.metrics,
        seconds: o.seconds,
        pid: std::process::id(),
    })
}

/// Creates `out`, checks (or writes) its grid record, and reads the finished cells by key.
pub(crate) fn open_grid(
    spec: &GridSpec,
    path: &Path,
    out: &Path,
    force: bool,
) -> Result<(PathBuf, HashMap<String, CellResult>)> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    check_grid(out, spec, path, force)?;
    let results_path = out.join(RESULTS);
    let done = read_results(&results_path)?
        .into_iter()
        .map(|r| (r.key.clone(), r))
        .collect();
    Ok((results_path, done))
}

/// Runs every unfinished cell of `spec` (read from `path`) into `out`; returns the results of the grid's cells
/// in grid order. A failing cell stops the grid with an error naming it; finished cells stay recorded.
pub fn run_grid(
    spec: &GridSpec,
    path: &Path,
    out: &Path,
    force: bool,
    source: &DataSource,
    device: &Device,
    progress: &mut dyn FnMut(GridEvent<'_>),
) -> Result<Vec<CellResult>> {
    let (results_path, mut done) = open_grid(spec, path, out, force)?;
    let cells = spec.cells();
    let keys: HashSet<String> = cells.iter().map(Cell::key).collect();
    let finished = done.keys().filter(|k| keys.contains(*k)).count();
    progress(GridEvent::Start {
        total: cells.len(),
        finished,
    });
    let mut inputs = Inputs {
        source,
        graphs: HashMap::new(),
    };
    for (i, cell) in cells.iter().enumerate() {
        let key = cell.key();
        if done.contains_key(&key) {
            continue;
        }
        progress(GridEvent::CellStart(i, cell));
        let dir_path = fresh_cell_dir(out, cell)?;
        let r = execute(cell, &mut inputs, &dir_path, device, &mut |e| {
            progress(GridEvent::Epoch(e))
        })?;
        append_result(&results_path, &r)?;
        progress(GridEvent::CellEnd(&r));
        done.insert(key, r);
    }
    Ok(cells
        .iter()
        .filter_map(|c| done.get(&c.key()).cloned())
        .collect())
}
