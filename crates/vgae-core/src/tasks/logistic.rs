//! Multinomial logistic regression with an L2 penalty, fitted by L-BFGS to a tight gradient tolerance.
//!
//! Objective (scikit-learn's `LogisticRegression(C, solver="lbfgs")` divided by n, so the same minimiser):
//! f(W, b) = (1/n) Σ_i CE(softmax(x_i W + b), y_i) + ‖W‖² / (2 C n), the intercept b unpenalised. It is strictly
//! convex in W, so W and the predicted probabilities are unique and match scikit-learn's to the tolerance of
//! both solvers. Solver: L-BFGS (10 pairs of history), a backtracking Armijo line search (c₁ = 1e-4, halving
//! from step 1), stopping when max |∇f| ≤ `gtol`.

use crate::{Error, Result};

/// Penalty and stopping rule.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogisticConfig {
    /// Inverse regularisation strength (scikit-learn's `C`).
    pub c: f64,
    /// L-BFGS iterations at most.
    pub max_iter: usize,
    /// Stop when the largest gradient component is at most this.
    pub gtol: f64,
}

impl Default for LogisticConfig {
    fn default() -> Self {
        LogisticConfig {
            c: 1.0,
            max_iter: 1000,
            gtol: 1e-9,
        }
    }
}

/// A fitted model over the classes seen in training.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticRegression {
    /// `[d, k]` row-major weights.
    pub weights: Vec<f64>,
    /// `[k]` intercepts (determined up to a common shift; probabilities are not affected).
    pub bias: Vec<f64>,
    /// The class label of each of the k columns, sorted.
    pub classes: Vec<u32>,
    /// Input dimension.
    pub d: usize,
    /// L-BFGS iterations taken.
    pub iterations: usize,
    /// Whether the gradient tolerance was reached within `max_iter`.
    pub converged: bool,
}

/// Row-wise softmax of `x W + b` for `[n, d]` inputs: `[n, k]`.
fn probabilities(x: &[f64], d: usize, w: &[f64], b: &[f64]) -> Vec<f64> {
    let k = b.len();
    let mut out = Vec::with_capacity(x.len() / d * k);
    for row in x.chunks(d) {
        let mut z: Vec<f64> = (0..k)
            .map(|c| {
                b[c] + row
                    .iter()
                    .enumerate()
                    .map(|(j, v)| v * w[j * k + c])
                    .sum::<f64>()
            })
            .collect();
        let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let s: f64 = z
            .iter_mut()
            .map(|v| {
                *v = (*v - m).exp();
                *v
            })
            .sum();
        out.extend(z.iter().map(|v| v / s));
    }
    out
}

/// The problem being minimised, over θ = [W (d·k, row-major), b (k)].
struct Objective<'a> {
    x: &'a [f64],
    y: Vec<usize>,
    d: usize,
    k: usize,
    l2: f64,
}

impl Objective<'_> {
    fn value_grad(&self, theta: &[f64]) -> (f64, Vec<f64>) {
        let (d, k) = (self.d, self.k);
        let (w, b) = theta.split_at(d * k);
        let n = self.y.len() as f64;
        let mut g = vec![0.0; theta.len()];
        let mut loss = 0.0;
        for (i, row) in self.x.chunks(d).enumerate() {
            let z: Vec<f64> = (0..k)
                .map(|c| {
                    b[c] + row
                        .iter()
                        .enumerate()
                        .map(|(j, v)| v * w[j * k + c])
                        .sum::<f64>()
                })
                .collect();
            let m = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lse = m + z.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
            loss += lse - z[self.y[i]];
            for c in 0..k {
                let r = ((z[c] - lse).exp() - (c == self.y[i]) as u8 as f64) / n;
                for (j, v) in row.iter().enumerate() {
                    g[j * k + c] += r * v;
                }
                g[d * k + c] += r;
            }
        }
        let pen: f64 = w.iter().map(|v| v * v).sum::<f64>() * self.l2 / 2.0;
        for (gj, wj) in g.iter_mut().zip(w) {
            *gj += self.l2 * wj;
        }
        (loss / n + pen, g)
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl LogisticRegression {
    /// Fits `[n, d]` row-major inputs `x` to labels `y` (any class ids; the model covers those present).
    /// Fails on mismatched lengths, no rows, a non-finite input or `C <= 0`.
    pub fn fit(x: &[f64], d: usize, y: &[u32], cfg: &LogisticConfig) -> Result<Self> {
        if d == 0 || x.len() != y.len() * d || y.is_empty() {
            return Err(Error::msg(format!(
                "logistic regression: {} inputs do not form {} rows of {d}",
                x.len(),
                y.len()
            )));
        }
        if cfg.c.is_nan() || cfg.c <= 0.0 || x.iter().any(|v| !v.is_finite()) {
            return Err(Error::msg(
                "logistic regression: C must be > 0 and every input finite",
            ));
        }
        let mut classes = y.to_vec();
        classes.sort_unstable();
        classes.dedup();
        let k = classes.len();
        let obj = Objective {
            x,
            y: y.iter()
                .map(|c| classes.binary_search(c).unwrap())
                .collect(),
            d,
            k,
            l2: 1.0 / (cfg.c * y.len() as f64),
        };
        let (theta, iterations, converged) = lbfgs(&obj, vec![0.0; d * k + k], cfg);
        let (w, b) = theta.split_at(d * k);
        Ok(LogisticRegression {
            weights: w.to_vec(),
            bias: b.to_vec(),
            classes,
            d,
            iterations,
            converged,
        })
    }

    /// Class probabilities `[n, k]` (columns in `classes` order) of `[n, d]` inputs.
    pub fn predict_proba(&self, x: &[f64]) -> Vec<f64> {
        probabilities(x, self.d, &self.weights, &self.bias)
    }

    /// The most probable class of each row (the first on a tie, as numpy's argmax).
    pub fn predict(&self, x: &[f64]) -> Vec<u32> {
        let k = self.classes.len();
        self.predict_proba(x)
            .chunks(k)
            .map(|p| {
                let best = (0..k).fold(0, |b, c| if p[c] > p[b] { c } else { b });
                self.classes[best]
            })
            .collect()
    }
}

/// Minimises `obj` from `theta`: (θ, iterations, converged).
fn lbfgs(
    obj: &Objective<'_>,
    mut theta: Vec<f64>,
    cfg: &LogisticConfig,
) -> (Vec<f64>, usize, bool) {
    const M: usize = 10;
    let (mut f, mut g) = obj.value_grad(&theta);
    let mut hist: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    for it in 0..cfg.max_iter {
        if g.iter().all(|v| v.abs() <= cfg.gtol) {
            return (theta, it, true);
        }
        // Two-loop recursion: p = -H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(hist.len());
        for (s, y, rho) in hist.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        let gamma = match hist.back() {
            Some((s, y, _)) => dot(s, y) / dot(y, y),
            None => 1.0 / g.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300),
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in hist.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &q);
            q.iter_mut()
                .zip(s)
                .for_each(|(qi, si)| *qi += (a - beta) * si);
        }
        let mut p: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&g, &p);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): restart from steepest descent.
            hist.clear();
            p = g.iter().map(|v| -v).collect();
            slope = dot(&g, &p);
        }
        let mut step = 1.0;
        let (new_theta, new_f, new_g) = loop {
            let t: Vec<f64> = theta.iter().zip(&p).map(|(a, b)| a + step * b).collect();
            let (ft, gt) = obj.value_grad(&t);
            if ft <= f + 1e-4 * step * slope || step < 1e-20 {
                break (t, ft, gt);
            }
            step /= 2.0;
        };
        let s: Vec<f64> = new_theta.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = new_g.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-300 {
            if hist.len() == M {
                hist.pop_front();
            }
            hist.push_back((s, y, 1.0 / sy));
        }
        let stalled = new_f >= f && step < 1e-20;
        theta = new_theta;
        f = new_f;
        g = new_g;
        if stalled {
            return (theta, it + 1, g.iter().all(|v| v.abs() <= cfg.gtol));
        }
    }
    let done = g.iter().all(|v| v.abs() <= cfg.gtol);
    (theta, cfg.max_iter, done)
}
