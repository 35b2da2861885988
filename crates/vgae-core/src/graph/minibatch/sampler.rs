//! The receptive field of a mini-batch: for each GCN layer, the rows of Â its targets need, all of them or a
//! uniform sample of `fanout` neighbours (GraphSAGE style), as a small CSR block over local node ids.

use crate::rng::RunRng;
use rand::Rng;
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
pub struct NeighbourSampler {
    /// Per layer, input layer first; 0 = every neighbour.
    fanouts: Vec<usize>,
    /// Local id + 1 of each global node in the block being built, 0 when absent (reset after each block).
    local: Vec<u32>,
    picks: Vec<usize>,
}

impl NeighbourSampler {
    /// A sampler for graphs of `nodes` nodes with one fan-out per GCN layer, input layer first.
    pub fn new(nodes: usize, fanouts: Vec<usize>) -> Self {
        NeighbourSampler {
            fanouts,
            local: vec![0; nodes],
            picks: Vec::new(),
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
            let block = self.block(adj, &current, self.fanouts[l], rng);
            current = block.sources.clone();
            blocks.push(block);
        }
        blocks.reverse();
        blocks
    }

    fn block(
        &mut self,
        adj: &CsrMatrix,
        targets: &[u32],
        fanout: usize,
        rng: &mut RunRng,
    ) -> Block {
        let mut sources = Vec::with_capacity(targets.len() * (fanout.max(1) + 1));
        for &t in targets {
            debug_assert_eq!(self.local[t as usize], 0, "targets must be distinct");
            sources.push(t);
            self.local[t as usize] = sources.len() as u32;
        }
        let mut indptr = Vec::with_capacity(targets.len() + 1);
        indptr.push(0);
        let (mut indices, mut data) = (Vec::new(), Vec::new());
        for &t in targets {
            let (cols, vals) = adj.row(t as usize);
            let neighbours = cols.iter().filter(|&&c| c != t).count();
            let sampled = fanout > 0 && neighbours > fanout;
            self.picks.clear();
            if sampled {
                floyd_sample(neighbours, fanout, rng, &mut self.picks);
                self.picks.sort_unstable();
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
                    let keep = !sampled || self.picks.get(next) == Some(&k);
                    k += 1;
                    if !keep {
                        continue;
                    }
                    next += 1;
                    v * scale
                };
                let slot = &mut self.local[c as usize];
                if *slot == 0 {
                    sources.push(c);
                    *slot = sources.len() as u32;
                }
                indices.push(*slot - 1);
                data.push(w);
            }
            indptr.push(indices.len());
        }
        for &s in &sources {
            self.local[s as usize] = 0;
        }
        Block {
            csr: CsrMatrix {
                rows: targets.len(),
                cols: sources.len(),
                indptr,
                indices,
                data,
            },
            sources,
        }
    }
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
