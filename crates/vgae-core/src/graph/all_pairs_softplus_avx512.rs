//! AVX-512 build of one tile pair of the fused Σ softplus(ZZᵀ) kernel, for embeddings of width 16 (the
//! paper's 32-16 encoder): one z row is one 512-bit register.
//!
//! Register blocking: four rows of I against 16 columns of J at a time. The 4 × 16 logits, their softplus and
//! sigmoid stay in registers; dG_I for the four rows stays in four registers for the whole tile, and dG_Jᵀ
//! (`[16, cols]`, in L1) is read and written once per four rows. Per pair that is 3 · 16 FMAs (logit, dG_I,
//! dG_J) plus one vectorised exp, two reciprocals and a short log1p series — about 4 cycles instead of the
//! ~24 of the auto-vectorised portable kernel.

use std::arch::x86_64::*;

/// Rows of I per register block.
const ROWS: usize = 8;

/// Width of z this kernel is built for.
pub const D: usize = 16;

/// Softplus and sigmoid of 16 logits from one exp (same formulas as the scalar `softplus_sigmoid`; relative
/// error below 3e-7).
#[inline]
#[target_feature(enable = "avx512f")]
fn softplus_sigmoid16(x: __m512) -> (__m512, __m512) {
    let one = _mm512_set1_ps(1.0);
    let two = _mm512_set1_ps(2.0);
    // e = exp(−|x|) = 2^n · 2^f with t = −|x| log2 e = n + f, f ∈ [−½, ½].
    let t = _mm512_max_ps(
        _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(-std::f32::consts::LOG2_E)),
        _mm512_set1_ps(-125.0),
    );
    let n = _mm512_roundscale_ps::<{ _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC }>(t);
    let y = _mm512_mul_ps(_mm512_sub_ps(t, n), _mm512_set1_ps(std::f32::consts::LN_2));
    let mut p = _mm512_set1_ps(1.0 / 720.0);
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = _mm512_fmadd_ps(p, y, _mm512_set1_ps(c));
    }
    let e = _mm512_scalef_ps(p, n);
    // 1 / (1 + e) and e / (2 + e): rcp14 plus one Newton step (2^-28).
    let recip = |v: __m512| {
        let r = _mm512_rcp14_ps(v);
        _mm512_mul_ps(r, _mm512_fnmadd_ps(v, r, two))
    };
    let r = recip(_mm512_add_ps(one, e));
    let nonneg = _mm512_cmp_ps_mask::<_CMP_GE_OQ>(x, _mm512_setzero_ps());
    let sig = _mm512_mask_blend_ps(nonneg, _mm512_mul_ps(e, r), r);
    // log1p(e) = 2 atanh(s), s = e / (2 + e) ≤ 1/3.
    let s = _mm512_mul_ps(e, recip(_mm512_add_ps(two, e)));
    let s2 = _mm512_mul_ps(s, s);
    let mut q = _mm512_set1_ps(1.0 / 11.0);
    for c in [1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0] {
        q = _mm512_fmadd_ps(q, s2, _mm512_set1_ps(c));
    }
    let log1p = _mm512_mul_ps(_mm512_add_ps(s, s), q);
    (
        _mm512_add_ps(_mm512_max_ps(x, _mm512_setzero_ps()), log1p),
        sig,
    )
}

/// Inputs of one tile pair, with d = 16.
pub struct Tile<'a> {
    /// All of Z, `[n, 16]`.
    pub z: &'a [f32],
    /// All of Zᵀ, `[16, n]`.
    pub zt: &'a [f32],
    pub n: usize,
    /// First row and row count of I.
    pub i0: usize,
    pub rows: usize,
    /// First column and column count of J.
    pub j0: usize,
    pub cols: usize,
}

/// `R` rows of I (starting at `i`) against all columns of J: adds σ·Z_J into rows `i0 + i..` of `grad`
/// (`[n, 16]`), σᵀ·Z_I into `gjt` when given (`[16, cols]`), and returns the softplus sum of the block.
///
/// # Safety
/// The CPU must support AVX-512F, and `i + R ≤ rows`, with the tile inside Z.
#[inline]
#[target_feature(enable = "avx512f")]
unsafe fn rows_block<const R: usize>(
    t: &Tile,
    i: usize,
    grad: &mut [f32],
    mut gjt: Option<&mut [f32]>,
) -> f64 {
    let (z, zt) = (t.z.as_ptr(), t.zt.as_ptr());
    // SAFETY: r < R and i + R ≤ rows, so row i0 + i + r < n (the caller's contract) and k < D.
    let zi = |r: usize, k: usize| unsafe { *z.add((t.i0 + i + r) * D + k) };
    let mut gacc = [_mm512_setzero_ps(); R];
    let mut spacc = _mm512_setzero_ps();
    let mut sbuf = [[0f32; 16]; R];
    for c in (0..t.cols).step_by(16) {
        let valid = (t.cols - c).min(16);
        let m: __mmask16 = if valid == 16 {
            0xffff
        } else {
            (1u16 << valid) - 1
        };
        // Logits x_r = Z_J[c..c+16] · z_(i+r), 16 lanes over columns.
        let mut x = [_mm512_setzero_ps(); R];
        for k in 0..D {
            // SAFETY: the mask covers only columns j0 + c .. j0 + c + valid ≤ j0 + cols ≤ n of row k of Zᵀ.
            let col = unsafe { _mm512_maskz_loadu_ps(m, zt.add(k * t.n + t.j0 + c)) };
            for (r, xr) in x.iter_mut().enumerate() {
                *xr = _mm512_fmadd_ps(_mm512_set1_ps(zi(r, k)), col, *xr);
            }
        }
        let mut s = [_mm512_setzero_ps(); R];
        for r in 0..R {
            let (sp, sg) = softplus_sigmoid16(x[r]);
            spacc = _mm512_add_ps(spacc, _mm512_maskz_mov_ps(m, sp));
            s[r] = _mm512_maskz_mov_ps(m, sg);
            // SAFETY: sbuf[r] is a 16-float array, exactly one 512-bit store.
            unsafe { _mm512_storeu_ps(sbuf[r].as_mut_ptr(), s[r]) };
        }
        // dG_Jᵀ[k][c..c+16] += Σ_r σ_r · z_(i+r)[k].
        if let Some(g) = gjt.as_deref_mut() {
            for k in 0..D {
                // SAFETY: g is [16, cols] (tile_pair sized it); the masked lanes stay below column cols.
                let p = unsafe { g.as_mut_ptr().add(k * t.cols + c) };
                // SAFETY: as above, only the `valid` masked lanes are read.
                let mut acc = unsafe { _mm512_maskz_loadu_ps(m, p) };
                for (r, sr) in s.iter().enumerate() {
                    acc = _mm512_fmadd_ps(*sr, _mm512_set1_ps(zi(r, k)), acc);
                }
                // SAFETY: the same masked lanes are written back.
                unsafe { _mm512_mask_storeu_ps(p, m, acc) };
            }
        }
        // dG_I[r] += Σ_j σ_rj · z_j over the valid columns (j indexes both z's rows and each sbuf row).
        #[allow(clippy::needless_range_loop)]
        for j in 0..valid {
            // SAFETY: j < valid, so row j0 + c + j < j0 + cols ≤ n: 16 floats of one row of Z.
            let zj = unsafe { _mm512_loadu_ps(z.add((t.j0 + c + j) * D)) };
            for (r, g) in gacc.iter_mut().enumerate() {
                *g = _mm512_fmadd_ps(_mm512_set1_ps(sbuf[r][j]), zj, *g);
            }
        }
    }
    for (r, g) in gacc.iter().enumerate() {
        // SAFETY: grad is [n, 16] and row i0 + i + r < n, as for `zi`.
        let p = unsafe { grad.as_mut_ptr().add((t.i0 + i + r) * D) };
        // SAFETY: one row of 16 floats, read then written.
        unsafe { _mm512_storeu_ps(p, _mm512_add_ps(_mm512_loadu_ps(p), *g)) };
    }
    _mm512_reduce_add_ps(spacc) as f64
}

/// One tile pair: adds dG_I = σ(Z_I Z_Jᵀ) Z_J into rows I of `grad` (`[n, 16]`) and, unless `diag`,
/// dG_J = σᵀ Z_I into rows J; returns Σ softplus over the block. `gjt` is scratch.
///
/// # Safety
/// The CPU must support AVX-512F; the tile must lie inside Z (`i0 + rows ≤ n`, `j0 + cols ≤ n`) and
/// `z.len() == zt.len() == grad.len() == 16 n`.
#[target_feature(enable = "avx512f")]
pub unsafe fn tile_pair(t: &Tile, diag: bool, gjt: &mut Vec<f32>, grad: &mut [f32]) -> f64 {
    assert!(t.z.len() == t.n * D && t.zt.len() == t.n * D && grad.len() == t.n * D);
    assert!(t.i0 + t.rows <= t.n && t.j0 + t.cols <= t.n);
    gjt.clear();
    if !diag {
        gjt.resize(D * t.cols, 0.0);
    }
    let mut total = 0f64;
    let mut i = 0;
    while i + ROWS <= t.rows {
        let g = (!diag).then_some(gjt.as_mut_slice());
        // SAFETY: AVX-512F is this function's own target feature; i + ROWS ≤ rows; the asserts above hold.
        total += unsafe { rows_block::<ROWS>(t, i, grad, g) };
        i += ROWS;
    }
    while i < t.rows {
        let g = (!diag).then_some(gjt.as_mut_slice());
        // SAFETY: as above, with i + 1 ≤ rows.
        total += unsafe { rows_block::<1>(t, i, grad, g) };
        i += 1;
    }
    if !diag {
        for c in 0..t.cols {
            let row = &mut grad[(t.j0 + c) * D..(t.j0 + c + 1) * D];
            for (k, g) in row.iter_mut().enumerate() {
                *g += gjt[k * t.cols + c];
            }
        }
    }
    total
}
