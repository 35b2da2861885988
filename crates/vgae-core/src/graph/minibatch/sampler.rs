//! The receptive field of a mini-batch: for each GCN layer, the rows of Â its targets need, all of them or a
//! uniform sample of `fanout` neighbours (GraphSAGE style), as a small CSR block over local node ids.

use crate::rng::RunRng;
use rand::{Rng, RngCore};
use rayon::prelude::*;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use vgae_data::CsrMatrix;

/// One layer's slice of Â: `csr` is `[targets, sources]` over local ids; `sources` holds the global ids of
/// its columns, the targets first (so a block's targets are a prefix of its sources, and the layer below's
/// targets are this block's sources).
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    /// Â restricted to (targets, sources), rescaled where neighbours were sampled.
    pub csr: CsrMatrix,
    /// Global ids of the columns; `sources[..csr.rows]` are the targets.
    pub sources: Vec<u32>,
}

/// Draws the blocks of a batch from Â (self-loops included, as [`crate::graph::norm`] builds it).
///
/// A row u with more than `fanout` neighbours keeps its self-loop and `fanout` neighbours drawn uniformly
/// without replacement, each weight scaled by deg(u) / fanout: an unbiased estimate of (Â·H)_u. Rows with
/// at most `fanout` neighbours, and every row when `fanout` is 0, are exact.
///
/// Rows are walked in parallel chunks of `CHUNK` targets, each drawing from its own stream of one seed
/// per block, so the blocks are the same on any thread count.
pub struct NeighbourSampler {
    /// Per layer, input layer first; 0 = every neighbour.
    fanouts: Vec<usize>,
    /// Local id + 1 of each global node in the block being built, 0 when absent (reset after each block).
    local: Vec<AtomicU32>,
}

/// Targets per parallel task.
const CHUNK: usize = 1024;

/// A column seen for the first time in this block, not yet numbered.
const CLAIMED: u32 = u32::MAX;

/// One chunk of targets' rows: row ends, global columns and weights, and the columns it saw first.
struct Rows {
    ends: Vec<usize>,
    cols: Vec<u32>,
    vals: Vec<f32>,
    first_seen: Vec<u32>,
}

impl NeighbourSampler {
    /// A sampler for graphs of `nodes` nodes with one fan-out per GCN layer, input layer first.
    pub fn new(nodes: usize, fanouts: Vec<usize>) -> Self {
        NeighbourSampler {
            fanouts,
            local: (0..nodes).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    /// The blocks for output nodes `targets` (distinct), input layer first: block `l` maps layer `l`'s
    /// inputs (its sources) to layer `l`'s outputs (its targets); the last block's targets are `targets`.
    /// `adj` is Â over the sampler's `nodes` (square, self-loops included).
    pub fn sample(&mut self, adj: &CsrMatrix, targets: &[u32], rng: &mut RunRng) -> Vec<Block> {
        assert_eq!(adj.rows, self.local.len(), "Â of another graph");
        let mut blocks = Vec::with_capacity(self.fanouts.len());
        let mut current = targets.to_vec();
        for l in (0..self.fanouts.len()).rev() {
            let seed = match self.fanouts[l] {
                0 => 0,
                _ => rng.0.next_u64(),
            };
            let block = self.block(adj, &current, self.fanouts[l], seed);
            current = block.sources.clone();
            blocks.push(block);
        }
        blocks.reverse();
        blocks
    }

    /// One block. Its sources are the targets, then the other columns in increasing id order (so reading
    /// their rows of a table walks memory forwards).
    fn block(&self, adj: &CsrMatrix, targets: &[u32], fanout: usize, seed: u64) -> Block {
        let local = &self.local;
        for (i, &t) in targets.iter().enumerate() {
            let old = local[t as usize].swap(i as u32 + 1, Relaxed);
            debug_assert_eq!(old, 0, "targets must be distinct");
        }
        let parts: Vec<Rows> = targets
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(chunk, ts)| rows(adj, ts, fanout, RunRng::stream(seed, chunk as u64), local))
            .collect();
        let mut others: Vec<u32> = parts
            .iter()
            .flat_map(|p| p.first_seen.iter().copied())
            .collect();
        others.par_sort_unstable();
        let n_targets = targets.len();
        others
            .par_iter()
            .enumerate()
            .for_each(|(j, &c)| local[c as usize].store((n_targets + j + 1) as u32, Relaxed));
        let mut indptr = Vec::with_capacity(n_targets + 1);
        indptr.push(0);
        for p in &parts {
            let base = *indptr.last().expect("starts at 0");
            indptr.extend(p.ends.iter().map(|e| base + e));
        }
        let indices: Vec<u32> = parts
            .par_iter()
            .flat_map_iter(|p| p.cols.iter().map(|&c| local[c as usize].load(Relaxed) - 1))
            .collect();
        let data: Vec<f32> = parts.iter().flat_map(|p| p.vals.iter().copied()).collect();
        let sources: Vec<u32> = targets.iter().copied().chain(others).collect();
        sources
            .par_iter()
            .for_each(|&s| local[s as usize].store(0, Relaxed));
        Block {
            csr: CsrMatrix {
                rows: n_targets,
                cols: sources.len(),
                indptr,
                indices,
                data,
            },
            sources,
        }
    }
}

/// The rows of targets `ts`, sampled to `fanout` neighbours (0: all), claiming in `local` each column no
/// earlier row of the block has.
fn rows(adj: &CsrMatrix, ts: &[u32], fanout: usize, mut rng: RunRng, local: &[AtomicU32]) -> Rows {
    let mut out = Rows {
        ends: Vec::with_capacity(ts.len()),
        cols: Vec::new(),
        vals: Vec::new(),
        first_seen: Vec::new(),
    };
    let mut picks = Vec::new();
    for &t in ts {
        let (cols, vals) = adj.row(t as usize);
        let neighbours = cols.iter().filter(|&&c| c != t).count();
        let sampled = fanout > 0 && neighbours > fanout;
        picks.clear();
        if sampled {
            floyd_sample(neighbours, fanout, &mut rng, &mut picks);
            picks.sort_unstable();
        }
        let scale = if sampled {
            neighbours as f32 / fanout as f32
        } else {
            1.0
        };
        // Walk the row once: the self-loop always, the other entries if picked (k counts neighbours).
        let (mut k, mut next) = (0usize, 0usize);
        for (&c, &v) in cols.iter().zip(vals) {
            let w = if c == t {
                v
            } else {
                let keep = !sampled || picks.get(next) == Some(&k);
                k += 1;
                if !keep {
                    continue;
                }
                next += 1;
                v * scale
            };
            let slot = &local[c as usize];
            if slot.load(Relaxed) == 0
                && slot.compare_exchange(0, CLAIMED, Relaxed, Relaxed).is_ok()
            {
                out.first_seen.push(c);
            }
            out.cols.push(c);
            out.vals.push(w);
        }
        out.ends.push(out.cols.len());
    }
    out
}

/// `k` distinct indices of `0..n` (k ≤ n) into `out`, uniformly: Floyd's algorithm, k draws.
fn floyd_sample(n: usize, k: usize, rng: &mut RunRng, out: &mut Vec<usize>) {
    for j in n - k..n {
        let t = rng.0.random_range(0..=j);
        if out.contains(&t) {
            out.push(j);
        } else {
            out.push(t);
        }
    }
}
