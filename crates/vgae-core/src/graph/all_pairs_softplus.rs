//! Σ_ij softplus(z_i · z_j) over all N² node pairs and its gradient 2·σ(Z Zᵀ)·Z, without ever holding the
//! N × N logits: the dense reconstruction loss in O(N·d) memory.
//!
//! CPU: one fused pass per 128 × 128 tile (logits, softplus, sigmoid, gradient), parallel over tiles, with
//! vectorised exp / log1p: an AVX-512 kernel for d = 16 (`all_pairs_softplus_avx512`), else an AVX2+FMA or portable build of
//! the generic one, picked at run time. Other devices: row blocks with Candle ops.

use candle_core::{Result, Tensor};
use rayon::prelude::*;

/// exp(−|x|) for any x, branch-free so the loop vectorises (relative error < 2e-7).
#[inline(always)]
fn exp_neg_abs(x: f32) -> f32 {
    // 2^t with t = −|x| log2(e) ≤ 0, split as t = n + f, n = trunc(t), f ∈ (−1, 0].
    let t = (-x.abs() * std::f32::consts::LOG2_E).max(-125.0);
    let n = t as i32;
    let f = t - n as f32;
    // 2^f on (−1, 0]: degree-6 Taylor of e^(f ln2).
    let y = f * std::f32::consts::LN_2;
    let p = 1.0
        + y * (1.0
            + y * (0.5
                + y * (1.0 / 6.0 + y * (1.0 / 24.0 + y * (1.0 / 120.0 + y * (1.0 / 720.0))))));
    p * f32::from_bits(((n + 127) as u32) << 23)
}

/// log(1 + e) for e ∈ [0, 1]: 2·atanh(e / (2 + e)), a short odd series since the argument is ≤ 1/3.
#[inline(always)]
fn log1p_unit(e: f32) -> f32 {
    let s = e / (2.0 + e);
    let s2 = s * s;
    2.0 * s
        * (1.0
            + s2 * (1.0 / 3.0
                + s2 * (1.0 / 5.0 + s2 * (1.0 / 7.0 + s2 * (1.0 / 9.0 + s2 * (1.0 / 11.0))))))
}

/// Softplus and sigmoid of x from one exp.
#[inline(always)]
pub fn softplus_sigmoid(x: f32) -> (f32, f32) {
    let e = exp_neg_abs(x);
    let r = 1.0 / (1.0 + e);
    (x.max(0.0) + log1p_unit(e), if x >= 0.0 { r } else { e * r })
}

/// Rows (and columns) per tile: a 128 × 128 block of logits (64 KB) next to 2 × 16 × 128 floats of Z.
const TILE: usize = 128;

/// One tile pair (I, J) of Σ softplus(ZZᵀ): returns (Σ softplus over the block, dG_I, dG_J) with
/// dG_I = σ(Z_I Z_Jᵀ) Z_J and dG_J = σ(Z_I Z_Jᵀ)ᵀ Z_I. The softplus sum counts the block once.
/// Inputs: all of Z (`z`, `[n, d]`) and Zᵀ (`zt`, `[d, n]`), the rows `i0..i0 + rows` of I and the columns
/// `j0..j0 + cols` of J.
#[derive(Clone, Copy)]
struct TileJob<'a> {
    z: &'a [f32],
    i0: usize,
    rows: usize,
    zt: &'a [f32],
    n: usize,
    d: usize,
    j0: usize,
    cols: usize,
    diag: bool,
}

#[inline(always)]
fn tile_pair(job: &TileJob, s: &mut [f32]) -> (f64, Vec<f32>, Vec<f32>) {
    let TileJob {
        z,
        i0,
        rows,
        zt,
        n,
        d,
        j0,
        cols,
        diag,
    } = *job;
    let zi = &z[i0 * d..(i0 + rows) * d];
    let mut total = 0f64;
    // Logits, then softplus (summed) and sigmoid (kept in place).
    for i in 0..rows {
        let row = &mut s[i * TILE..i * TILE + cols];
        row.fill(0.0);
        for k in 0..d {
            let a = zi[i * d + k];
            for (b, &c) in row.iter_mut().zip(&zt[k * n + j0..k * n + j0 + cols]) {
                *b += a * c;
            }
        }
        let mut lanes = [0f32; 8];
        let mut chunks = row.chunks_exact_mut(8);
        for ch in &mut chunks {
            for (l, x) in lanes.iter_mut().zip(ch.iter_mut()) {
                let (sp, sg) = softplus_sigmoid(*x);
                *l += sp;
                *x = sg;
            }
        }
        total += lanes.iter().map(|&v| v as f64).sum::<f64>();
        for x in chunks.into_remainder() {
            let (sp, sg) = softplus_sigmoid(*x);
            total += sp as f64;
            *x = sg;
        }
    }
    // dG_I[i][k] = Σ_c σ_ic Z_J[c][k].
    let mut gi = vec![0f32; rows * d];
    for i in 0..rows {
        let row = &s[i * TILE..i * TILE + cols];
        for k in 0..d {
            let col = &zt[k * n + j0..k * n + j0 + cols];
            let mut acc = [0f32; 8];
            let (a8, b8) = (row.chunks_exact(8), col.chunks_exact(8));
            let (ar, br) = (a8.remainder(), b8.remainder());
            for (a, b) in a8.zip(b8) {
                for l in 0..8 {
                    acc[l] += a[l] * b[l];
                }
            }
            gi[i * d + k] =
                acc.iter().sum::<f32>() + ar.iter().zip(br).map(|(a, b)| a * b).sum::<f32>();
        }
    }
    if diag {
        return (total, gi, Vec::new());
    }
    // dG_J[c][k] = Σ_i σ_ic Z_I[i][k], accumulated transposed ([d, cols]) so the inner loop is contiguous.
    let mut gjt = vec![0f32; d * cols];
    for i in 0..rows {
        let row = &s[i * TILE..i * TILE + cols];
        for k in 0..d {
            let a = zi[i * d + k];
            for (g, &x) in gjt[k * cols..(k + 1) * cols].iter_mut().zip(row) {
                *g += a * x;
            }
        }
    }
    let mut gj = vec![0f32; cols * d];
    for k in 0..d {
        for c in 0..cols {
            gj[c * d + k] = gjt[k * cols + c];
        }
    }
    (total, gi, gj)
}

crate::simd::multiversion! {
    /// The auto-vectorised kernel through its widest build.
    fn tile_portable(job: &TileJob, s: &mut [f32]) -> (f64, Vec<f32>, Vec<f32>) = tile_pair;
}

/// One tile pair into a slot's gradient buffer `grad` (`[n, d]`): adds dG_I into rows I and (off the
/// diagonal) dG_J into rows J; returns Σ softplus over the block. `scratch` is reused between calls.
fn tile_into(job: &TileJob, scratch: &mut Vec<f32>, portable: bool, grad: &mut [f32]) -> f64 {
    let d = job.d;
    #[cfg(target_arch = "x86_64")]
    if !portable
        && d == super::all_pairs_softplus_avx512::D
        && std::is_x86_feature_detected!("avx512f")
    {
        let tile = super::all_pairs_softplus_avx512::Tile {
            z: job.z,
            zt: job.zt,
            n: job.n,
            i0: job.i0,
            rows: job.rows,
            j0: job.j0,
            cols: job.cols,
        };
        // SAFETY: AVX-512F is present; the tile lies inside Z (`gram_host` builds it from spans of n).
        return unsafe {
            super::all_pairs_softplus_avx512::tile_pair(&tile, job.diag, scratch, grad)
        };
    }
    let _ = portable;
    scratch.resize(TILE * TILE, 0.0);
    let (v, gi, gj) = tile_portable(job, scratch);
    for (start, g) in [(job.i0, gi), (job.j0, gj)] {
        for (x, y) in grad[start * d..start * d + g.len()].iter_mut().zip(&g) {
            *x += y;
        }
    }
    v
}

/// Tile pairs are dealt round-robin to this many slots, each with its own gradient buffer, summed in slot
/// order at the end: one parallel region per call, and the same bits whatever the thread count.
const SLOTS: usize = 8;

/// Host version: `z` is `[n, d]` row-major. Returns (Σ_ij softplus(z_i·z_j), ∂/∂z = 2·σ(ZZᵀ)Z as `[n, d]`).
/// Uses the symmetry of ZZᵀ (each off-diagonal tile once); the result does not depend on the thread count.
pub fn softplus_gram_host(z: &[f32], n: usize, d: usize) -> (f64, Vec<f32>) {
    gram_host(z, n, d, false)
}

/// [`softplus_gram_host`] without the AVX-512 kernel (the portable / AVX2 build), to check one against the other.
pub fn softplus_gram_host_portable(z: &[f32], n: usize, d: usize) -> (f64, Vec<f32>) {
    gram_host(z, n, d, true)
}

fn gram_host(z: &[f32], n: usize, d: usize, portable: bool) -> (f64, Vec<f32>) {
    // The fast exp clamps its argument, which would turn NaN into a finite number: propagate it instead.
    if z.iter().any(|v| !v.is_finite()) {
        return (f64::NAN, vec![f32::NAN; n * d]);
    }
    let mut zt = vec![0f32; n * d]; // [d, n]
    for i in 0..n {
        for k in 0..d {
            zt[k * n + i] = z[i * d + k];
        }
    }
    let t = n.div_ceil(TILE);
    let span = |a: usize| (a * TILE, TILE.min(n - a * TILE));
    let pairs: Vec<(usize, usize)> = (0..t).flat_map(|a| (a..t).map(move |b| (a, b))).collect();
    let slots = SLOTS.min(pairs.len()).max(1);
    let parts: Vec<(f64, Vec<f32>)> = (0..slots)
        .into_par_iter()
        .map(|slot| {
            let (mut total, mut grad, mut scratch) = (0f64, vec![0f32; n * d], Vec::new());
            for &(a, b) in pairs.iter().skip(slot).step_by(slots) {
                let ((r0, r), (c0, c)) = (span(a), span(b));
                let job = TileJob {
                    z,
                    i0: r0,
                    rows: r,
                    zt: &zt,
                    n,
                    d,
                    j0: c0,
                    cols: c,
                    diag: a == b,
                };
                let v = tile_into(&job, &mut scratch, portable, &mut grad);
                total += if a == b { v } else { 2.0 * v };
            }
            (total, grad)
        })
        .collect();
    let mut parts = parts.into_iter();
    let (mut total, mut grad) = parts.next().unwrap_or((0.0, vec![0f32; n * d]));
    for (v, g) in parts {
        total += v;
        grad.iter_mut().zip(&g).for_each(|(x, y)| *x += y);
    }
    grad.iter_mut().for_each(|g| *g *= 2.0);
    (total, grad)
}

/// Device version: row blocks of `block` rows with Candle ops. Same results as the host version up to
/// rounding.
pub fn softplus_gram_device(z: &Tensor, block: usize) -> Result<(f64, Tensor)> {
    let n = z.dim(0)?;
    let zt = z.t()?.contiguous()?;
    let (mut row_sums, mut grads) = (Vec::new(), Vec::new());
    for start in (0..n).step_by(block.max(1)) {
        let b = block.min(n - start);
        let logits = z.narrow(0, start, b)?.matmul(&zt)?; // [b, n]
        let e = logits.abs()?.neg()?.exp()?;
        let sp = (logits.relu()? + (e.clone() + 1.0)?.log()?)?;
        // Row sums, not `sum_all`: Candle's CUDA reduction gives each output one thread block, so a full
        // sum of [b, n] ran on one block (50 of Pubmed's 57 ms per epoch on an H200). One sync at the end.
        row_sums.push(sp.sum(1)?); // [b]
        let sig = candle_nn::ops::sigmoid(&logits)?;
        grads.push(sig.matmul(z)?); // [b, d]
    }
    let total = Tensor::cat(&row_sums, 0)?
        .to_dtype(candle_core::DType::F64)?
        .sum_all()?
        .to_scalar::<f64>()?;
    Ok((total, (Tensor::cat(&grads, 0)? * 2.0)?))
}

/// Σ_ij softplus(z_i·z_j) as a scalar tensor whose gradient is 2·σ(ZZᵀ)Z: the value and gradient are
/// computed in one pass outside autograd and attached through `c + (z·G) − stopgrad(z·G)`.
pub fn softplus_gram(z: &Tensor, block: usize) -> Result<Tensor> {
    let (value, grad) = if z.device().is_cpu() {
        let (n, d) = z.dims2()?;
        let host = z.flatten_all()?.to_vec1::<f32>()?;
        let (v, g) = softplus_gram_host(&host, n, d);
        (v, Tensor::from_vec(g, (n, d), z.device())?)
    } else {
        softplus_gram_device(&z.detach(), block)?
    };
    let surrogate = (z * grad)?.sum_all()?;
    let c = Tensor::new(value as f32, z.device())?;
    (surrogate.clone() - surrogate.detach())? + c
}
