//! Σ_ij softplus(z_i · z_j) over all N² node pairs and its gradient 2·σ(Z Zᵀ)·Z, without ever holding the
//! N × N logits: the dense reconstruction loss in O(N·d) memory.
//!
//! CPU: one fused pass per 128 × 128 tile (logits, softplus, sigmoid, gradient), parallel over tiles, with
//! vectorised exp / log1p: one `pulp` kernel ([`super::softplus_tile`]) built for AVX-512, AVX2+FMA, NEON
//! and scalar, picked at run time ([`SimdPath`]). CUDA: one fused kernel for d ≤ 32 (`cuda_all_pairs`).
//! Other devices (and wider embeddings): row blocks with Candle ops.

use super::softplus_tile::{add_column_grad, padded, tile_pair, Tile};
use crate::simd::SimdPath;
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

/// Rows (and columns) per tile: a 128 × 128 block of logits next to 2 × d × 128 floats of Z.
const TILE: usize = 128;

/// Tile pairs are dealt round-robin to this many slots, each with its own gradient buffer, summed in slot
/// order at the end: one parallel region per call, and the same bits whatever the thread count.
const SLOTS: usize = 8;

/// Host version: `z` is `[n, d]` row-major. Returns (Σ_ij softplus(z_i·z_j), ∂/∂z = 2·σ(ZZᵀ)Z as `[n, d]`).
/// Uses the symmetry of ZZᵀ (each off-diagonal tile once); the result does not depend on the thread count.
/// Runs on [`SimdPath::selected`].
pub fn softplus_gram_host(z: &[f32], n: usize, d: usize) -> (f64, Vec<f32>) {
    softplus_gram_host_on(SimdPath::selected(), z, n, d)
}

/// [`softplus_gram_host`] on a given instruction set (the scalar build where the CPU lacks it), to check
/// one path against another.
pub fn softplus_gram_host_on(path: SimdPath, z: &[f32], n: usize, d: usize) -> (f64, Vec<f32>) {
    // The fast exp clamps its argument, which would turn NaN into a finite number: propagate it instead.
    if z.iter().any(|v| !v.is_finite()) {
        return (f64::NAN, vec![f32::NAN; n * d]);
    }
    let parts = softplus_gram_slots(path, z, n, d, 0..gram_slot_count(n));
    sum_gram_slots(parts, n, d)
}

/// How many slots [`softplus_gram_host_on`] deals the tile pairs of `n` rows to.
pub fn gram_slot_count(n: usize) -> usize {
    let t = n.div_ceil(TILE);
    SLOTS.min(t * (t + 1) / 2).max(1)
}

/// The partial sums of `slots` (a sub-range of `0..gram_slot_count(n)`): per slot its share of the value
/// and of σ(ZZᵀ)Z, the latter `[n, padded(d)]`. Summed in slot order by [`sum_gram_slots`], all slots give
/// [`softplus_gram_host_on`]'s bits, wherever each slot was computed.
pub fn softplus_gram_slots(
    path: SimdPath,
    z: &[f32],
    n: usize,
    d: usize,
    slots: std::ops::Range<usize>,
) -> Vec<(f64, Vec<f32>)> {
    let dp = padded(d);
    let (zp, zt) = (padded_rows(z, n, d, dp), transposed(z, n, d));
    let t = n.div_ceil(TILE);
    let span = |a: usize| (a * TILE, TILE.min(n - a * TILE));
    let pairs: Vec<(usize, usize)> = (0..t).flat_map(|a| (a..t).map(move |b| (a, b))).collect();
    let count = gram_slot_count(n);
    slots
        .into_par_iter()
        .map(|slot| {
            let (mut total, mut grad, mut scratch) = (0f64, vec![0f32; n * dp], Vec::new());
            for &(a, b) in pairs.iter().skip(slot).step_by(count) {
                let ((i0, rows), (j0, cols)) = (span(a), span(b));
                let tile = Tile {
                    z: &zp,
                    zc: &zp,
                    zt: &zt,
                    n,
                    d,
                    dp,
                    i0,
                    rows,
                    j0,
                    cols,
                };
                let v = tile_pair(path, &tile, a == b, &mut scratch, &mut grad);
                if a != b {
                    add_column_grad(&tile, &scratch, &mut grad);
                }
                total += if a == b { v } else { 2.0 * v };
            }
            (total, grad)
        })
        .collect()
}

/// Every slot's partial sums, in slot order, summed into (Σ_ij softplus(z_i·z_j), 2·σ(ZZᵀ)Z as `[n, d]`).
pub fn sum_gram_slots(parts: Vec<(f64, Vec<f32>)>, n: usize, d: usize) -> (f64, Vec<f32>) {
    let dp = padded(d);
    let mut parts = parts.into_iter();
    let (mut total, mut gp) = parts.next().unwrap_or((0.0, vec![0f32; n * dp]));
    for (v, g) in parts {
        total += v;
        gp.iter_mut().zip(&g).for_each(|(x, y)| *x += y);
    }
    let grad = (0..n)
        .flat_map(|i| gp[i * dp..i * dp + d].iter().map(|g| 2.0 * g))
        .collect();
    (total, grad)
}

/// Rows `[n, d]` padded with zeros to `[n, dp]`.
fn padded_rows(z: &[f32], n: usize, d: usize, dp: usize) -> Vec<f32> {
    let mut zp = vec![0f32; n * dp];
    for i in 0..n {
        zp[i * dp..i * dp + d].copy_from_slice(&z[i * d..(i + 1) * d]);
    }
    zp
}

/// `[n, d]` transposed to `[d, n]`.
fn transposed(z: &[f32], n: usize, d: usize) -> Vec<f32> {
    let mut zt = vec![0f32; n * d];
    for i in 0..n {
        for k in 0..d {
            zt[k * n + i] = z[i * d + k];
        }
    }
    zt
}

/// The source/target decoder's all-pairs term: Σ over all N² ordered pairs of softplus(s_i · t_j), with its
/// gradients σ(STᵀ)T in S and σ(STᵀ)ᵀS in T (`s`, `t`: `[n, d]`), in O(N·d) memory on `path`. Every tile
/// pair is done (STᵀ is not symmetric); the same bits for any thread count.
pub fn softplus_cross_host_on(
    path: SimdPath,
    s: &[f32],
    t: &[f32],
    n: usize,
    d: usize,
) -> (f64, Vec<f32>, Vec<f32>) {
    if s.iter().chain(t).any(|v| !v.is_finite()) {
        return (f64::NAN, vec![f32::NAN; n * d], vec![f32::NAN; n * d]);
    }
    let dp = padded(d);
    // The logits' columns come from T, so only T is needed transposed.
    let (sp, tp, tt) = (
        padded_rows(s, n, d, dp),
        padded_rows(t, n, d, dp),
        transposed(t, n, d),
    );
    let tiles = n.div_ceil(TILE);
    let span = |a: usize| (a * TILE, TILE.min(n - a * TILE));
    let pairs: Vec<(usize, usize)> = (0..tiles)
        .flat_map(|a| (0..tiles).map(move |b| (a, b)))
        .collect();
    let slots = SLOTS.min(pairs.len()).max(1);
    let parts: Vec<(f64, Vec<f32>, Vec<f32>)> = (0..slots)
        .into_par_iter()
        .map(|slot| {
            let (mut total, mut gs, mut gt) = (0f64, vec![0f32; n * dp], vec![0f32; n * dp]);
            let mut scratch = Vec::new();
            for &(a, b) in pairs.iter().skip(slot).step_by(slots) {
                let ((i0, rows), (j0, cols)) = (span(a), span(b));
                let tile = Tile {
                    z: &sp,
                    zc: &tp,
                    zt: &tt,
                    n,
                    d,
                    dp,
                    i0,
                    rows,
                    j0,
                    cols,
                };
                total += tile_pair(path, &tile, false, &mut scratch, &mut gs);
                add_column_grad(&tile, &scratch, &mut gt);
            }
            (total, gs, gt)
        })
        .collect();
    let (mut total, mut gs, mut gt) = (0f64, vec![0f32; n * dp], vec![0f32; n * dp]);
    for (v, a, b) in parts {
        total += v;
        gs.iter_mut().zip(&a).for_each(|(x, y)| *x += y);
        gt.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
    }
    let unpad = |g: Vec<f32>| {
        (0..n)
            .flat_map(|i| g[i * dp..i * dp + d].to_vec())
            .collect()
    };
    (total, unpad(gs), unpad(gt))
}

/// Device version: on CUDA with d ≤ 32 one fused kernel (`graph::cuda_all_pairs`; `VGAE_CUDA_DENSE=rows`
/// picks the row blocks instead), else row blocks of `block` rows with Candle ops. Same results as the host
/// version up to rounding.
pub fn softplus_gram_device(z: &Tensor, block: usize) -> Result<(f64, Tensor)> {
    softplus_gram_device_rows(z, 0..z.dim(0)?, block)
}

/// [`softplus_gram_device`] for the rows `rows` of Z only: Σ_{i ∈ rows} Σ_j softplus(z_i·z_j) and those
/// rows of the gradient, `[rows.len(), d]` (a row's gradient 2·Σ_j σ(z_i·z_j)·z_j needs no other row's).
pub fn softplus_gram_device_rows(
    z: &Tensor,
    rows: std::ops::Range<usize>,
    block: usize,
) -> Result<(f64, Tensor)> {
    #[cfg(feature = "cuda")]
    if z.device().is_cuda()
        && z.dtype() == candle_core::DType::F32
        && super::cuda_all_pairs::fused_width(z.dim(1)?)
        && std::env::var("VGAE_CUDA_DENSE").as_deref() != Ok("rows")
    {
        return super::cuda_all_pairs::softplus_gram_rows(z, rows);
    }
    let zt = z.t()?.contiguous()?;
    let (mut row_sums, mut grads) = (Vec::new(), Vec::new());
    for start in rows.clone().step_by(block.max(1)) {
        let b = block.min(rows.end - start);
        let logits = z.narrow(0, start, b)?.matmul(&zt)?; // [b, n]
        let e = logits.abs()?.neg()?.exp()?;
        let sp = (logits.relu()? + (e.clone() + 1.0)?.log()?)?;
        // Row sums, not `sum_all`: Candle's CUDA reduction gives each output one thread block, so a full
        // sum of [b, n] ran on one block (50 of Pubmed's 57 ms per epoch on an H200). One sync at the end.
        row_sums.push(sp.sum(1)?); // [b]
        let sig = candle_nn::ops::sigmoid(&logits)?;
        grads.push(sig.matmul(z)?); // [b, d]
    }
    if rows.is_empty() {
        return Ok((0.0, Tensor::zeros((0, z.dim(1)?), z.dtype(), z.device())?));
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
    with_gradient(z, value, &grad)
}

/// A scalar tensor of `value` whose gradient in `z` is `grad` (computed outside autograd):
/// c + (z·G) − stopgrad(z·G).
pub(crate) fn with_gradient(z: &Tensor, value: f64, grad: &Tensor) -> Result<Tensor> {
    let surrogate = (z * grad)?.sum_all()?;
    let c = Tensor::new(value as f32, z.device())?;
    (surrogate.clone() - surrogate.detach())? + c
}
