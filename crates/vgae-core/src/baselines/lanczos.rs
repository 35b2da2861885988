//! A small, dependency-free symmetric eigensolver for the spectral baseline: Lanczos with full
//! reorthogonalisation, optionally on a Chebyshev polynomial of the operator, and the dense symmetric
//! tridiagonal eigenproblem (implicit QL) it needs.
//!
//! Everything is single-threaded f64 arithmetic in a fixed order, so results repeat bit for bit.

use crate::{Error, Result};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// Eigenvalues (ascending) and eigenvectors of the symmetric tridiagonal matrix with diagonal `d` and
/// off-diagonal `e` (`e.len() == d.len() - 1`). Returns `(values, vectors)` with `vectors` row-major
/// `n × n`, column `k` the eigenvector of `values[k]`.
///
/// The implicit QL algorithm with Wilkinson shifts (EISPACK `tql2`, as in JAMA).
pub fn tridiagonal_eigen(d: &[f64], e: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
    let n = d.len();
    if n == 0 {
        return Ok((vec![], vec![]));
    }
    if e.len() + 1 != n {
        return Err(Error::msg(format!(
            "tridiagonal_eigen: {} diagonal entries need {} off-diagonal ones, got {}",
            n,
            n - 1,
            e.len()
        )));
    }
    let mut d = d.to_vec();
    let mut e: Vec<f64> = e.iter().copied().chain([0.0]).collect();
    let mut v = vec![0.0f64; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let mut f = 0.0f64;
    let mut tst1 = 0.0f64;
    let eps = f64::EPSILON;
    for l in 0..n {
        tst1 = tst1.max(d[l].abs() + e[l].abs());
        let mut m = l;
        while m < n {
            if e[m].abs() <= eps * tst1 {
                break;
            }
            m += 1;
        }
        if m == n {
            m = n - 1;
        }
        if m > l {
            let mut iter = 0;
            loop {
                iter += 1;
                if iter > 200 {
                    return Err(Error::msg(
                        "tridiagonal_eigen: QL iteration did not converge",
                    ));
                }
                let mut g = d[l];
                let mut p = (d[l + 1] - g) / (2.0 * e[l]);
                let mut r = p.hypot(1.0);
                if p < 0.0 {
                    r = -r;
                }
                d[l] = e[l] / (p + r);
                d[l + 1] = e[l] * (p + r);
                let dl1 = d[l + 1];
                let mut h = g - d[l];
                for di in d.iter_mut().take(n).skip(l + 2) {
                    *di -= h;
                }
                f += h;
                p = d[m];
                let mut c = 1.0f64;
                let mut c2 = c;
                let mut c3 = c;
                let el1 = e[l + 1];
                let mut s = 0.0f64;
                let mut s2 = 0.0f64;
                for i in (l..m).rev() {
                    c3 = c2;
                    c2 = c;
                    s2 = s;
                    g = c * e[i];
                    h = c * p;
                    r = p.hypot(e[i]);
                    e[i + 1] = s * r;
                    s = e[i] / r;
                    c = p / r;
                    p = c * d[i] - s * g;
                    d[i + 1] = h + s * (c * g + s * d[i]);
                    for k in 0..n {
                        let vk = &mut v[k * n..k * n + n];
                        h = vk[i + 1];
                        vk[i + 1] = s * vk[i] + c * h;
                        vk[i] = c * vk[i] - s * h;
                    }
                }
                p = -s * s2 * c3 * el1 * e[l] / dl1;
                e[l] = s * p;
                d[l] = c * p;
                if e[l].abs() <= eps * tst1 {
                    break;
                }
            }
        }
        d[l] += f;
        e[l] = 0.0;
    }
    // Sort ascending, permuting the columns alike.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| d[a].total_cmp(&d[b]));
    let vals = order.iter().map(|&k| d[k]).collect();
    let mut vecs = vec![0.0f64; n * n];
    for r in 0..n {
        for (c, &k) in order.iter().enumerate() {
            vecs[r * n + c] = v[r * n + k];
        }
    }
    Ok((vals, vecs))
}

/// `a · b` with four fixed accumulators.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    // Four fixed accumulators: vectorisable, and the same order on every machine.
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

fn norm(x: &[f64]) -> f64 {
    dot(x, x).sqrt()
}

/// What [`lanczos_largest`] is asked to find.
#[derive(Debug, Clone)]
pub struct LanczosOptions {
    /// How many eigenpairs (largest eigenvalues of the operator `op`).
    pub k: usize,
    /// Upper bound on Krylov steps (each stores one vector of length n).
    pub max_steps: usize,
    /// Converged when every wanted Ritz pair has `‖A v − θ v‖ ≤ tol` for the *unfiltered* operator.
    pub tol: f64,
    /// Check convergence every this many steps once `k` steps are done.
    pub check_every: usize,
}

/// The outcome: `values[i]` and the unit vector `vectors[i*n..(i+1)*n]`, descending by the Rayleigh
/// quotient of the unfiltered operator; `steps` Lanczos steps were taken.
#[derive(Debug, Clone)]
pub struct EigenResult {
    /// Length of each eigenvector (the operator's dimension).
    pub n: usize,
    /// The eigenvalue estimates θ (Rayleigh quotients), descending; at most `k` of them.
    pub values: Vec<f64>,
    /// The unit eigenvectors, back to back: `values.len() · n` entries.
    pub vectors: Vec<f64>,
    /// `‖A v − θ v‖` of each pair, for the unfiltered operator.
    pub residuals: Vec<f64>,
    /// Lanczos steps taken.
    pub steps: usize,
}

/// Lanczos with full reorthogonalisation (classical Gram–Schmidt, twice) for the `k` largest eigenpairs
/// of a symmetric operator `a` restricted to the subspace where `start` draws its vectors.
///
/// The Krylov space is built on `filter` (a polynomial in `a` that is increasing over the wanted part of
/// the spectrum and small on the rest, e.g. a Chebyshev polynomial; or `a` itself), which makes the wanted
/// eigenvalues extreme and well separated, so far fewer steps are needed. Ritz vectors are ranked and
/// checked with `a` itself. `start` fills a random vector in the admissible subspace (e.g. projected off
/// a known null space); it is also used after an early breakdown (an invariant subspace found).
pub fn lanczos_largest<R: Rng>(
    n: usize,
    a: &mut dyn FnMut(&[f64], &mut [f64]),
    filter: &mut dyn FnMut(&[f64], &mut [f64]),
    project: &dyn Fn(&mut [f64]),
    opts: &LanczosOptions,
    rng: &mut R,
) -> Result<EigenResult> {
    let k = opts.k;
    if k == 0 || n == 0 {
        return Ok(EigenResult {
            n,
            values: vec![],
            vectors: vec![],
            residuals: vec![],
            steps: 0,
        });
    }
    let max_steps = opts.max_steps.min(n).max(1);
    let random_start = |rng: &mut R, q: &[Vec<f64>]| -> Option<Vec<f64>> {
        // A few tries: the admissible space may be exhausted (then None).
        for _ in 0..3 {
            let mut v: Vec<f64> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
            project(&mut v);
            for _ in 0..2 {
                for qi in q {
                    let c = dot(qi, &v);
                    axpy(-c, qi, &mut v);
                }
            }
            project(&mut v);
            let nv = norm(&v);
            if nv > 1e-8 * (n as f64).sqrt() {
                v.iter_mut().for_each(|x| *x /= nv);
                return Some(v);
            }
        }
        None
    };
    let mut q: Vec<Vec<f64>> = Vec::new();
    let mut alpha: Vec<f64> = Vec::new();
    let mut beta: Vec<f64> = Vec::new(); // beta[j] couples q[j] and q[j+1]
    let Some(q0) = random_start(rng, &q) else {
        return Err(Error::msg(
            "Lanczos: the admissible subspace is empty (no vector survives the projection)",
        ));
    };
    q.push(q0);
    let mut w = vec![0.0f64; n];
    loop {
        let j = q.len() - 1;
        filter(&q[j], &mut w);
        let aj = dot(&q[j], &w);
        // Full reorthogonalisation against every previous vector, twice.
        for _ in 0..2 {
            for qi in &q {
                let c = dot(qi, &w);
                axpy(-c, qi, &mut w);
            }
        }
        project(&mut w);
        alpha.push(aj);
        let steps = q.len();
        let scale = alpha.iter().fold(0.0f64, |m, x| m.max(x.abs())).max(1e-300);
        let b = norm(&w);
        let done_steps = steps >= max_steps;
        let check = done_steps
            || (steps >= k && (steps - k).is_multiple_of(opts.check_every.max(1)))
            || b <= 1e-10 * scale;
        if check {
            if let Some(res) = ritz(n, &q, &alpha, &beta, k, a, opts.tol)? {
                if res.residuals.iter().all(|&r| r <= opts.tol) || done_steps {
                    if res.residuals.iter().any(|&r| r > opts.tol) {
                        return Err(Error::msg(format!(
                            "Lanczos did not converge in {steps} steps: largest residual {:.2e} > {:.1e}",
                            res.residuals.iter().fold(0.0f64, |m, &r| m.max(r)),
                            opts.tol
                        )));
                    }
                    return Ok(res);
                }
            }
        }
        if b <= 1e-10 * scale {
            // Invariant subspace: continue the Krylov sequence from a fresh orthogonal vector.
            match random_start(rng, &q) {
                Some(v) => {
                    beta.push(0.0);
                    q.push(v);
                }
                None => {
                    // The admissible space is exhausted: the Ritz pairs are all there is.
                    if let Some(res) = ritz(n, &q, &alpha, &beta, k, a, opts.tol)? {
                        let worst = res.residuals.iter().fold(0.0f64, |m, &r| m.max(r));
                        if worst > opts.tol {
                            return Err(Error::msg(format!(
                                "Lanczos: subspace exhausted after {} steps with residual {worst:.2e} > {:.1e} \
                                 (loss of orthogonality)",
                                res.steps, opts.tol
                            )));
                        }
                        return Ok(res);
                    }
                    return Err(Error::msg("Lanczos: no Ritz pairs"));
                }
            }
        } else {
            beta.push(b);
            q.push(w.iter().map(|x| x / b).collect());
        }
    }
}

/// Ritz pairs of the current Krylov basis: the `k` largest of the filtered tridiagonal matrix, re-ranked
/// and checked with `a`. `None` when fewer than one step was taken.
fn ritz(
    n: usize,
    q: &[Vec<f64>],
    alpha: &[f64],
    beta: &[f64],
    k: usize,
    a: &mut dyn FnMut(&[f64], &mut [f64]),
    _tol: f64,
) -> Result<Option<EigenResult>> {
    let m = alpha.len();
    if m == 0 {
        return Ok(None);
    }
    let (_, y) = tridiagonal_eigen(alpha, &beta[..m - 1])?;
    let kk = k.min(m);
    let mut vecs = vec![0.0f64; kk * n];
    for c in 0..kk {
        let col = m - 1 - c; // largest first
        let v = &mut vecs[c * n..(c + 1) * n];
        for (i, qi) in q.iter().take(m).enumerate() {
            axpy(y[i * m + col], qi, v);
        }
        let nv = norm(v);
        if nv > 0.0 {
            v.iter_mut().for_each(|x| *x /= nv);
        }
    }
    let mut av = vec![0.0f64; n];
    let mut pairs: Vec<(f64, f64, usize)> = Vec::with_capacity(kk);
    for c in 0..kk {
        let v = &vecs[c * n..(c + 1) * n];
        a(v, &mut av);
        let theta = dot(v, &av);
        axpy(-theta, v, &mut av);
        pairs.push((theta, norm(&av), c));
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.2.cmp(&y.2)));
    let mut vectors = Vec::with_capacity(kk * n);
    for &(_, _, c) in &pairs {
        vectors.extend_from_slice(&vecs[c * n..(c + 1) * n]);
    }
    Ok(Some(EigenResult {
        n,
        values: pairs.iter().map(|p| p.0).collect(),
        residuals: pairs.iter().map(|p| p.1).collect(),
        vectors,
        steps: m,
    }))
}
