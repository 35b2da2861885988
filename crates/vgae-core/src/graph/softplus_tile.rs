//! One tile pair of the fused Σ softplus(Z_I C_Jᵀ) kernel and its gradient, written once with `pulp` and
//! compiled for AVX-512, AVX2+FMA, NEON and scalar ([`SimdPath`]), for any embedding width.
//!
//! Register blocking: `R` = 8 rows of I against one vector of columns of J at a time. The R logit vectors
//! stay in registers, and their softplus and sigmoid are computed 4 or 8 vectors abreast
//! ([`super::softplus_vec`]) so that the long exp / division / log1p chains overlap. dG_I of the R rows
//! (R · ⌈d / lanes⌉ vectors) lives in a small buffer, updated in row groups sized to the register file (on
//! AVX2, 16 registers: 4 rows of 2 vectors), because an array of them in registers was spilled inside the
//! innermost loop; dG_Jᵀ (`[d, cols]`, in L1) is read and written once per R rows. Per pair: 3·d
//! multiply-adds (logit, dG_I, dG_J), one exp and one division, vectorised. The order of every sum is fixed
//! by the tile, so a path gives the same bits on any thread count.

use super::softplus_vec::softplus_rows;
use super::tile_row_grad::add_row_grads;
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
        // rows made the AVX2 build 1.4× slower and 16 rows did not speed up AVX-512; on family 25 (Zen 4),
        // with the softplus 4 vectors abreast, 4 and 6 rows were 1.14× and 1.17× slower than 8 on AVX2.
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
    // dG_I of a block's rows, [R][V] vectors: in memory, not an array the compiler could keep in registers
    // (on AVX2 it then spilled them one by one inside the innermost loop).
    let mut gb = vec![0f32; R * V * S::F32_LANES];
    let mut total = 0f64;
    let mut i = 0;
    while i < t.rows {
        // Rows wider than V vectors (d > 512 on the scalar path) take one chunk of V vectors per sweep.
        let step = if t.rows - i >= R { R } else { 1 };
        for chunk in 0..(t.dp / S::F32_LANES).div_ceil(V) {
            // The logits' softplus sum and dG_J once, with the first chunk of dG_I.
            let g = if chunk == 0 { gjt.as_deref_mut() } else { None };
            let v = match step == R {
                true => rows_block::<S, R, V>(s, t, i, chunk, (&mut zb, &mut gb), grad, g),
                false => rows_block::<S, 1, V>(s, t, i, chunk, (&mut zb, &mut gb), grad, g),
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
/// `chunk·V .. (chunk + 1)·V` of each z row in `gb` (`[R][V]` vectors).
#[inline(always)]
fn rows_block<S: Simd, const R: usize, const V: usize>(
    s: S,
    t: &Tile,
    i: usize,
    chunk: usize,
    (zb, gb): (&mut [f32], &mut [f32]),
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
    let gb = &mut gb[..R * V * lanes];
    gb.fill(0.0);
    let mut spacc = zero;
    let mut sbuf = [[0f32; 16]; R];
    for c in (0..t.cols).step_by(lanes) {
        let valid = (t.cols - c).min(lanes);
        // Logits x_r = Z_J[c..c + lanes] · z_(i+r), one lane per column.
        let mut x = [zero; R];
        let full = valid == lanes;
        assert!(t.j0 + c + valid <= t.n && zb.len() == d * R);
        // Row k of Zᵀ ([d, n]) from column j0 + c: `lanes` floats when `full` (j0 + c + lanes ≤ n, asserted).
        let cols = t.zt.as_ptr().wrapping_add(t.j0 + c);
        if full {
            for (k, zk) in zb.chunks_exact(R).enumerate() {
                // SAFETY: k < d and j0 + c + lanes ≤ n, so these floats of Zᵀ exist; the read is unaligned.
                let col = unsafe { std::ptr::read_unaligned(cols.add(k * t.n) as *const S::f32s) };
                for (xr, &a) in x.iter_mut().zip(zk) {
                    *xr = s.mul_add_e_f32s(s.splat_f32s(a), col, *xr);
                }
            }
        } else {
            for (k, zk) in zb.chunks_exact(R).enumerate() {
                let col = load(s, &t.zt[k * t.n + t.j0 + c..k * t.n + t.j0 + c + valid]);
                for (xr, &a) in x.iter_mut().zip(zk) {
                    *xr = s.mul_add_e_f32s(s.splat_f32s(a), col, *xr);
                }
            }
        }
        let (sps, mut sg) = match S::F32_LANES {
            16 => softplus_rows::<S, R, 8>(s, &x),
            _ => softplus_rows::<S, R, 4>(s, &x),
        };
        for r in 0..R {
            let (mut sp, mut sig) = (sps[r], sg[r]);
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
            if full {
                for (k, zk) in zb.chunks_exact(R).enumerate() {
                    // k < d and c + lanes ≤ cols (asserted): in bounds of g ([d, cols]).
                    // SAFETY: as just said; the read and the write are unaligned.
                    unsafe {
                        let at = g.as_mut_ptr().add(k * t.cols + c) as *mut S::f32s;
                        let mut acc = std::ptr::read_unaligned(at);
                        for (sr, &a) in sg.iter().zip(zk) {
                            acc = s.mul_add_e_f32s(*sr, s.splat_f32s(a), acc);
                        }
                        std::ptr::write_unaligned(at, acc);
                    }
                }
            } else {
                for (k, zk) in zb.chunks_exact(R).enumerate() {
                    let at = k * t.cols + c;
                    let mut acc = load(s, &g[at..at + valid]);
                    for (sr, &a) in sg.iter().zip(zk) {
                        acc = s.mul_add_e_f32s(*sr, s.splat_f32s(a), acc);
                    }
                    store(s, &mut g[at..at + valid], acc);
                }
            }
        }
        // dG_I[r] += Σ_j σ_rj · z_j over the valid columns.
        let at = (t.j0 + c) * dp + cols0;
        assert!(at + (valid - 1) * dp + width <= t.zc.len() && width <= V * lanes);
        // Rows in groups whose accumulators, one z row and a broadcast fit in the registers (16 on AVX2,
        // 32 on AVX-512 and NEON); the group order leaves each accumulator's sums as they were.
        let regs = if lanes == 8 { 16 } else { 32 };
        let fits = |g: usize| R.is_multiple_of(g) && g * V + V < regs; // + one broadcast
        let args = (&t.zc[at..], dp, width / lanes, valid, &sbuf, &mut *gb);
        match () {
            _ if fits(8) => add_row_grads::<S, R, V, 8>(s, args),
            _ if fits(4) => add_row_grads::<S, R, V, 4>(s, args),
            _ if fits(2) => add_row_grads::<S, R, V, 2>(s, args),
            _ => add_row_grads::<S, R, V, 1>(s, args),
        }
    }
    for r in 0..R {
        let at = (t.i0 + i + r) * dp + cols0;
        let acc = &gb[r * V * lanes..r * V * lanes + width];
        for (p, a) in grad[at..at + width]
            .chunks_exact_mut(lanes)
            .zip(acc.chunks_exact(lanes))
        {
            let cur = load(s, p);
            store(s, p, s.add_f32s(cur, load(s, a)));
        }
    }
    s.reduce_sum_f32s(spacc) as f64
}
