//! Historical embeddings for the last GCN layer (GNNAutoScale: Fey et al., ICML 2021): a batch computes the
//! hidden layer fresh only on its endpoints T and reads, for their neighbours outside T, the hidden row
//! stored when that node was last computed, with no gradient through it. The receptive field is one hop,
//! T ∪ N(T), instead of two; every batch writes back the rows it computed.

use crate::graph::sparse::csr_matmul;
use rayon::prelude::*;
use vgae_data::CsrMatrix;

/// Targets per parallel task when splitting Â's rows (fixed, so the result is the same on any thread count).
const CHUNK: usize = 1024;

/// The hidden layer (after ReLU) of every node as last computed, `[nodes, width]` row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// Columns.
    pub width: usize,
    /// The rows.
    pub h: Vec<f32>,
}

/// Row `t` of the last layer's Â·H for targets T in two parts: Â[T, T] over the targets' local ids (the
/// fresh rows, which carry the gradient) and Σ_{c ∉ T} Â_tc · h̄_c from the history, a constant.
pub struct SplitRows {
    /// `[T, T]`.
    pub fresh: CsrMatrix,
    /// `[T, width]` row-major.
    pub stale: Vec<f32>,
}

/// One chunk of targets' split rows: row ends, fresh columns and weights, stale sums.
struct ChunkRows {
    ends: Vec<usize>,
    idx: Vec<u32>,
    val: Vec<f32>,
    stale: Vec<f32>,
}

impl History {
    /// The exact hidden layer relu(Â·W₀) of `w0` (`[nodes, width]`).
    pub fn exact(adj: &CsrMatrix, w0: &[f32], width: usize) -> Self {
        let mut h = csr_matmul(adj, w0, width);
        h.par_iter_mut().for_each(|v| *v = v.max(0.0));
        History { width, h }
    }

    /// Â's rows `targets` (distinct) split into fresh and stale parts. `local` (one slot per node, all 0)
    /// is left all 0.
    pub fn split(&self, adj: &CsrMatrix, targets: &[u32], local: &mut [u32]) -> SplitRows {
        for (i, &t) in targets.iter().enumerate() {
            local[t as usize] = i as u32 + 1;
        }
        let (d, local_ro) = (self.width, &*local);
        let parts: Vec<ChunkRows> = targets
            .par_chunks(CHUNK)
            .map(|ts| {
                let (mut ends, mut idx, mut val) = (Vec::with_capacity(ts.len()), vec![], vec![]);
                let mut stale = vec![0f32; ts.len() * d];
                for (&t, out) in ts.iter().zip(stale.chunks_exact_mut(d)) {
                    let (cols, vals) = adj.row(t as usize);
                    for (&c, &v) in cols.iter().zip(vals) {
                        match local_ro[c as usize] {
                            0 => {
                                let h = &self.h[c as usize * d..(c as usize + 1) * d];
                                out.iter_mut().zip(h).for_each(|(o, &x)| *o += v * x);
                            }
                            slot => {
                                idx.push(slot - 1);
                                val.push(v);
                            }
                        }
                    }
                    ends.push(idx.len());
                }
                ChunkRows {
                    ends,
                    idx,
                    val,
                    stale,
                }
            })
            .collect();
        for &t in targets {
            local[t as usize] = 0;
        }
        let mut indptr = Vec::with_capacity(targets.len() + 1);
        indptr.push(0);
        let (mut indices, mut data, mut stale) = (vec![], vec![], vec![]);
        for p in parts {
            let base = indices.len();
            indptr.extend(p.ends.iter().map(|e| base + e));
            indices.extend(p.idx);
            data.extend(p.val);
            stale.extend(p.stale);
        }
        SplitRows {
            fresh: CsrMatrix {
                rows: targets.len(),
                cols: targets.len(),
                indptr,
                indices,
                data,
            },
            stale,
        }
    }

    /// Writes `rows` (`[targets, width]`) as the hidden rows of `targets`.
    pub fn store(&mut self, targets: &[u32], rows: &[f32]) {
        let d = self.width;
        assert_eq!(rows.len(), targets.len() * d, "one row per target");
        for (&t, r) in targets.iter().zip(rows.chunks_exact(d)) {
            self.h[t as usize * d..(t as usize + 1) * d].copy_from_slice(r);
        }
    }
}
