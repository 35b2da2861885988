//! Softplus and sigmoid of f32 vectors from one exp, written once with `pulp` for every instruction set: the
//! formulas of the scalar `all_pairs_softplus::softplus_sigmoid`, for the tile kernel.

use pulp::Simd;

/// Softplus and sigmoid from one exp: the formulas of the scalar `softplus_sigmoid` (exp(−|x|) as 2ⁿ·2ᶠ with
/// a degree-6 polynomial, log1p(e) = 2 atanh(e / (2 + e))); relative error below 3e-7.
#[inline(always)]
pub fn softplus_sigmoid<S: Simd>(s: S, x: S::f32s) -> (S::f32s, S::f32s) {
    let ([sp], [sig]) = softplus_sigmoid_n::<S, 1>(s, [x]);
    (sp, sig)
}

/// [`softplus_sigmoid`] of `N` vectors, step by step across them: the same operations per lane (so the same
/// bits), issued as N independent chains. One vector's exp / division / log1p is a ~100-cycle dependency
/// chain, which an out-of-order core overlaps only 2–3 deep when the chains come one after another.
#[inline(always)]
pub fn softplus_sigmoid_n<S: Simd, const N: usize>(
    s: S,
    x: [S::f32s; N],
) -> ([S::f32s; N], [S::f32s; N]) {
    let (zero, one, two) = (s.splat_f32s(0.0), s.splat_f32s(1.0), s.splat_f32s(2.0));
    // t + 1.5·2²³ rounds t to the nearest integer n, held in the low mantissa bits.
    const MAGIC: f32 = 12_582_912.0;
    let magic = s.splat_f32s(MAGIC);
    let (mut t, mut tm) = ([zero; N], [zero; N]);
    for i in 0..N {
        t[i] = s.max_f32s(
            s.mul_f32s(s.abs_f32s(x[i]), s.splat_f32s(-std::f32::consts::LOG2_E)),
            s.splat_f32s(-125.0),
        );
        tm[i] = s.add_f32s(t[i], magic);
    }
    let mut y = [zero; N];
    for i in 0..N {
        let n = s.sub_f32s(tm[i], magic);
        y[i] = s.mul_f32s(s.sub_f32s(t[i], n), s.splat_f32s(std::f32::consts::LN_2));
    }
    let mut p = [s.splat_f32s(1.0 / 720.0); N];
    for c in [1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0] {
        for i in 0..N {
            p[i] = s.mul_add_e_f32s(p[i], y[i], s.splat_f32s(c));
        }
    }
    // 2ⁿ: exponent bits n + 127 = bits(tm) − bits(MAGIC) + 127 (wrapping), shifted into place.
    let bias = s.splat_u32s(127u32.wrapping_sub(MAGIC.to_bits()));
    let mut e = [zero; N];
    for i in 0..N {
        let exponent = s.add_u32s(s.transmute_u32s_f32s(tm[i]), bias);
        let pow = s.transmute_f32s_u32s(s.wrapping_dyn_shl_u32s(exponent, s.splat_u32s(23)));
        e[i] = s.mul_f32s(p[i], pow);
    }
    // One division for both 1 / (1 + e) and e / (2 + e): w = 1 / ((1 + e)(2 + e)).
    let (mut a1, mut a2, mut w) = ([zero; N], [zero; N], [zero; N]);
    for i in 0..N {
        a1[i] = s.add_f32s(one, e[i]);
        a2[i] = s.add_f32s(two, e[i]);
        w[i] = s.div_f32s(one, s.mul_f32s(a1[i], a2[i]));
    }
    let (mut sig, mut q, mut q2) = ([zero; N], [zero; N], [zero; N]);
    for i in 0..N {
        let r = s.mul_f32s(a2[i], w[i]);
        sig[i] = s.select_f32s(
            s.greater_than_or_equal_f32s(x[i], zero),
            r,
            s.mul_f32s(e[i], r),
        );
        q[i] = s.mul_f32s(s.mul_f32s(e[i], a1[i]), w[i]);
        q2[i] = s.mul_f32s(q[i], q[i]);
    }
    let mut a = [s.splat_f32s(1.0 / 11.0); N];
    for c in [1.0 / 9.0, 1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0] {
        for i in 0..N {
            a[i] = s.mul_add_e_f32s(a[i], q2[i], s.splat_f32s(c));
        }
    }
    let mut sp = [zero; N];
    for i in 0..N {
        let log1p = s.mul_f32s(s.add_f32s(q[i], q[i]), a[i]);
        sp[i] = s.add_f32s(s.max_f32s(x[i], zero), log1p);
    }
    (sp, sig)
}

/// [`softplus_sigmoid`] of R vectors, `G` at a time through [`softplus_sigmoid_n`].
#[inline(always)]
pub fn softplus_rows<S: Simd, const R: usize, const G: usize>(
    s: S,
    x: &[S::f32s; R],
) -> ([S::f32s; R], [S::f32s; R]) {
    let zero = s.splat_f32s(0.0);
    let (mut sp, mut sig) = ([zero; R], [zero; R]);
    for g0 in (0..R).step_by(G) {
        if g0 + G <= R {
            let mut xg = [zero; G];
            xg.copy_from_slice(&x[g0..g0 + G]);
            let (a, b) = softplus_sigmoid_n::<S, G>(s, xg);
            sp[g0..g0 + G].copy_from_slice(&a);
            sig[g0..g0 + G].copy_from_slice(&b);
        } else {
            for r in g0..R {
                (sp[r], sig[r]) = softplus_sigmoid(s, x[r]);
            }
        }
    }
    (sp, sig)
}
