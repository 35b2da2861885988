//! What an encoder sees and returns, and the [`Encoder`] trait any node encoder implements.

use super::norm::{
    normalized_adjacency, out_degree_normalized_adjacency, weighted_normalized_adjacency,
};
use super::sparse::SparseMatrix;
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::Tensor;
use std::sync::Arc;
use vgae_data::Graph;

/// The encoder's view of a graph: the propagation matrix of the *training* edges and the node features.
pub struct GraphInput {
    /// Â = D^-1/2 (A_train + I) D^-1/2, or D_out^-1 (A_train + I) for a directed graph, `[n_nodes, n_nodes]`.
    pub adj: Arc<SparseMatrix>,
    /// Sparse node features `[n_nodes, n_features]`, when the graph has them.
    pub features: Option<Arc<SparseMatrix>>,
    /// Number of nodes.
    pub num_nodes: usize,
}

/// The weight of each training edge (`u < v`, an edge of `graph`), in order. Fails when the graph has no
/// weights or an edge is not the graph's.
pub fn train_edge_weights(graph: &Graph, train_edges: &[[u32; 2]]) -> Result<Vec<f32>> {
    let w = graph
        .edge_weights
        .as_ref()
        .ok_or_else(|| Error::msg(format!("dataset '{}' has no edge weights", graph.name)))?;
    train_edges
        .iter()
        .map(|e| match graph.edges.binary_search(e) {
            Ok(i) => Ok(w[i]),
            Err(_) => Err(Error::msg(format!(
                "training edge ({}, {}) is not an edge of '{}'",
                e[0], e[1], graph.name
            ))),
        })
        .collect()
}

impl GraphInput {
    /// Builds Â from `train_edges` (never the held-out ones; arcs of a directed graph) and takes `graph`'s
    /// features.
    /// Fails on a non-finite feature value, naming the row.
    pub fn new(graph: &Graph, train_edges: &[[u32; 2]]) -> Result<Self> {
        let n = graph.num_nodes;
        let features = match &graph.features {
            Some(x) => {
                if let Some(k) = x.data.iter().position(|v| !v.is_finite()) {
                    let row = x.indptr.partition_point(|&p| p <= k) - 1;
                    return Err(Error::msg(format!(
                        "dataset '{}': node features hold a non-finite value (NaN or inf) in row {row}",
                        graph.name
                    )));
                }
                Some(SparseMatrix::new(x.clone()))
            }
            None => None,
        };
        let adj = match graph.directed {
            true => out_degree_normalized_adjacency(n, train_edges, None),
            false => normalized_adjacency(n, train_edges),
        };
        Ok(GraphInput {
            adj: SparseMatrix::new(adj),
            features,
            num_nodes: n,
        })
    }

    /// Like [`GraphInput::new`], with the graph's edge weights in Â (weighted degrees). Fails when the graph
    /// has no weights or a training edge is not one of its edges.
    pub fn weighted(graph: &Graph, train_edges: &[[u32; 2]]) -> Result<Self> {
        let weights = train_edge_weights(graph, train_edges)?;
        let mut input = GraphInput::new(graph, train_edges)?;
        input.adj = SparseMatrix::new(match graph.directed {
            true => out_degree_normalized_adjacency(graph.num_nodes, train_edges, Some(&weights)),
            false => weighted_normalized_adjacency(graph.num_nodes, train_edges, &weights),
        });
        Ok(input)
    }

    /// The feature matrix, or an error saying the graph has none (for encoders that need features).
    pub fn require_features(&self) -> Result<&Arc<SparseMatrix>> {
        self.features.as_ref().ok_or_else(|| {
            Error::msg("the graph has no node features: use a featureless encoder (X = I, --features none)")
        })
    }
}

/// Encoder output: the mean (or the embedding, for a plain autoencoder) and, for a variational encoder, the
/// log standard deviation.
pub struct Encoded {
    /// `[n_nodes, latent]`.
    pub mu: Tensor,
    /// `[n_nodes, latent]`; `None` for a non-variational encoder.
    pub logstd: Option<Tensor>,
}

/// A node encoder: embeds every node of a [`GraphInput`].
///
/// Implement it in your own crate to train your own architecture with everything else unchanged; create its
/// parameters from a `VarBuilder` of a [`crate::params::ParamStore`] so they are seeded and checkpointed.
pub trait Encoder {
    /// Encodes all nodes. `rng` is `Some` in training (dropout and other noise come from it) and `None` for
    /// evaluation.
    fn encode(&self, input: &GraphInput, rng: Option<&mut RunRng>) -> Result<Encoded>;
}

impl<E: Encoder + ?Sized> Encoder for Box<E> {
    fn encode(&self, input: &GraphInput, rng: Option<&mut RunRng>) -> Result<Encoded> {
        (**self).encode(input, rng)
    }
}
