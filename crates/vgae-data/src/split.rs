//! Leak-free edge splits for link prediction and their audit.
//!
//! Positives are the undirected edges, split into train / val / test. Negatives are drawn uniformly from
//! non-edges of the *full* graph (no self-loops, no pair twice, val and test disjoint), so a model trained on
//! `train_pos` never sees a held-out edge, not even as a negative.

use crate::error::{DataError, Result};
use crate::graph::Graph;
use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub use crate::fsio::atomic_write;
pub use crate::split_file::FORMAT;

/// How held-out edges and negatives are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitMethod {
    /// Kipf & Welling's `mask_test_edges`: shuffle, val first, then test; test negatives drawn before val.
    Kipf,
    /// PyG `RandomLinkSplit`: shuffle, train first, then val, then test; negatives drawn in one batch.
    Pyg,
}

/// How much to hold out and how; saved in the split file. Default: Kipf's 5 % val, 10 % test.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SplitConfig {
    /// Fraction of edges held out for validation (rounded down), in `[0, 1)`.
    pub val_frac: f64,
    /// Fraction of edges held out for test (rounded down), in `[0, 1)`; `val_frac + test_frac < 1`.
    pub test_frac: f64,
    /// Which reference implementation's order of draws to follow (undirected graphs).
    pub method: SplitMethod,
    /// Directed graphs: which of the gravity paper's tasks the split is for (`None`: task 1, general).
    /// Omitted from undirected splits' files, which read as they always have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directed: Option<DirectedTask>,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig {
            val_frac: 0.05,
            test_frac: 0.10,
            method: SplitMethod::Kipf,
            directed: None,
        }
    }
}

/// A link-prediction split. Every pair is stored as `[u, v]` with `u < v`, or, for a directed graph, as the
/// arc `[source, target]` (see [`crate::directed_split`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeSplit {
    /// Name of the graph it was made from.
    pub dataset: String,
    /// That graph's [`Graph::fingerprint`]: a split only audits against the graph it was made for.
    pub fingerprint: String,
    /// That graph's node count.
    pub num_nodes: usize,
    /// The seed recorded for reproduction (the caller seeds the rng with it).
    pub seed: u64,
    /// The fractions and method used.
    pub config: SplitConfig,
    /// Edges the model may train on, sorted.
    pub train_pos: Vec<[u32; 2]>,
    /// Held-out edges for model selection.
    pub val_pos: Vec<[u32; 2]>,
    /// Non-edges of the full graph, as many as `val_pos`.
    pub val_neg: Vec<[u32; 2]>,
    /// Held-out edges for the reported score.
    pub test_pos: Vec<[u32; 2]>,
    /// Non-edges of the full graph, as many as `test_pos`, disjoint from `val_neg`.
    pub test_neg: Vec<[u32; 2]>,
}

use crate::directed_split::{self, DirectedTask};
use crate::pairset::{arc_key, arc_set, pair_key as key, pair_set, PairSet};

/// Draws `k` distinct non-edges `u < v` that are not in `taken`, adding them to it.
fn sample_negatives<R: Rng>(n: usize, k: usize, taken: &mut PairSet, rng: &mut R) -> Vec<[u32; 2]> {
    let mut out = Vec::with_capacity(k);
    while out.len() < k {
        let i = rng.random_range(0..n as u32);
        let j = rng.random_range(0..n as u32);
        if i != j && taken.insert(key(i, j)) {
            out.push([i.min(j), i.max(j)]);
        }
    }
    out
}

impl EdgeSplit {
    /// Splits `g`'s edges with randomness from `rng`; `seed` is only recorded. Fails on fractions outside
    /// `[0, 1)` or summing to 1 or more, and when the graph has too few non-edges for the negatives asked for.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use vgae_data::{EdgeSplit, Graph, SplitConfig};
    ///
    /// // A 40-node ring with chords: 80 edges.
    /// let pairs: Vec<[u32; 2]> = (0..40u32).flat_map(|i| [[i, (i + 1) % 40], [i, (i + 7) % 40]]).collect();
    /// let g = Graph::from_edges(40, &pairs).unwrap();
    /// let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    /// let s = EdgeSplit::new(&g, &SplitConfig::default(), 0, &mut rng).unwrap();
    /// assert_eq!((s.val_pos.len(), s.test_pos.len(), s.train_pos.len()), (4, 8, 68));
    /// assert_eq!(s.test_neg.len(), s.test_pos.len());
    /// s.audit(&g).unwrap();
    /// assert_eq!(s.train_graph(&g).edges, s.train_pos);
    /// ```
    pub fn new<R: Rng>(g: &Graph, cfg: &SplitConfig, seed: u64, rng: &mut R) -> Result<EdgeSplit> {
        let e = g.edges.len();
        if !(0.0..1.0).contains(&cfg.val_frac)
            || !(0.0..1.0).contains(&cfg.test_frac)
            || cfg.val_frac + cfg.test_frac >= 1.0
        {
            return Err(DataError::Other(format!(
                "split fractions val {} + test {} must be in [0, 1) and sum below 1",
                cfg.val_frac, cfg.test_frac
            )));
        }
        if g.directed {
            let task = cfg.directed.unwrap_or_default();
            let (train_pos, [val_pos, val_neg, test_pos, test_neg]) =
                directed_split::split(g, cfg, task, rng)?;
            return Ok(EdgeSplit {
                dataset: g.name.clone(),
                fingerprint: g.fingerprint(),
                num_nodes: g.num_nodes,
                seed,
                config: SplitConfig {
                    directed: Some(task),
                    ..cfg.clone()
                },
                train_pos,
                val_pos,
                val_neg,
                test_pos,
                test_neg,
            });
        }
        if let Some(task) = cfg.directed {
            return Err(DataError::Other(format!(
                "the {} task is for directed graphs, and '{}' is undirected (read it with --directed)",
                task.name(),
                g.name
            )));
        }
        let n_val = (e as f64 * cfg.val_frac).floor() as usize;
        let n_test = (e as f64 * cfg.test_frac).floor() as usize;
        let non_edges = (g.num_nodes * g.num_nodes.saturating_sub(1) / 2).saturating_sub(e);
        if n_val + n_test > non_edges / 2 {
            return Err(DataError::Other(format!(
                "graph '{}' has {non_edges} non-edges, too few for {} negatives",
                g.name,
                n_val + n_test
            )));
        }
        let mut edges = g.edges.clone();
        edges.shuffle(rng);
        let mut taken = pair_set(&g.edges);
        let (train_pos, val_pos, test_pos, val_neg, test_neg);
        match cfg.method {
            SplitMethod::Kipf => {
                val_pos = edges[..n_val].to_vec();
                test_pos = edges[n_val..n_val + n_test].to_vec();
                train_pos = edges[n_val + n_test..].to_vec();
                test_neg = sample_negatives(g.num_nodes, n_test, &mut taken, rng);
                val_neg = sample_negatives(g.num_nodes, n_val, &mut taken, rng);
            }
            SplitMethod::Pyg => {
                let n_train = e - n_val - n_test;
                train_pos = edges[..n_train].to_vec();
                val_pos = edges[n_train..n_train + n_val].to_vec();
                test_pos = edges[n_train + n_val..].to_vec();
                let mut neg = sample_negatives(g.num_nodes, n_val + n_test, &mut taken, rng);
                test_neg = neg.split_off(n_val);
                val_neg = neg;
            }
        }
        let mut train_pos = train_pos;
        train_pos.sort_unstable();
        Ok(EdgeSplit {
            dataset: g.name.clone(),
            fingerprint: g.fingerprint(),
            num_nodes: g.num_nodes,
            seed,
            config: cfg.clone(),
            train_pos,
            val_pos,
            val_neg,
            test_pos,
            test_neg,
        })
    }

    pub(crate) fn parts(&self) -> [(&'static str, &Vec<[u32; 2]>); 5] {
        [
            ("train_pos", &self.train_pos),
            ("val_pos", &self.val_pos),
            ("val_neg", &self.val_neg),
            ("test_pos", &self.test_pos),
            ("test_neg", &self.test_neg),
        ]
    }

    /// A short hash of the split's pairs, recorded in checkpoints.
    pub fn hash(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for (name, v) in self.parts() {
            h.update(name.as_bytes());
            for p in v {
                h.update(p[0].to_le_bytes());
                h.update(p[1].to_le_bytes());
            }
        }
        hex::encode(&h.finalize()[..8])
    }

    /// The graph with only the training edges: what the encoder and the loss may see. Edge weights follow
    /// their edges; they are dropped if some training edge is not an edge of `g` (a split of another graph).
    pub fn train_graph(&self, g: &Graph) -> Graph {
        let edge_weights = g.edge_weights.as_ref().and_then(|w| {
            self.train_pos
                .iter()
                .map(|e| g.edges.binary_search(e).ok().map(|i| w[i]))
                .collect()
        });
        Graph {
            edges: self.train_pos.clone(),
            edge_weights,
            ..g.clone()
        }
    }

    /// Checks every property of a leak-free split against its graph; the error names the first violation.
    pub fn audit(&self, g: &Graph) -> std::result::Result<(), String> {
        if self.fingerprint != g.fingerprint() || self.num_nodes != g.num_nodes {
            return Err(format!(
                "split was made for dataset '{}' (fingerprint {}, {} nodes), not '{}' (fingerprint {}, {} nodes)",
                self.dataset,
                self.fingerprint,
                self.num_nodes,
                g.name,
                g.fingerprint(),
                g.num_nodes
            ));
        }
        if g.directed != self.config.directed.is_some() {
            return Err(format!(
                "the split is for a {} graph, '{}' is {}",
                if g.directed { "undirected" } else { "directed" },
                g.name,
                if g.directed { "directed" } else { "undirected" }
            ));
        }
        // Arcs are ordered pairs in a directed graph, unordered edges otherwise.
        let key = |a, b| match g.directed {
            true => arc_key(a, b),
            false => key(a, b),
        };
        let edges = match g.directed {
            true => arc_set(&g.edges),
            false => pair_set(&g.edges),
        };
        let mut seen: HashMap<u64, &str> = HashMap::new();
        for (name, v) in self.parts() {
            for &[a, b] in v {
                if a as usize >= g.num_nodes || b as usize >= g.num_nodes {
                    return Err(format!(
                        "{name}: pair ({a}, {b}) outside 0..{}",
                        g.num_nodes
                    ));
                }
                if a == b {
                    return Err(format!("{name}: self-loop ({a}, {a})"));
                }
                let is_pos = name.ends_with("_pos");
                if is_pos != edges.contains(&key(a, b)) {
                    let what = if is_pos {
                        "is not an edge of the graph"
                    } else {
                        "is an edge of the graph"
                    };
                    return Err(format!("{name}: pair ({a}, {b}) {what}"));
                }
                if let Some(other) = seen.insert(key(a, b), name) {
                    return Err(format!("{name}: pair ({a}, {b}) also appears in {other}"));
                }
            }
        }
        let n_pos = self.train_pos.len() + self.val_pos.len() + self.test_pos.len();
        if n_pos != g.edges.len() {
            return Err(format!(
                "train/val/test positives hold {n_pos} edges, the graph has {}",
                g.edges.len()
            ));
        }
        if self.val_neg.len() != self.val_pos.len() || self.test_neg.len() != self.test_pos.len() {
            return Err(format!(
                "negatives ({} val, {} test) do not match positives ({} val, {} test)",
                self.val_neg.len(),
                self.test_neg.len(),
                self.val_pos.len(),
                self.test_pos.len()
            ));
        }
        if let Some(task) = self.config.directed {
            return directed_split::audit(self, g, task);
        }
        let e = g.edges.len() as f64;
        let want_val = (e * self.config.val_frac).floor() as usize;
        let want_test = (e * self.config.test_frac).floor() as usize;
        if self.val_pos.len() != want_val || self.test_pos.len() != want_test {
            return Err(format!(
                "val/test hold {}/{} edges, expected {want_val}/{want_test} for fractions {}/{}",
                self.val_pos.len(),
                self.test_pos.len(),
                self.config.val_frac,
                self.config.test_frac
            ));
        }
        Ok(())
    }
}
