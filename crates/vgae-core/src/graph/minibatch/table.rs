//! The featureless encoder's first weight matrix W₀ (`[nodes, width]`, X = I) as a table of rows with its
//! Adam moments, updated only in the rows a batch touched (lazy Adam, as `torch.optim.SparseAdam`): a step
//! costs O(batch receptive field), not O(nodes).

use crate::graph::pairdot::prefetch_ptr;
use crate::{Error, Result};
use rayon::prelude::*;

/// W₀ and its first and second Adam moments, row-major `[nodes, width]`.
pub struct EmbeddingTable {
    /// Rows.
    pub nodes: usize,
    /// Columns.
    pub width: usize,
    /// The weights.
    pub w: Vec<f32>,
    /// Adam's `exp_avg`.
    pub m: Vec<f32>,
    /// Adam's `exp_avg_sq`.
    pub v: Vec<f32>,
}

/// Adam's settings for [`EmbeddingTable::step`] (PyTorch's defaults but the learning rate).
#[derive(Debug, Clone, Copy)]
pub struct AdamSettings {
    /// Learning rate.
    pub lr: f64,
    /// First-moment decay, 0.9.
    pub beta1: f64,
    /// Second-moment decay, 0.999.
    pub beta2: f64,
    /// Added to √v̂, 1e-8.
    pub eps: f64,
}

impl AdamSettings {
    /// PyTorch's defaults with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        AdamSettings {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

impl EmbeddingTable {
    /// A table holding `w` (`[nodes, width]`) with zero moments.
    pub fn new(w: Vec<f32>, nodes: usize, width: usize) -> Result<Self> {
        if w.len() != nodes * width {
            return Err(Error::msg(format!(
                "embedding table: {} floats for [{nodes}, {width}]",
                w.len()
            )));
        }
        Ok(EmbeddingTable {
            nodes,
            width,
            m: vec![0.0; w.len()],
            v: vec![0.0; w.len()],
            w,
        })
    }

    /// The rows `ids`, in order, as one `[ids.len(), width]` buffer.
    pub fn gather(&self, ids: &[u32]) -> Vec<f32> {
        let d = self.width;
        let mut out = vec![0f32; ids.len() * d];
        out.par_chunks_mut(d * 256)
            .zip(ids.par_chunks(256))
            .for_each(|(o, ids)| {
                for (o, &i) in o.chunks_exact_mut(d).zip(ids) {
                    o.copy_from_slice(&self.w[i as usize * d..(i as usize + 1) * d]);
                }
            });
        out
    }

    /// Adam step `t` (1-based, the run's step count) on rows `ids` (distinct) with their gradients `grad`
    /// (`[ids.len(), width]`); the other rows and their moments stay as they are.
    pub fn step(&mut self, ids: &[u32], grad: &[f32], t: u64, a: &AdamSettings) {
        let d = self.width;
        assert_eq!(grad.len(), ids.len() * d, "one gradient row per id");
        let k = Coeffs {
            b1: a.beta1 as f32,
            b2: a.beta2 as f32,
            c1: (1.0 - a.beta1) as f32,
            c2: (1.0 - a.beta2) as f32,
            r1: (1.0 / (1.0 - a.beta1.powi(t as i32))) as f32,
            r2: (1.0 / (1.0 - a.beta2.powi(t as i32))) as f32,
            lr: a.lr as f32,
            eps: a.eps as f32,
        };
        let (w, m, v) = (
            SharedRows(self.w.as_mut_ptr()),
            SharedRows(self.m.as_mut_ptr()),
            SharedRows(self.v.as_mut_ptr()),
        );
        assert!(ids.iter().all(|&i| (i as usize) < self.nodes));
        ids.par_chunks(256)
            .zip(grad.par_chunks(256 * d))
            .for_each(|(ids, grad)| {
                for (j, (&i, g)) in ids.iter().zip(grad.chunks_exact(d)).enumerate() {
                    // Rows are random reads and writes of three tables: ask for them a few rows ahead.
                    if let Some(&next) = ids.get(j + AHEAD) {
                        for buf in [w, m, v] {
                            for line in (0..d).step_by(16) {
                                prefetch_ptr(buf.0.wrapping_add(next as usize * d + line));
                            }
                        }
                    }
                    let at = i as usize * d;
                    // `i < nodes` (asserted), so the row lies inside each buffer; the ids are distinct (the
                    // caller's contract: a batch's sources), so no two threads touch the same row.
                    // SAFETY: as just said.
                    let (w, m, v) = unsafe { (w.row(at, d), m.row(at, d), v.row(at, d)) };
                    adam_row(w, m, v, g, k);
                }
            });
    }
}

/// Rows ahead to prefetch in [`EmbeddingTable::step`].
const AHEAD: usize = 8;

/// Adam's per-step constants in f32.
#[derive(Clone, Copy)]
struct Coeffs {
    b1: f32,
    b2: f32,
    c1: f32,
    c2: f32,
    r1: f32,
    r2: f32,
    lr: f32,
    eps: f32,
}

/// One row's Adam update (√ and ÷ are correctly rounded at every SIMD width: the same bits on each).
#[inline(always)]
fn adam_row_body(w: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: Coeffs) {
    for (((w, m), v), &g) in w.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
        *m = *m * k.b1 + g * k.c1;
        *v = *v * k.b2 + g * g * k.c2;
        *w -= (*m * k.r1) / ((*v * k.r2).sqrt() + k.eps) * k.lr;
    }
}

crate::simd::multiversion! {
    /// [`adam_row_body`] through its widest build.
    fn adam_row(w: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], k: Coeffs) = adam_row_body;
}

/// A buffer's base pointer, shared by threads that each write their own rows.
#[derive(Clone, Copy)]
struct SharedRows(*mut f32);

// SAFETY: used only in `step`, where each thread writes rows no other thread touches.
unsafe impl Send for SharedRows {}
unsafe impl Sync for SharedRows {}

impl SharedRows {
    /// Row `[at, at + d)` as a slice.
    ///
    /// # Safety
    /// In bounds of the buffer, and no other live reference to these floats.
    #[allow(clippy::mut_from_ref)]
    unsafe fn row(&self, at: usize, d: usize) -> &mut [f32] {
        std::slice::from_raw_parts_mut(self.0.add(at), d)
    }
}
