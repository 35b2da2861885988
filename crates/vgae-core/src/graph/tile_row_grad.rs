//! dG_I += σ·Z_J for the rows of one block of the tile kernel ([`super::softplus_tile`]), in row groups sized
//! to the register file: an array of all the rows' accumulators was spilled inside the innermost loop on AVX2.

use pulp::Simd;

/// dG_I\[r\] += Σ_j σ_rj · z_j for the `valid` columns of one vector of J: `zc` from row j0 + c of C (rows of
/// `dp` floats, `nv` vectors of them used), σ in `sbuf`, the R rows' accumulators in `gacc`, `G` rows at a time.
#[inline(always)]
#[allow(clippy::type_complexity)]
pub fn add_row_grads<S: Simd, const R: usize, const V: usize, const G: usize>(
    s: S,
    (zc, dp, nv, valid, sbuf, gacc): (&[f32], usize, usize, usize, &[[f32; 16]; R], &mut [f32]),
) {
    let lanes = S::F32_LANES;
    assert!(nv <= V && valid <= lanes && (valid == 0 || (valid - 1) * dp + nv * lanes <= zc.len()));
    assert!(gacc.len() == R * V * lanes);
    let zero = s.splat_f32s(0.0);
    for r0 in (0..R).step_by(G) {
        let mut acc = [[zero; V]; G];
        for (g, row) in acc.iter_mut().enumerate() {
            for (v, a) in row.iter_mut().enumerate() {
                // SAFETY: (r0 + g)·V + v < R·V, so the vector lies inside gacc (asserted length).
                *a = unsafe {
                    std::ptr::read_unaligned(
                        gacc.as_ptr().add(((r0 + g) * V + v) * lanes) as *const S::f32s
                    )
                };
            }
        }
        // A whole vector of columns as a loop of constant length, so that the accumulators stay in registers.
        if valid == lanes {
            for j in 0..lanes {
                // SAFETY: j < valid, so j·dp + nv·lanes ≤ zc.len() (asserted above).
                unsafe {
                    add_column::<S, V, G>(s, zc.as_ptr().add(j * dp), nv, r0, j, sbuf, &mut acc)
                };
            }
        } else {
            for j in 0..valid {
                // SAFETY: j < valid, so j·dp + nv·lanes ≤ zc.len() (asserted above).
                unsafe {
                    add_column::<S, V, G>(s, zc.as_ptr().add(j * dp), nv, r0, j, sbuf, &mut acc)
                };
            }
        }
        for (g, row) in acc.iter().enumerate() {
            for (v, a) in row.iter().enumerate() {
                // SAFETY: as for the read above.
                unsafe {
                    std::ptr::write_unaligned(
                        gacc.as_mut_ptr().add(((r0 + g) * V + v) * lanes) as *mut S::f32s,
                        *a,
                    )
                };
            }
        }
    }
}

/// acc[g] += σ_(r0+g),j · z_j for one column j, whose z row starts at `zc` (`nv` ≤ V vectors of it used).
///
/// # Safety
/// `zc` must be valid for reads of `nv · lanes` floats.
#[inline(always)]
unsafe fn add_column<S: Simd, const V: usize, const G: usize>(
    s: S,
    zc: *const f32,
    nv: usize,
    r0: usize,
    j: usize,
    sbuf: &[[f32; 16]],
    acc: &mut [[S::f32s; V]; G],
) {
    let lanes = S::F32_LANES;
    let mut zv = [s.splat_f32s(0.0); V];
    // Both loops read v < nv vectors: the caller guarantees nv · lanes readable floats (unaligned reads).
    if nv == V {
        for (v, z) in zv.iter_mut().enumerate() {
            // SAFETY: v < nv, within the caller's nv · lanes floats.
            *z = unsafe { std::ptr::read_unaligned(zc.add(v * lanes) as *const S::f32s) };
        }
    } else {
        for (v, z) in zv.iter_mut().enumerate().take(nv) {
            // SAFETY: as above.
            *z = unsafe { std::ptr::read_unaligned(zc.add(v * lanes) as *const S::f32s) };
        }
    }
    for (g, row) in acc.iter_mut().enumerate() {
        let sr = s.splat_f32s(sbuf[r0 + g][j]);
        for (a, z) in row.iter_mut().zip(&zv) {
            *a = s.mul_add_e_f32s(sr, *z, *a);
        }
    }
}
