//! Building a [`Graph`] from data the caller already holds (edge pairs, feature rows, labels, weights),
//! with every input checked so a bad id or a NaN fails here with its position instead of deep in training.

use crate::error::{DataError, Result};
use crate::graph::{CsrMatrix, Graph};
use std::path::Path;

fn err(msg: String) -> DataError {
    DataError::Graph(msg)
}

impl Graph {
    /// A graph on nodes `0..num_nodes` from undirected `[u, v]` pairs, in either direction and with
    /// repeats: self-loops are dropped (counted in `self_loops_dropped`) and the rest canonicalised
    /// (`u < v`, sorted, deduplicated). Fails on `num_nodes == 0` or an id outside `0..num_nodes`,
    /// naming the first such pair. The graph is named "graph", has no features, labels or weights.
    ///
    /// ```
    /// use vgae_data::Graph;
    ///
    /// let g = Graph::from_edges(4, &[[1, 0], [0, 1], [2, 3], [3, 3]]).unwrap();
    /// assert_eq!(g.edges, vec![[0, 1], [2, 3]]);
    /// assert_eq!(g.self_loops_dropped, 1);
    ///
    /// let e = Graph::from_edges(3, &[[0, 1], [1, 7]]).unwrap_err();
    /// assert_eq!(e.to_string(), "graph: edge 1 is (1, 7) but the graph has 3 nodes");
    /// ```
    pub fn from_edges(num_nodes: usize, pairs: &[[u32; 2]]) -> Result<Graph> {
        Graph::from_pairs(num_nodes, pairs, false)
    }

    /// A directed graph on nodes `0..num_nodes` from `[source, target]` arcs: self-loops dropped (counted),
    /// repeats merged, orientation kept. Fails like [`Graph::from_edges`].
    ///
    /// ```
    /// use vgae_data::Graph;
    ///
    /// let g = Graph::from_arcs(3, &[[1, 0], [0, 1], [2, 1], [2, 1]]).unwrap();
    /// assert!(g.directed);
    /// assert_eq!(g.edges, vec![[0, 1], [1, 0], [2, 1]]);
    /// assert_eq!(g.reciprocal_arcs(), 2);
    /// ```
    pub fn from_arcs(num_nodes: usize, pairs: &[[u32; 2]]) -> Result<Graph> {
        Graph::from_pairs(num_nodes, pairs, true)
    }

    fn from_pairs(num_nodes: usize, pairs: &[[u32; 2]], directed: bool) -> Result<Graph> {
        if num_nodes == 0 {
            return Err(err("num_nodes is 0: a graph needs at least one node".into()));
        }
        if let Some((i, &[u, v])) = pairs
            .iter()
            .enumerate()
            .find(|(_, p)| p.iter().any(|&x| x as usize >= num_nodes))
        {
            return Err(err(format!(
                "edge {i} is ({u}, {v}) but the graph has {num_nodes} nodes"
            )));
        }
        let pairs = pairs.iter().map(|&[u, v]| (u, v));
        let (edges, self_loops_dropped) = match directed {
            true => Graph::canonical_arcs(pairs),
            false => Graph::canonical_edges(pairs),
        };
        Ok(Graph {
            name: "graph".into(),
            num_nodes,
            edges,
            directed,
            features: None,
            labels: None,
            num_classes: 0,
            edge_weights: None,
            node_ids: None,
            self_loops_dropped,
            note: None,
        })
    }

    /// Loads an edge-list file (CSV, TSV or whitespace, see [`crate::edgelist`]) with default options:
    /// no feature file.
    pub fn from_edge_list(path: impl AsRef<Path>) -> Result<Graph> {
        crate::edgelist::load(path.as_ref(), &Default::default())
    }

    /// Renames the graph (the name appears in `vgae data info`, splits and checkpoints).
    pub fn with_name(mut self, name: impl Into<String>) -> Graph {
        self.name = name.into();
        self
    }

    /// Sets node features from a dense row-major `[num_nodes, dim]` buffer, stored sparsely (zeros
    /// dropped). Fails unless `dim > 0`, `data.len() == num_nodes * dim` and every value is finite.
    ///
    /// ```
    /// use vgae_data::Graph;
    ///
    /// let g = Graph::from_edges(2, &[[0, 1]])
    ///     .unwrap()
    ///     .with_dense_features(vec![1.0, 0.0, 0.0, 2.5], 2)
    ///     .unwrap();
    /// let x = g.features.as_ref().unwrap();
    /// assert_eq!(g.num_features(), 2);
    /// assert_eq!(x.row(1), (&[1u32][..], &[2.5f32][..]));
    /// assert!(g.with_dense_features(vec![f32::NAN; 4], 2).is_err());
    /// ```
    pub fn with_dense_features(mut self, data: Vec<f32>, dim: usize) -> Result<Graph> {
        let n = self.num_nodes;
        if dim == 0 {
            return Err(err(
                "feature dim is 0: expected at least one feature per node".into(),
            ));
        }
        if u32::try_from(dim - 1).is_err() {
            return Err(err(format!(
                "feature dim {dim} does not fit u32 column indices"
            )));
        }
        if n.checked_mul(dim) != Some(data.len()) {
            return Err(err(format!(
                "{} feature values, expected {n} nodes x {dim} dims = {}",
                data.len(),
                n as u128 * dim as u128
            )));
        }
        if let Some(k) = data.iter().position(|v| !v.is_finite()) {
            return Err(err(format!(
                "feature row {}, column {} is {}, expected a finite number",
                k / dim,
                k % dim,
                data[k]
            )));
        }
        let trip = data
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0.0)
            .map(|(k, &v)| ((k / dim) as u32, (k % dim) as u32, v))
            .collect();
        self.features = Some(CsrMatrix::from_triplets(n, dim, trip));
        Ok(self)
    }

    /// Sets node features from a CSR matrix, after checking it is well formed: `num_nodes` rows, at
    /// least one column, `indptr` of length `rows + 1` rising from 0 to `nnz`, as many indices as
    /// values, every column index `< cols` and every value finite.
    pub fn with_sparse_features(mut self, x: CsrMatrix) -> Result<Graph> {
        let n = self.num_nodes;
        if x.rows != n {
            return Err(err(format!(
                "features have {} rows, expected one per node ({n})",
                x.rows
            )));
        }
        if x.cols == 0 {
            return Err(err("features have 0 columns: expected at least one".into()));
        }
        if x.indptr.len() != n + 1 {
            return Err(err(format!(
                "features indptr has length {}, expected rows + 1 = {}",
                x.indptr.len(),
                n + 1
            )));
        }
        if x.indices.len() != x.data.len() {
            return Err(err(format!(
                "features have {} column indices but {} values, expected equal counts",
                x.indices.len(),
                x.data.len()
            )));
        }
        if x.indptr[0] != 0 {
            return Err(err(format!(
                "features indptr starts at {}, expected 0",
                x.indptr[0]
            )));
        }
        if let Some(r) = (0..n).find(|&r| x.indptr[r + 1] < x.indptr[r]) {
            return Err(err(format!(
                "features indptr decreases at row {r} ({} then {}), expected non-decreasing",
                x.indptr[r],
                x.indptr[r + 1]
            )));
        }
        if x.indptr[n] != x.data.len() {
            return Err(err(format!(
                "features indptr ends at {}, expected nnz = {}",
                x.indptr[n],
                x.data.len()
            )));
        }
        for r in 0..n {
            let (cols, vals) = x.row(r);
            for (&c, &v) in cols.iter().zip(vals) {
                if c as usize >= x.cols {
                    return Err(err(format!(
                        "features row {r} holds column {c}, but the matrix has {} columns",
                        x.cols
                    )));
                }
                if !v.is_finite() {
                    return Err(err(format!(
                        "feature row {r}, column {c} is {v}, expected a finite number"
                    )));
                }
            }
        }
        self.features = Some(x);
        Ok(self)
    }

    /// Names the nodes: `ids[i]` is the user's id of node `i` (kept through checkpoints, written beside
    /// embeddings). Fails unless there is exactly one non-empty id per node and no id repeats. Ids enter
    /// `fingerprint()`.
    pub fn with_node_ids(mut self, ids: Vec<String>) -> Result<Graph> {
        if ids.len() != self.num_nodes {
            return Err(err(format!(
                "{} node ids, expected one per node ({})",
                ids.len(),
                self.num_nodes
            )));
        }
        let mut seen = std::collections::HashMap::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if id.is_empty() {
                return Err(err(format!("node {i} has an empty id")));
            }
            if let Some(j) = seen.insert(id.as_str(), i) {
                return Err(err(format!("nodes {j} and {i} both have the id '{id}'")));
            }
        }
        self.node_ids = Some(ids);
        Ok(self)
    }

    /// Sets one class label per node (`None` where unknown) and `num_classes` to the largest label + 1
    /// (0 when every label is `None`). Fails unless there is exactly one entry per node.
    pub fn with_labels(mut self, labels: Vec<Option<u32>>) -> Result<Graph> {
        if labels.len() != self.num_nodes {
            return Err(err(format!(
                "{} labels, expected one per node ({}; None where unlabelled)",
                labels.len(),
                self.num_nodes
            )));
        }
        self.num_classes = labels.iter().flatten().max().map_or(0, |&m| m as usize + 1);
        self.labels = Some(labels);
        Ok(self)
    }

    /// Sets one weight per canonical edge (or arc), aligned with `edges` (sorted order, as built). Fails
    /// unless the count matches and every weight is finite and `> 0`. Weights enter `fingerprint()`.
    pub fn with_edge_weights(mut self, weights: Vec<f32>) -> Result<Graph> {
        if weights.len() != self.edges.len() {
            return Err(err(format!(
                "{} edge weights, expected one per edge ({}, in `edges` order)",
                weights.len(),
                self.edges.len()
            )));
        }
        if let Some(i) = weights.iter().position(|w| !(w.is_finite() && *w > 0.0)) {
            let [u, v] = self.edges[i];
            return Err(err(format!(
                "edge weight {i} (edge ({u}, {v})) is {}, expected a finite number > 0",
                weights[i]
            )));
        }
        self.edge_weights = Some(weights);
        Ok(self)
    }
}
