//! One tile pair of the fused Σ softplus(Z_I C_Jᵀ) kernel and its gradient, written once with `pulp` and
//! compiled for AVX-512, AVX2+FMA, NEON and scalar ([`SimdPath`]), for any embedding width.
//!
//! Register blocking: `R` = 8 rows of I against one vector of columns of J at a time. The R logit vectors, their softplus and sigmoid
//! stay in registers; dG_I of the R rows (R · ⌈d / lanes⌉ vectors) stays in registers for the whole tile;
//! dG_Jᵀ (`[d, cols]`, in L1) is read and written once per R rows. Per pair: 3·d multiply-adds (logit,
//! dG_I, dG_J), one exp and two divisions, vectorised.

use crate::simd::SimdPath;
use pulp::{Simd, WithSimd};

/// Inputs of one tile pair of Σ softplus(Z Cᵀ): rows of I from Z, columns of J from C (C = Z for the
/// symmetric inner product, the target halves for the source/target decoder). Z and C are padded: rows of
/// `dp` floats (d rounded up to the widest vector, zeros after column d), so every row is whole vectors.
pub struct Tile<'a> {
    /// All of Z, `[n, dp]`, zero-padded.
    pub z: &'a [f32],
    /// All of C, `[n, dp]`, zero-padded.
    pub zc: &'a [f32],
    /// All of Cᵀ, `[d, n]`.
    pub zt: &'a [f32],
    /// Nodes.
    pub n: usize,
    /// Embedding width.
    pub d: usize,
    /// Padded width, a multiple of 16.
    pub dp: usize,
    /// First row of I.
    pub i0: usize,
    /// Rows of I.
    pub rows: usize,
    /// First column of J.
    pub j0: usize,
    /// Columns of J.
    pub cols: usize,
}

/// Padded width for `d`: a multiple of the widest vector (16 lanes).
pub fn padded(d: usize) -> usize {
    d.div_ceil(16) * 16
}

/// One tile pair on `path`: adds dZ_I = σ(Z_I C_Jᵀ) C_J into rows I of `grad` (`[n, dp]`), leaves
/// dC_J = σᵀ Z_I in `gjt` (`[d, cols]`, transposed; empty when `diag`: the symmetric diagonal tile needs
/// none, see [`add_column_grad`]) and returns Σ softplus over the block.
pub fn tile_pair(
    path: SimdPath,
    t: &Tile,
    diag: bool,
    gjt: &mut Vec<f32>,
    grad: &mut [f32],
) -> f64 {
    assert!(t.z.len() == t.n * t.dp && t.zc.len() == t.n * t.dp && t.zt.len() == t.n * t.d);
    assert!(grad.len() == t.n * t.dp);
    assert!(t.i0 + t.rows <= t.n && t.j0 + t.cols <= t.n && t.dp.is_multiple_of(16) && t.d <= t.dp);
    gjt.clear();
    if !diag {
        gjt.resize(t.d * t.cols, 0.0);
    }
    path.run(TileOp {
        t,
        gjt: (!diag).then_some(gjt.as_mut_slice()),
        grad,
    })
}

struct TileOp<'a, 'b> {
    t: &'a Tile<'a>,
    gjt: Option<&'b mut [f32]>,
    grad: &'b mut [f32],
}

impl WithSimd for TileOp<'_, '_> {
    type Output = f64;
    #[inline(always)]
    fn with_simd<S: Simd>(self, s: S) -> f64 {
        // Eight rows per block on every path: on an AMD EPYC of CPU family 26 (`vgae bench kernels`), 4
        // rows made the AVX2 build 1.4× slower and 16 rows did not speed up AVX-512.
        tile::<S, 8>(s, self)
    }
}

/// A full vector from `x[..lanes]`, or the first `x.len()` lanes and zeros.
#[inline(always)]
fn load<S: Simd>(s: S, x: &[f32]) -> S::f32s {
    if x.len() >= S::F32_LANES {
        // `x` holds at least `F32_LANES` floats: the size of `S::f32s`, plain f32 lanes.
        // SAFETY: in bounds as just said, any bit pattern is a valid f32, and the read is unaligned.
        unsafe { std::ptr::read_unaligned(x.as_ptr() as *const S::f32s) }
    } else {
        s.partial_load_f32s(x)
    }
}

/// Stores the first `x.len()` (at most all) lanes of `v`.
#[inline(always)]
fn store<S: Simd>(s: S, x: &mut [f32], v: S::f32s) {
    if x.len() >= S::F32_LANES {
        // SAFETY: as in `load`: room for `F32_LANES` floats, written unaligned.
        unsafe { std::ptr::write_unaligned(x.as_mut_ptr() as *mut S::f32s, v) }
    } else {
        s.partial_store_f32s(x, v)
    }
}

/// Softplus and sigmoid from one exp: the formulas of the scalar `softplus_sigmoid` (exp(−|x|) as 2ⁿ·2ᶠ with
/// a degree-6 polynomial, log1p(e) = 2 atanh(e / (2 + e))); relative error below 3e-7.
#[inline(always)]
pub(crate) fn softplus_sigmoid<S: Simd>(s: S, x: S::f32s) -> (S::f32s, S::f32s) {
    let (zero, one, two) = (s.splat_f32s(0.0), s.splat_f32s(1.0), s.splat_f32s(2.0));
    let t = s.max_f32s(
        s.mul_f32s(s.abs_f32s(x), s.splat_f32s(-std::f32::consts::LOG2_E)),
        s.splat_f32s(-125.0),
    );
    // t + 1.5·2²³ rounds t to the nearest integer n, held in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    let tm = s.add_f32s(t, s.splat_f32s(MAGIC));
    let n = s.sub_f32s(tm, s.splat_f32s(MAGIC));
    let y = s.mul_f32s(s.sub_f32s(t, n), s.splat_f32s(std::f32::consts::LN_2));
    let mut p = s.splat_f32s(1.0 / 720.0);
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        p = s.mul_add_e_f32s(p, y, s.splat_f32s(c));
    }
    // 2ⁿ: exponent bits n + 127 = bits(tm) − bits(MAGIC) + 127 (wrapping), shifted into place.
    let bias = s.splat_u32s(127u32.wrapping_sub(MAGIC.to_bits()));
    let exponent = s.add_u32s(s.transmute_u32s_f32s(tm), bias);
    let pow = s.transmute_f32s_u32s(s.wrapping_dyn_shl_u32s(exponent, s.splat_u32s(23)));
    let e = s.mul_f32s(p, pow);
    // One division for both 1 / (1 + e) and e / (2 + e): w = 1 / ((1 + e)(2 + e)).
    let (a1, a2) = (s.add_f32s(one, e), s.add_f32s(two, e));
    let w = s.div_f32s(one, s.mul_f32s(a1, a2));
    let r = s.mul_f32s(a2, w);
    let sig = s.select_f32s(s.greater_than_or_equal_f32s(x, zero), r, s.mul_f32s(e, r));
    let q = s.mul_f32s(s.mul_f32s(e, a1), w);
    let q2 = s.mul_f32s(q, q);
    let mut a = s.splat_f32s(1.0 / 11.0);
    for c in [1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0] {
        a = s.mul_add_e_f32s(a, q2, s.splat_f32s(c));
    }
    let log1p = s.mul_f32s(s.add_f32s(q, q), a);
    (s.add_f32s(s.max_f32s(x, zero), log1p), sig)
}

#[inline(always)]
fn tile<S: Simd, const R: usize>(s: S, op: TileOp) -> f64 {
    // The vectors per padded z row, as a constant so that dG_I stays in registers.
    match op.t.dp / S::F32_LANES {
        1 => tile_v::<S, R, 1>(s, op),
        2 => tile_v::<S, R, 2>(s, op),
        4 => tile_v::<S, R, 4>(s, op),
        8 => tile_v::<S, R, 8>(s, op),
        16 => tile_v::<S, R, 16>(s, op),
        _ => tile_v::<S, 1, 32>(s, op),
    }
}

#[inline(always)]
fn tile_v<S: Simd, const R: usize, const V: usize>(s: S, op: TileOp) -> f64 {
    let TileOp { t, mut gjt, grad } = op;
    let mut zb = vec![0f32; t.d * R];
    let mut total = 0f64;
    let mut i = 0;
    while i < t.rows {
        // Rows wider than V vectors (d > 512 on the scalar path) take one chunk of V vectors per sweep.
        let step = if t.rows - i >= R { R } else { 1 };
        for chunk in 0..(t.dp / S::F32_LANES).div_ceil(V) {
            // The logits' softplus sum and dG_J once, with the first chunk of dG_I.
            let g = if chunk == 0 { gjt.as_deref_mut() } else { None };
            let v = match step == R {
                true => rows_block::<S, R, V>(s, t, i, chunk, &mut zb, grad, g),
                false => rows_block::<S, 1, V>(s, t, i, chunk, &mut zb, grad, g),
            };
            if chunk == 0 {
                total += v;
            }
        }
        i += step;
    }
    total
}

/// Adds a tile's dC_J (`gjt`, `[d, cols]`, from [`tile_pair`]) into rows J of `grad` (`[n, dp]`).
pub fn add_column_grad(t: &Tile, gjt: &[f32], grad: &mut [f32]) {
    for c in 0..t.cols {
        let row = &mut grad[(t.j0 + c) * t.dp..(t.j0 + c) * t.dp + t.d];
        for (k, x) in row.iter_mut().enumerate() {
            *x += gjt[k * t.cols + c];
        }
    }
}

/// `R` rows of I (from row `i` of the tile) against every column of J, accumulating dG_I for vectors
/// `chunk·V .. (chunk + 1)·V` of each z row in registers.
#[inline(always)]
fn rows_block<S: Simd, const R: usize, const V: usize>(
    s: S,
    t: &Tile,
    i: usize,
    chunk: usize,
    zb: &mut [f32],
    grad: &mut [f32],
    mut gjt: Option<&mut [f32]>,
) -> f64 {
    let lanes = S::F32_LANES;
    let (d, dp) = (t.d, t.dp);
    let zero = s.splat_f32s(0.0);
    // This block's rows of Z transposed, [d][R]: the inner loops read them contiguously.
    let zb = &mut zb[..d * R];
    for r in 0..R {
        let row = &t.z[(t.i0 + i + r) * dp..(t.i0 + i + r) * dp + d];
        for (k, &v) in row.iter().enumerate() {
            zb[k * R + r] = v;
        }
    }
    let cols0 = chunk * V * lanes;
    let width = (V * lanes).min(dp - cols0);
    let mut gacc = [[zero; V]; R];
    let mut spacc = zero;
    let mut sbuf = [[0f32; 16]; R];
    for c in (0..t.cols).step_by(lanes) {
        let valid = (t.cols - c).min(lanes);
        // Logits x_r = Z_J[c..c + lanes] · z_(i+r), one lane per column.
        let mut x = [zero; R];
        let full = valid == lanes;
        assert!(t.j0 + c + valid <= t.n && zb.len() == d * R);
        let col_at = |k: usize| match full {
            // k < d and j0 + c + lanes ≤ n (asserted): these floats of row k of Zᵀ ([d, n]) exist.
            // SAFETY: in bounds as just said; the read is unaligned.
            true => unsafe {
                std::ptr::read_unaligned(t.zt.as_ptr().add(k * t.n + t.j0 + c) as *const S::f32s)
            },
            false => load(s, &t.zt[k * t.n + t.j0 + c..k * t.n + t.j0 + c + valid]),
        };
        for (k, zk) in zb.chunks_exact(R).enumerate() {
            let col = col_at(k);
            for (xr, &a) in x.iter_mut().zip(zk) {
                *xr = s.mul_add_e_f32s(s.splat_f32s(a), col, *xr);
            }
        }
        let mut sg = [zero; R];
        for r in 0..R {
            let (mut sp, mut sig) = softplus_sigmoid(s, x[r]);
            if valid < lanes {
                // Lanes past the last column hold logit 0: drop their softplus (ln 2) and sigmoid (½).
                for v in [&mut sp, &mut sig] {
                    let mut buf = [0f32; 16];
                    store(s, &mut buf[..lanes], *v);
                    *v = load(s, &buf[..valid]);
                }
            }
            spacc = s.add_f32s(spacc, sp);
            sg[r] = sig;
            store(s, &mut sbuf[r][..lanes], sig);
        }
        // dG_Jᵀ[k][c..] += Σ_r σ_r · z_(i+r)[k].
        if let Some(g) = gjt.as_deref_mut() {
            assert!(g.len() == d * t.cols && c + valid <= t.cols);
            for (k, zk) in zb.chunks_exact(R).enumerate() {
                let at = k * t.cols + c;
                let mut acc = match full {
                    // SAFETY: k < d and c + lanes ≤ cols (asserted): in bounds of g ([d, cols]).
                    true => unsafe {
                        std::ptr::read_unaligned(g.as_ptr().add(at) as *const S::f32s)
                    },
                    false => load(s, &g[at..at + valid]),
                };
                for (sr, &a) in sg.iter().zip(zk) {
                    acc = s.mul_add_e_f32s(*sr, s.splat_f32s(a), acc);
                }
                match full {
                    // SAFETY: the same `lanes` floats as the read above.
                    true => unsafe {
                        std::ptr::write_unaligned(g.as_mut_ptr().add(at) as *mut S::f32s, acc)
                    },
                    false => store(s, &mut g[at..at + valid], acc),
                }
            }
        }
        // dG_I[r] += Σ_j σ_rj · z_j over the valid columns.
        #[allow(clippy::needless_range_loop)] // j indexes both z's rows and each sbuf row
        for j in 0..valid {
            let at = (t.j0 + c + j) * dp + cols0;
            let zj = &t.zc[at..at + width];
            let mut zv = [zero; V];
            for (v, z) in zv.iter_mut().zip(zj.chunks_exact(lanes)) {
                *v = load(s, z);
            }
            for (r, row) in gacc.iter_mut().enumerate() {
                let sr = s.splat_f32s(sbuf[r][j]);
                for (a, z) in row.iter_mut().zip(&zv) {
                    *a = s.mul_add_e_f32s(sr, *z, *a);
                }
            }
        }
    }
    for (r, acc) in gacc.iter().enumerate() {
        let at = (t.i0 + i + r) * dp + cols0;
        for (p, a) in grad[at..at + width].chunks_exact_mut(lanes).zip(acc) {
            let cur = load(s, p);
            store(s, p, s.add_f32s(cur, *a));
        }
    }
    s.reduce_sum_f32s(spacc) as f64
}
