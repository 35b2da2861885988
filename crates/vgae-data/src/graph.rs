//! The in-memory graph every model trains on, and the sparse matrix its features live in.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// A sparse matrix in compressed sparse row form (row pointers, column indices, values).
#[derive(Debug, Clone, PartialEq)]
pub struct CsrMatrix {
    /// Number of rows (nodes, for a feature matrix).
    pub rows: usize,
    /// Number of columns (the feature dimension).
    pub cols: usize,
    /// `[rows + 1]`, non-decreasing from 0 to `nnz`: row `r` holds entries `indptr[r]..indptr[r + 1]`.
    pub indptr: Vec<usize>,
    /// `[nnz]` column of each stored entry, each `< cols`.
    pub indices: Vec<u32>,
    /// `[nnz]` value of each stored entry.
    pub data: Vec<f32>,
}

impl CsrMatrix {
    /// Number of stored entries (explicit zeros included, if any were stored).
    pub fn nnz(&self) -> usize {
        self.data.len()
    }

    /// Row `r`'s column indices and values. Panics if `r >= rows`.
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let (a, b) = (self.indptr[r], self.indptr[r + 1]);
        (&self.indices[a..b], &self.data[a..b])
    }

    /// Builds a CSR matrix from (row, col, value) triplets in any order; duplicates are summed, columns
    /// sorted within each row. Panics if a row is `>= rows` (columns are not checked).
    ///
    /// ```
    /// use vgae_data::CsrMatrix;
    ///
    /// let m = CsrMatrix::from_triplets(3, 4, vec![(2, 1, 1.0), (0, 3, 2.0), (2, 1, 0.5), (0, 0, 4.0)]);
    /// assert_eq!(m.indptr, vec![0, 2, 2, 3]);
    /// assert_eq!(m.row(0), (&[0u32, 3][..], &[4.0f32, 2.0][..]));
    /// assert_eq!(m.row(2), (&[1u32][..], &[1.5f32][..]));
    /// assert_eq!(m.nnz(), 3);
    /// ```
    pub fn from_triplets(rows: usize, cols: usize, mut t: Vec<(u32, u32, f32)>) -> Self {
        t.sort_unstable_by_key(|&(r, c, _)| (r, c));
        let mut indptr = vec![0usize; rows + 1];
        let mut indices = Vec::with_capacity(t.len());
        let mut data: Vec<f32> = Vec::with_capacity(t.len());
        let mut last: Option<(u32, u32)> = None;
        for (r, c, v) in t {
            if last == Some((r, c)) {
                *data.last_mut().unwrap() += v;
                continue;
            }
            last = Some((r, c));
            indptr[r as usize + 1] += 1;
            indices.push(c);
            data.push(v);
        }
        for i in 0..rows {
            indptr[i + 1] += indptr[i];
        }
        CsrMatrix {
            rows,
            cols,
            indptr,
            indices,
            data,
        }
    }

    /// The transpose, again in CSR form.
    pub fn transpose(&self) -> Self {
        // A counting sort: O(nnz), and each output row comes out sorted by column (input rows in order).
        let mut indptr = vec![0usize; self.cols + 1];
        for &c in &self.indices {
            indptr[c as usize + 1] += 1;
        }
        for i in 0..self.cols {
            indptr[i + 1] += indptr[i];
        }
        let mut next = indptr.clone();
        let (mut indices, mut data) = (vec![0u32; self.nnz()], vec![0f32; self.nnz()]);
        for r in 0..self.rows {
            let (c, v) = self.row(r);
            for (&c, &v) in c.iter().zip(v) {
                let at = &mut next[c as usize];
                indices[*at] = r as u32;
                data[*at] = v;
                *at += 1;
            }
        }
        let t = CsrMatrix {
            rows: self.cols,
            cols: self.rows,
            indptr,
            indices,
            data,
        };
        let repeats = (0..t.rows).any(|r| t.row(r).0.windows(2).any(|w| w[0] == w[1]));
        if !repeats {
            return t;
        }
        // A repeated (row, column) entry: sum it, as `from_triplets` does.
        let t = (0..self.rows)
            .flat_map(|r| {
                let (c, v) = self.row(r);
                c.iter().zip(v).map(move |(&c, &v)| (c, r as u32, v))
            })
            .collect();
        CsrMatrix::from_triplets(self.cols, self.rows, t)
    }

    /// An identity matrix.
    pub fn identity(n: usize) -> Self {
        CsrMatrix {
            rows: n,
            cols: n,
            indptr: (0..=n).collect(),
            indices: (0..n as u32).collect(),
            data: vec![1.0; n],
        }
    }
}

/// A graph for link prediction: nodes `0..num_nodes`, undirected edges stored once with `u < v`, or, for a
/// directed graph, arcs `u → v` stored as `[u, v]` in either order.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Dataset name (e.g. "cora", an edge-list file's stem); recorded in splits and checkpoints.
    pub name: String,
    /// Nodes are `0..num_nodes`; isolated nodes count.
    pub num_nodes: usize,
    /// Undirected edges, `u < v`, sorted, no duplicates, no self-loops; for a directed graph the arcs
    /// `[source, target]`, sorted, no duplicates, no self-loops (`[u, v]` and `[v, u]` are two arcs).
    pub edges: Vec<[u32; 2]>,
    /// `edges` are arcs: the encoder propagates along them and the decoder scores ordered pairs.
    pub directed: bool,
    /// Node features `[num_nodes, d]`, if the dataset has them.
    pub features: Option<CsrMatrix>,
    /// Class label per node, `None` where the dataset gives none.
    pub labels: Option<Vec<Option<u32>>>,
    /// Largest label + 1; 0 for an unlabelled graph.
    pub num_classes: usize,
    /// One positive weight per entry of `edges`, same order; `None` for an unweighted graph.
    pub edge_weights: Option<Vec<f32>>,
    /// The user's id of each node (`node_ids[i]` names node `i`), as read from an edge list; `None` where
    /// nodes are known by their index only (Planetoid, synthetic graphs, [`Graph::from_edges`]).
    pub node_ids: Option<Vec<String>>,
    /// Self-loop entries dropped while building the edge list.
    pub self_loops_dropped: usize,
    /// Where the data deviates from the original release (e.g. a reconstructed file), if anywhere.
    pub note: Option<String>,
}

/// The summary `vgae data info` prints.
#[derive(Debug, Clone, Serialize)]
pub struct GraphInfo {
    /// [`Graph::name`].
    pub name: String,
    /// Node count.
    pub nodes: usize,
    /// Undirected edge count (each edge once), or the arc count of a directed graph.
    pub edges: usize,
    /// [`Graph::directed`]; omitted from JSON when false.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub directed: bool,
    /// Directed graphs: arcs whose reverse is also an arc (counted once per arc, so a reciprocated pair
    /// counts 2); omitted for undirected graphs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reciprocal_arcs: Option<usize>,
    /// Feature dimension, 0 if featureless.
    pub features: usize,
    /// Stored non-zero feature entries.
    pub feature_nnz: usize,
    /// Number of classes, 0 if unlabelled.
    pub classes: usize,
    /// Nodes per class, indexed by label.
    pub label_counts: Vec<usize>,
    /// Nodes with no edge.
    pub isolated_nodes: usize,
    /// [`Graph::self_loops_dropped`].
    pub self_loops_dropped: usize,
    /// [`Graph::fingerprint`].
    pub fingerprint: String,
    /// [`Graph::note`]; omitted from JSON when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Graph {
    /// Builds the sorted, deduplicated undirected edge list from any (u, v) pairs; returns it and the
    /// number of self-loops dropped.
    pub fn canonical_edges(pairs: impl IntoIterator<Item = (u32, u32)>) -> (Vec<[u32; 2]>, usize) {
        let mut loops = 0;
        let mut e: Vec<[u32; 2]> = pairs
            .into_iter()
            .filter_map(|(u, v)| {
                if u == v {
                    loops += 1;
                    None
                } else {
                    Some([u.min(v), u.max(v)])
                }
            })
            .collect();
        e.sort_unstable();
        e.dedup();
        (e, loops)
    }

    /// Builds the sorted, deduplicated arc list from (source, target) pairs, orientation kept; returns it and
    /// the number of self-loops dropped.
    ///
    /// ```
    /// use vgae_data::Graph;
    /// let (arcs, loops) = Graph::canonical_arcs([(2, 0), (0, 2), (2, 0), (1, 1)]);
    /// assert_eq!((arcs, loops), (vec![[0, 2], [2, 0]], 1));
    /// ```
    pub fn canonical_arcs(pairs: impl IntoIterator<Item = (u32, u32)>) -> (Vec<[u32; 2]>, usize) {
        let mut loops = 0;
        let mut e: Vec<[u32; 2]> = pairs
            .into_iter()
            .filter_map(|(u, v)| {
                loops += (u == v) as usize;
                (u != v).then_some([u, v])
            })
            .collect();
        e.sort_unstable();
        e.dedup();
        (e, loops)
    }

    /// Directed graphs: the number of arcs whose reverse is also an arc (a reciprocated pair counts twice).
    pub fn reciprocal_arcs(&self) -> usize {
        self.edges
            .iter()
            .filter(|&&[u, v]| self.edges.binary_search(&[v, u]).is_ok())
            .count()
    }

    /// Sorted adjacency lists (both directions) in CSR form: `(indptr [n + 1], neighbours)`.
    /// Fails on an edge outside `0..n` or a self-loop.
    pub fn adjacency_lists(n: usize, edges: &[[u32; 2]]) -> Result<(Vec<usize>, Vec<u32>), String> {
        let mut indptr = vec![0usize; n + 1];
        for &[u, v] in edges {
            if u as usize >= n || v as usize >= n || u == v {
                return Err(format!("edge ({u}, {v}) is a self-loop or outside 0..{n}"));
            }
            indptr[u as usize + 1] += 1;
            indptr[v as usize + 1] += 1;
        }
        for i in 0..n {
            indptr[i + 1] += indptr[i];
        }
        let mut fill = indptr.clone();
        let mut idx = vec![0u32; indptr[n]];
        for &[u, v] in edges {
            idx[fill[u as usize]] = v;
            fill[u as usize] += 1;
            idx[fill[v as usize]] = u;
            fill[v as usize] += 1;
        }
        for i in 0..n {
            idx[indptr[i]..indptr[i + 1]].sort_unstable();
        }
        Ok((indptr, idx))
    }

    /// The user's id of node `i`: its [`Graph::node_ids`] entry, or the index itself.
    pub fn node_id(&self, i: usize) -> String {
        match &self.node_ids {
            Some(ids) => ids[i].clone(),
            None => i.to_string(),
        }
    }

    /// Feature dimension `d`; 0 for a featureless graph.
    pub fn num_features(&self) -> usize {
        self.features.as_ref().map_or(0, |f| f.cols)
    }

    /// Edges touching each node, indexed by node id.
    pub fn degrees(&self) -> Vec<u32> {
        let mut d = vec![0u32; self.num_nodes];
        for &[u, v] in &self.edges {
            d[u as usize] += 1;
            d[v as usize] += 1;
        }
        d
    }

    /// A short hash of the node count, edge list, feature shape and (only when set) edge weights, direction
    /// and node ids: ties splits and checkpoints to their graph. A graph without weights and ids hashes as it always
    /// has, so saved splits and checkpoints keep matching.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        h.update((self.num_nodes as u64).to_le_bytes());
        for e in &self.edges {
            h.update(e[0].to_le_bytes());
            h.update(e[1].to_le_bytes());
        }
        if let Some(f) = &self.features {
            h.update((f.cols as u64).to_le_bytes());
            h.update((f.nnz() as u64).to_le_bytes());
        }
        // Appended only for weighted graphs, so unweighted fingerprints (in saved splits and checkpoints)
        // stay what they were.
        if let Some(w) = &self.edge_weights {
            h.update(b"edge_weights");
            for x in w {
                h.update(x.to_le_bytes());
            }
        }
        if self.directed {
            h.update(b"directed");
        }
        if let Some(ids) = &self.node_ids {
            h.update(b"node_ids");
            for id in ids {
                h.update((id.len() as u64).to_le_bytes());
                h.update(id.as_bytes());
            }
        }
        hex::encode(&h.finalize()[..8])
    }

    /// The statistics `vgae data info` prints.
    pub fn info(&self) -> GraphInfo {
        let mut label_counts = vec![0usize; self.num_classes];
        if let Some(l) = &self.labels {
            for c in l.iter().flatten() {
                label_counts[*c as usize] += 1;
            }
        }
        GraphInfo {
            name: self.name.clone(),
            nodes: self.num_nodes,
            edges: self.edges.len(),
            directed: self.directed,
            reciprocal_arcs: self.directed.then(|| self.reciprocal_arcs()),
            features: self.num_features(),
            feature_nnz: self.features.as_ref().map_or(0, |f| f.nnz()),
            classes: self.num_classes,
            label_counts,
            isolated_nodes: self.degrees().iter().filter(|&&d| d == 0).count(),
            self_loops_dropped: self.self_loops_dropped,
            fingerprint: self.fingerprint(),
            note: self.note.clone(),
        }
    }
}
