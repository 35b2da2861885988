//! Seeded synthetic graphs for scaling experiments: a stochastic block model with a chosen average degree.

use crate::graph::Graph;
use rand::Rng;

/// Size and structure of a synthetic graph; the default is 10 000 nodes of degree 10 in 10 blocks.
#[derive(Debug, Clone, Copy)]
pub struct SbmConfig {
    /// Node count (at least 2 are used).
    pub nodes: usize,
    /// Average degree (2 · edges / nodes) before duplicates and self-loops are dropped.
    pub degree: f64,
    /// Number of equal-sized communities (clamped to `1..=nodes`).
    pub blocks: usize,
    /// Probability that an edge stays inside its block.
    pub p_in: f64,
}

impl Default for SbmConfig {
    fn default() -> Self {
        SbmConfig {
            nodes: 10_000,
            degree: 10.0,
            blocks: 10,
            p_in: 0.8,
        }
    }
}

/// Draws `nodes · degree / 2` edges: a uniform endpoint, and a partner inside its block with probability
/// `p_in`, else anywhere. O(edges) time and memory.
pub fn sbm<R: Rng>(cfg: &SbmConfig, rng: &mut R) -> Graph {
    let n = cfg.nodes.max(2);
    let blocks = cfg.blocks.clamp(1, n);
    let size = n.div_ceil(blocks);
    let m = (n as f64 * cfg.degree / 2.0).round() as usize;
    let pairs = (0..m).map(|_| {
        let u = rng.random_range(0..n);
        let v = if rng.random_bool(cfg.p_in.clamp(0.0, 1.0)) {
            let b0 = (u / size) * size;
            b0 + rng.random_range(0..size.min(n - b0))
        } else {
            rng.random_range(0..n)
        };
        (u as u32, v as u32)
    });
    let (edges, self_loops_dropped) = Graph::canonical_edges(pairs.collect::<Vec<_>>());
    Graph {
        name: format!("sbm-n{n}-d{}", cfg.degree),
        num_nodes: n,
        edges,
        features: None,
        labels: None,
        num_classes: 0,
        edge_weights: None,
        node_ids: None,
        self_loops_dropped,
        note: None,
    }
}

/// Writes a graph as a `source,target` CSV edge list.
pub fn write_edgelist(g: &Graph, path: &std::path::Path) -> crate::Result<()> {
    let mut s = String::with_capacity(g.edges.len() * 14 + 16);
    s.push_str("source,target\n");
    for [u, v] in &g.edges {
        s.push_str(&format!("{u},{v}\n"));
    }
    crate::fsio::atomic_write(path, s.as_bytes())
}
