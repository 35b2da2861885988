//! `vgae.split`: the leak-free link-prediction split (Kipf & Welling's `mask_test_edges`, or PyG's
//! `RandomLinkSplit` order), the same split `vgae train` and `vgae split make` draw for a seed.

use crate::arrays;
use crate::err;
use crate::graph::PyGraph;
use numpy::PyArray2;
use pyo3::prelude::*;
use std::path::PathBuf;
use vgae_core::rng::RunRng;
use vgae_data::split::SplitMethod;
use vgae_data::{DirectedTask, EdgeSplit, SplitConfig};

/// Train / validation / test pairs, each an int64 `[2, k]` array (PyG's layout). Negatives are non-edges
/// of the whole graph; validation and test are disjoint.
#[pyclass(module = "vgae._native", name = "Split", frozen)]
pub struct PySplit {
    pub split: EdgeSplit,
}

#[pymethods]
impl PySplit {
    /// Training edges.
    #[getter]
    fn train_pos<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<i64>> {
        arrays::edge_index(py, &self.split.train_pos)
    }
    /// Held-out validation edges.
    #[getter]
    fn val_pos<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<i64>> {
        arrays::edge_index(py, &self.split.val_pos)
    }
    /// Validation non-edges, as many as `val_pos`.
    #[getter]
    fn val_neg<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<i64>> {
        arrays::edge_index(py, &self.split.val_neg)
    }
    /// Held-out test edges.
    #[getter]
    fn test_pos<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<i64>> {
        arrays::edge_index(py, &self.split.test_pos)
    }
    /// Test non-edges, as many as `test_pos`, disjoint from `val_neg`.
    #[getter]
    fn test_neg<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<i64>> {
        arrays::edge_index(py, &self.split.test_neg)
    }
    /// The seed the split was drawn with.
    #[getter]
    fn seed(&self) -> u64 {
        self.split.seed
    }
    /// The split's content hash (recorded in checkpoints).
    #[getter]
    fn hash(&self) -> String {
        self.split.hash()
    }
    /// The fingerprint of the graph it was drawn from.
    #[getter]
    fn fingerprint(&self) -> String {
        self.split.fingerprint.clone()
    }

    /// Checks the split against `graph` (its fingerprint, no held-out edge in training, negatives are
    /// non-edges); raises `VgaeError` naming the first violation.
    fn audit(&self, graph: &PyGraph) -> PyResult<()> {
        self.split.audit(&graph.graph).map_err(err)
    }

    /// Writes the split as `vgae split make` does (safetensors), atomically.
    fn save(&self, path: PathBuf) -> PyResult<()> {
        self.split.save(&path).map_err(err)
    }

    /// Reads a split file written by `save` or `vgae split make`.
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Self> {
        Ok(PySplit {
            split: EdgeSplit::load(&path).map_err(err)?,
        })
    }

    fn __repr__(&self) -> String {
        let s = &self.split;
        format!(
            "Split(dataset={:?}, seed={}, train={}, val={}+{}, test={}+{})",
            s.dataset,
            s.seed,
            s.train_pos.len(),
            s.val_pos.len(),
            s.val_neg.len(),
            s.test_pos.len(),
            s.test_neg.len()
        )
    }
}

/// Parses a split method name.
fn method(name: &str) -> PyResult<SplitMethod> {
    match name {
        "kipf" => Ok(SplitMethod::Kipf),
        "pyg" => Ok(SplitMethod::Pyg),
        _ => Err(err(format!(
            "unknown split method '{name}': expected kipf or pyg"
        ))),
    }
}

/// Parses a directed task name.
pub fn task(name: &str) -> PyResult<DirectedTask> {
    match name {
        "general" => Ok(DirectedTask::General),
        "biased" => Ok(DirectedTask::Biased),
        "bidirectional" => Ok(DirectedTask::Bidirectional),
        _ => Err(err(format!(
            "unknown task '{name}': expected general, biased or bidirectional"
        ))),
    }
}

/// The split config of the arguments.
pub fn config(
    val: f64,
    test: f64,
    method_name: &str,
    task_name: Option<&str>,
) -> PyResult<SplitConfig> {
    Ok(SplitConfig {
        val_frac: val,
        test_frac: test,
        method: method(method_name)?,
        directed: task_name.map(task).transpose()?,
    })
}

/// Draws the split of `graph` for `seed` from the run RNG's split stream, so `vgae.split(g, seed=s)` is the
/// split `vgae train --seed s` and `vgae split make --seed s` use. `method`: `kipf` or `pyg`; `task`
/// (directed graphs): `general`, `biased` or `bidirectional`.
#[pyfunction]
#[pyo3(signature = (graph, val=0.05, test=0.1, seed=0, method="kipf", task=None))]
pub fn split(
    py: Python<'_>,
    graph: &PyGraph,
    val: f64,
    test: f64,
    seed: u64,
    method: &str,
    task: Option<&str>,
) -> PyResult<PySplit> {
    let cfg = config(val, test, method, task)?;
    let g = &graph.graph;
    let split = py
        .detach(|| EdgeSplit::new(g, &cfg, seed, &mut RunRng::stream(seed, 0)))
        .map_err(err)?;
    Ok(PySplit { split })
}
