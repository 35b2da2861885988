//! Σ_ij softplus(z_i · z_j) over all N² node pairs and its gradient 2·σ(Z Zᵀ)·Z, without ever holding the
//! N × N logits: the dense reconstruction loss in O(N·d) memory.
//!
//! CPU: one fused pass per row (logits, softplus, sigmoid, gradient), parallel over rows, with vectorised
//! exp / log1p and an AVX2+FMA build of the kernel picked at run time. Other devices: row blocks with Candle ops.

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

/// Rows per tile: the column chunk of Zᵀ is reused this many times while it sits in L1/L2.
const TILE_ROWS: usize = 16;
/// Columns per chunk: 16 × 512 floats of Zᵀ (32 KB) plus a 16 × 512 logit tile (32 KB).
const TILE_COLS: usize = 512;

/// One tile of rows `zb` (`[r, d]`): adds Σ_j σ(z_i·z_j) z_j into `g` (`[r, d]`) and returns Σ_ij softplus.
#[inline(always)]
fn rows_tile(zb: &[f32], zt: &[f32], n: usize, d: usize, buf: &mut [f32], g: &mut [f32]) -> f64 {
    let r = zb.len() / d;
    g.fill(0.0);
    let mut total = 0f64;
    for c0 in (0..n).step_by(TILE_COLS) {
        let w = TILE_COLS.min(n - c0);
        // Logits of the tile: buf[i][c] = Σ_k z_i[k] · Zᵀ[k][c0 + c].
        for i in 0..r {
            let row = &mut buf[i * TILE_COLS..i * TILE_COLS + w];
            row.fill(0.0);
            for k in 0..d {
                let a = zb[i * d + k];
                for (b, &c) in row.iter_mut().zip(&zt[k * n + c0..k * n + c0 + w]) {
                    *b += a * c;
                }
            }
        }
        // Softplus summed, sigmoid kept in place.
        for i in 0..r {
            let row = &mut buf[i * TILE_COLS..i * TILE_COLS + w];
            let mut lanes = [0f32; 8];
            let mut chunks = row.chunks_exact_mut(8);
            for ch in &mut chunks {
                for (l, x) in lanes.iter_mut().zip(ch.iter_mut()) {
                    let (sp, s) = softplus_sigmoid(*x);
                    *l += sp;
                    *x = s;
                }
            }
            total += lanes.iter().map(|&v| v as f64).sum::<f64>();
            for x in chunks.into_remainder() {
                let (sp, s) = softplus_sigmoid(*x);
                total += sp as f64;
                *x = s;
            }
        }
        // Gradient: g[i][k] += Σ_c σ_ic · Zᵀ[k][c0 + c].
        for i in 0..r {
            let row = &buf[i * TILE_COLS..i * TILE_COLS + w];
            for k in 0..d {
                let col = &zt[k * n + c0..k * n + c0 + w];
                let mut acc = [0f32; 8];
                let (a8, b8) = (row.chunks_exact(8), col.chunks_exact(8));
                let (ar, br) = (a8.remainder(), b8.remainder());
                for (a, b) in a8.zip(b8) {
                    for l in 0..8 {
                        acc[l] += a[l] * b[l];
                    }
                }
                g[i * d + k] +=
                    acc.iter().sum::<f32>() + ar.iter().zip(br).map(|(a, b)| a * b).sum::<f32>();
            }
        }
    }
    total
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn rows_tile_avx2(
    zb: &[f32],
    zt: &[f32],
    n: usize,
    d: usize,
    buf: &mut [f32],
    g: &mut [f32],
) -> f64 {
    rows_tile(zb, zt, n, d, buf, g)
}

fn tile_dispatch(
    zb: &[f32],
    zt: &[f32],
    n: usize,
    d: usize,
    buf: &mut [f32],
    g: &mut [f32],
) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features the function was compiled for.
        return unsafe { rows_tile_avx2(zb, zt, n, d, buf, g) };
    }
    rows_tile(zb, zt, n, d, buf, g)
}

/// Host version: `z` is `[n, d]` row-major. Returns (Σ softplus, ∂/∂z = 2·σ(ZZᵀ)Z as `[n, d]`).
/// Tile sums are added in tile order, so the value does not depend on the thread count.
pub fn softplus_gram_host(z: &[f32], n: usize, d: usize) -> (f64, Vec<f32>) {
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
    let mut grad = vec![0f32; n * d];
    let sums: Vec<f64> = grad
        .par_chunks_mut(TILE_ROWS * d)
        .enumerate()
        .map_init(
            || vec![0f32; TILE_ROWS * TILE_COLS],
            |buf, (t, g)| {
                let r0 = t * TILE_ROWS;
                tile_dispatch(&z[r0 * d..r0 * d + g.len()], &zt, n, d, buf, g)
            },
        )
        .collect();
    grad.iter_mut().for_each(|g| *g *= 2.0);
    (sums.iter().sum(), grad)
}

/// Device version: row blocks of `block` rows with Candle ops. Same results as the host version up to
/// rounding.
pub fn softplus_gram_device(z: &Tensor, block: usize) -> Result<(f64, Tensor)> {
    let n = z.dim(0)?;
    let zt = z.t()?.contiguous()?;
    let mut total = 0f64;
    let mut grads = Vec::new();
    for start in (0..n).step_by(block.max(1)) {
        let b = block.min(n - start);
        let logits = z.narrow(0, start, b)?.matmul(&zt)?; // [b, n]
        let e = logits.abs()?.neg()?.exp()?;
        let sp = (logits.relu()? + (e.clone() + 1.0)?.log()?)?;
        total += sp
            .sum_all()?
            .to_dtype(candle_core::DType::F64)?
            .to_scalar::<f64>()?;
        let sig = candle_nn::ops::sigmoid(&logits)?;
        grads.push(sig.matmul(z)?); // [b, d]
    }
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
