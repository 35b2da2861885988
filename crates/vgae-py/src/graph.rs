//! `vgae.Graph`: a graph built from numpy arrays (PyG's `edge_index`, `x`, `y`, `edge_weight`) or loaded by
//! name (`vgae.datasets.cora()`), checked as the library checks every input.

use crate::arrays::{self, describe};
use crate::err;
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::collections::HashMap;
use vgae_data::graph::CsrMatrix;
use vgae_data::Graph;

/// A graph: nodes `0..num_nodes`, undirected edges (each stored once, `u < v`) or directed arcs, optional
/// node features, labels and edge weights.
#[pyclass(module = "vgae._native", name = "Graph", frozen)]
pub struct PyGraph {
    pub graph: Graph,
}

#[pymethods]
impl PyGraph {
    /// Builds a graph. `edge_index`: int64 `[2, E]` (PyG; both directions or one) or `[E, 2]`;
    /// `num_nodes`: default the largest id + 1; `x`: float32 `[num_nodes, F]`, or a CSR matrix as the
    /// tuple `(indptr, indices, data, (rows, cols))`, or a SciPy sparse matrix;
    /// `y`: int labels, negative where unknown; `edge_weight`: one positive weight per column of
    /// `edge_index` (the two directions of an edge must agree); `directed`: keep each pair's orientation.
    #[new]
    #[pyo3(signature = (edge_index, num_nodes=None, x=None, y=None, edge_weight=None, directed=false, name="graph"))]
    fn new(
        edge_index: &Bound<'_, PyAny>,
        num_nodes: Option<usize>,
        x: Option<&Bound<'_, PyAny>>,
        y: Option<&Bound<'_, PyAny>>,
        edge_weight: Option<&Bound<'_, PyAny>>,
        directed: bool,
        name: &str,
    ) -> PyResult<Self> {
        let pairs = arrays::pairs("edge_index", edge_index)?;
        let n = match num_nodes {
            Some(n) => n,
            None => pairs
                .iter()
                .flatten()
                .max()
                .map_or(0, |&m| m as usize + 1)
                .max(x.map_or(Ok(0), feature_rows)?),
        };
        let mut g = if directed {
            Graph::from_arcs(n, &pairs)
        } else {
            Graph::from_edges(n, &pairs)
        }
        .map_err(err)?
        .with_name(name);
        if let Some(w) = edge_weight {
            let w = weights(
                &g,
                &pairs,
                &arrays::vector::<f32>("edge_weight", w).or_else(|_| {
                    arrays::vector::<f64>("edge_weight", w)
                        .map(|v| v.into_iter().map(|x| x as f32).collect())
                })?,
            )?;
            g = g.with_edge_weights(w).map_err(err)?;
        }
        if let Some(x) = x {
            g = with_features(g, x)?;
        }
        if let Some(y) = y {
            let y = arrays::vector::<i64>("y", y)?;
            let labels = y.iter().map(|&c| u32::try_from(c).ok()).collect::<Vec<_>>();
            g = g.with_labels(labels).map_err(err)?;
        }
        Ok(PyGraph { graph: g })
    }

    /// Nodes.
    #[getter]
    fn num_nodes(&self) -> usize {
        self.graph.num_nodes
    }

    /// Edges (undirected: each once) or arcs.
    #[getter]
    fn num_edges(&self) -> usize {
        self.graph.edges.len()
    }

    /// Whether the graph keeps orientation.
    #[getter]
    fn directed(&self) -> bool {
        self.graph.directed
    }

    /// The graph's name (checkpoints record it).
    #[getter]
    fn name(&self) -> &str {
        &self.graph.name
    }

    /// The edges as int64 `[2, E]`, each undirected edge once with `u < v`, sorted (use
    /// `torch_geometric.utils.to_undirected` for both directions).
    #[getter]
    fn edge_index<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray2<i64>> {
        arrays::edge_index(py, &self.graph.edges)
    }

    /// Node features as dense float32 `[num_nodes, F]`, or None.
    #[getter]
    fn x<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyArray2<f32>>>> {
        let Some(f) = &self.graph.features else {
            return Ok(None);
        };
        let mut dense = vec![0f32; f.rows * f.cols];
        for r in 0..f.rows {
            let (cols, vals) = f.row(r);
            for (&c, &v) in cols.iter().zip(vals) {
                dense[r * f.cols + c as usize] = v;
            }
        }
        arrays::matrix(py, dense, f.rows, f.cols).map(Some)
    }

    /// Node labels as int64 (−1 where unknown), or None.
    #[getter]
    fn y<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<i64>>> {
        let l = self.graph.labels.as_ref()?;
        let v: Vec<i64> = l.iter().map(|c| c.map_or(-1, |c| c as i64)).collect();
        Some(PyArray1::from_vec(py, v))
    }

    /// Edge weights aligned with `edge_index`, or None.
    #[getter]
    fn edge_weight<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyArray1<f32>>> {
        let w = self.graph.edge_weights.as_ref()?;
        Some(PyArray1::from_vec(py, w.clone()))
    }

    /// A hash of nodes, edges, features and weights: what checkpoints and splits are tied to.
    #[getter]
    fn fingerprint(&self) -> String {
        self.graph.fingerprint()
    }

    /// The statistics `vgae data info --json` prints, as a dict.
    fn info<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = serde_json::to_value(self.graph.info()).map_err(err)?;
        json_to_py(py, &v)
    }

    fn __repr__(&self) -> String {
        let g = &self.graph;
        format!(
            "Graph(name={:?}, num_nodes={}, num_edges={}, directed={}, features={})",
            g.name,
            g.num_nodes,
            g.edges.len(),
            g.directed,
            g.features.as_ref().map_or(0, |f| f.cols)
        )
    }
}

/// Loads a dataset by name (`cora`, `citeseer`, `pubmed`: Cora is built in, the others are read from
/// `data_dir`, `$VGAE_DATA_DIR` or the hub cache) or an edge-list file, as `vgae train --dataset` does.
#[pyfunction]
#[pyo3(signature = (name, data_dir=None))]
pub fn load_dataset(
    py: Python<'_>,
    name: &str,
    data_dir: Option<std::path::PathBuf>,
) -> PyResult<PyGraph> {
    // DataSource reads $VGAE_DATA_DIR itself, after `data_dir`.
    let source = vgae_data::source::DataSource::new(data_dir);
    let graph = py.detach(|| source.load_graph(name)).map_err(err)?;
    Ok(PyGraph { graph })
}

fn feature_rows(x: &Bound<'_, PyAny>) -> PyResult<usize> {
    let csr = scipy_csr(x)?;
    let x = csr.as_ref().map_or(x, |t| t.as_any());
    if let Ok(t) = x.cast::<PyTuple>() {
        let (r, _): (usize, usize) = t.get_item(3)?.extract()?;
        return Ok(r);
    }
    Ok(arrays::dense_f32("x", x)?.1)
}

/// A SciPy sparse matrix (anything with `tocsr()`) as the CSR tuple `(indptr, indices, data, shape)`.
fn scipy_csr<'py>(x: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyTuple>>> {
    if !x.hasattr("tocsr")? {
        return Ok(None);
    }
    let c = x.call_method0("tocsr")?;
    let items = [
        c.getattr("indptr")?,
        c.getattr("indices")?,
        c.getattr("data")?,
        c.getattr("shape")?,
    ];
    Ok(Some(PyTuple::new(x.py(), items)?))
}

fn with_features(g: Graph, x: &Bound<'_, PyAny>) -> PyResult<Graph> {
    let csr = scipy_csr(x)?;
    let x = csr.as_ref().map_or(x, |t| t.as_any());
    if let Ok(t) = x.cast::<PyTuple>() {
        if t.len() != 4 {
            return Err(err(format!(
                "x as a tuple must be a CSR matrix's (indptr, indices, data, (rows, cols)), got {} items",
                t.len()
            )));
        }
        let indptr = arrays::vector::<i64>("x indptr", &t.get_item(0)?)
            .or_else(|_| arrays::vector::<i32>("x indptr", &t.get_item(0)?).map(widen))?;
        let indices = arrays::vector::<i32>("x indices", &t.get_item(1)?).or_else(|_| {
            arrays::vector::<i64>("x indices", &t.get_item(1)?)
                .map(|v| v.into_iter().map(|c| c as i32).collect())
        })?;
        let data = arrays::vector::<f32>("x data", &t.get_item(2)?).or_else(|_| {
            arrays::vector::<f64>("x data", &t.get_item(2)?)
                .map(|v| v.into_iter().map(|x| x as f32).collect())
        })?;
        let (rows, cols): (usize, usize) = t
            .get_item(3)?
            .extract()
            .map_err(|_| err("x: the CSR tuple's fourth item must be its shape (rows, cols)"))?;
        let indptr = indptr
            .iter()
            .map(|&p| {
                usize::try_from(p)
                    .map_err(|_| err(format!("x indptr holds {p}, expected offsets >= 0")))
            })
            .collect::<PyResult<Vec<_>>>()?;
        let indices = indices
            .iter()
            .map(|&c| {
                u32::try_from(c)
                    .map_err(|_| err(format!("x indices holds {c}, expected columns >= 0")))
            })
            .collect::<PyResult<Vec<_>>>()?;
        let csr = CsrMatrix {
            rows,
            cols,
            indptr,
            indices,
            data,
        };
        return g.with_sparse_features(csr).map_err(err);
    }
    let (values, rows, cols) = arrays::dense_f32("x", x)?;
    if rows != g.num_nodes {
        return Err(err(format!(
            "x has {rows} rows, expected one per node ({}), from {}",
            g.num_nodes,
            describe(x)
        )));
    }
    g.with_dense_features(values, cols).map_err(err)
}

fn widen(v: Vec<i32>) -> Vec<i64> {
    v.into_iter().map(i64::from).collect()
}

/// One weight per canonical edge from one weight per input pair; the two directions of an edge (or a
/// repeated pair) must carry the same weight.
fn weights(g: &Graph, pairs: &[[u32; 2]], w: &[f32]) -> PyResult<Vec<f32>> {
    if w.len() != pairs.len() {
        return Err(err(format!(
            "edge_weight has {} values, expected one per edge_index column ({})",
            w.len(),
            pairs.len()
        )));
    }
    let key = |[u, v]: [u32; 2]| {
        if g.directed {
            (u, v)
        } else {
            (u.min(v), u.max(v))
        }
    };
    let mut by_pair: HashMap<(u32, u32), f32> = HashMap::with_capacity(pairs.len());
    for (k, (&p, &x)) in pairs.iter().zip(w).enumerate() {
        if p[0] == p[1] {
            continue;
        }
        if let Some(&old) = by_pair.get(&key(p)) {
            if old != x {
                return Err(err(format!(
                    "edge_weight: pair {k} ({}, {}) has weight {x}, but the same edge had {old} earlier",
                    p[0], p[1]
                )));
            }
        }
        by_pair.insert(key(p), x);
    }
    Ok(g.edges.iter().map(|&[u, v]| by_pair[&(u, v)]).collect())
}

/// A JSON value as the Python object `json.loads` would give.
pub fn json_to_py<'py>(py: Python<'py>, v: &serde_json::Value) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(v).map_err(err)?;
    py.import("json")?.call_method1("loads", (text,))
}
