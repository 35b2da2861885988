//! Seeded synthetic graphs: a stochastic block model with a chosen average degree (scaling experiments), and
//! a directed one whose blocks are ordered (directed link prediction).

use crate::graph::Graph;
use rand::seq::SliceRandom;
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
        directed: false,
        features: None,
        labels: None,
        num_classes: 0,
        edge_weights: None,
        node_ids: None,
        self_loops_dropped,
        note: None,
    }
}

/// A directed block model: blocks are ranked, arcs between blocks always point up the ranking (as
/// citations point to older work), arcs inside a block are reciprocated with probability `reciprocity`.
/// The default is 2 000 nodes of degree 8 in 8 blocks.
#[derive(Debug, Clone, Copy)]
pub struct DirectedSbmConfig {
    /// Node count (at least 2 are used).
    pub nodes: usize,
    /// Average degree (2 · arcs / nodes) before duplicates, self-loops and reciprocal arcs.
    pub degree: f64,
    /// Number of equal-sized ranked blocks (clamped to `1..=nodes`).
    pub blocks: usize,
    /// Probability that an arc stays inside its block.
    pub p_in: f64,
    /// Probability that an arc inside a block also gets its reverse.
    pub reciprocity: f64,
}

impl Default for DirectedSbmConfig {
    fn default() -> Self {
        DirectedSbmConfig {
            nodes: 2_000,
            degree: 8.0,
            blocks: 8,
            p_in: 0.5,
            reciprocity: 0.5,
        }
    }
}

/// Draws `nodes · degree / 2` arcs from a uniform endpoint `u`: with probability `p_in` to a partner in
/// `u`'s block (and back, with probability `reciprocity`), else between `u` and a node of another block,
/// pointing from the lower-ranked block to the higher. Node ids are shuffled so that they carry no rank;
/// labels are the blocks. O(arcs) time and memory.
///
/// ```
/// use rand::SeedableRng;
/// use vgae_data::synth::{directed_sbm, DirectedSbmConfig};
///
/// let cfg = DirectedSbmConfig { nodes: 300, ..Default::default() };
/// let g = directed_sbm(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(0));
/// assert!(g.directed && g.num_nodes == 300);
/// let rank = |i: u32| g.labels.as_ref().unwrap()[i as usize].unwrap();
/// assert!(g.edges.iter().all(|&[u, v]| rank(u) <= rank(v)));
/// assert!(g.reciprocal_arcs() > 0);
/// ```
pub fn directed_sbm<R: Rng>(cfg: &DirectedSbmConfig, rng: &mut R) -> Graph {
    let n = cfg.nodes.max(2);
    let blocks = cfg.blocks.clamp(1, n);
    let size = n.div_ceil(blocks);
    let m = (n as f64 * cfg.degree / 2.0).round() as usize;
    let mut id: Vec<u32> = (0..n as u32).collect();
    id.shuffle(rng);
    let mut arcs = Vec::with_capacity(m + m / 2);
    for _ in 0..m {
        let u = rng.random_range(0..n);
        let b0 = (u / size) * size;
        let in_block = size.min(n - b0);
        if blocks == 1 || rng.random_bool(cfg.p_in.clamp(0.0, 1.0)) {
            let v = b0 + rng.random_range(0..in_block);
            arcs.push((id[u], id[v]));
            if rng.random_bool(cfg.reciprocity.clamp(0.0, 1.0)) {
                arcs.push((id[v], id[u]));
            }
        } else {
            // Any node outside u's block, then the arc points up the ranking.
            let mut v = rng.random_range(0..n - in_block);
            if v >= b0 {
                v += in_block;
            }
            arcs.push((id[u.min(v)], id[u.max(v)]));
        }
    }
    let (edges, self_loops_dropped) = Graph::canonical_arcs(arcs);
    let mut labels = vec![None; n];
    for (i, &node) in id.iter().enumerate() {
        labels[node as usize] = Some((i / size) as u32);
    }
    Graph {
        name: format!("dsbm-n{n}-d{}", cfg.degree),
        num_nodes: n,
        edges,
        directed: true,
        features: None,
        labels: Some(labels),
        num_classes: blocks,
        edge_weights: None,
        node_ids: None,
        self_loops_dropped,
        note: None,
    }
}

/// Writes a graph as a `source,target` CSV edge list (a directed graph's arcs as they point).
pub fn write_edgelist(g: &Graph, path: &std::path::Path) -> crate::Result<()> {
    let mut s = String::with_capacity(g.edges.len() * 14 + 16);
    s.push_str("source,target\n");
    for [u, v] in &g.edges {
        s.push_str(&format!("{u},{v}\n"));
    }
    crate::fsio::atomic_write(path, s.as_bytes())
}
