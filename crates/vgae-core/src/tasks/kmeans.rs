//! Seeded k-means: scikit-learn's greedy k-means++ seeding, Lloyd iterations and the best of several restarts
//! by inertia, every draw from a [`RunRng`].
//!
//! Hand-written (about a hundred lines) rather than a crate: `kmeans` needs nightly Rust (`portable_simd`) and
//! `linfa-clustering` brings ndarray, linfa and a second `rand` whose generators cannot be our [`RunRng`].

use crate::rng::RunRng;
use crate::{Error, Result};
use rand::Rng;

/// How k-means runs; the defaults are scikit-learn's `KMeans(n_init=10, max_iter=300, tol=1e-4)`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct KMeansConfig {
    /// Independent k-means++ seedings; the run of lowest inertia is kept (sklearn's `n_init`).
    pub restarts: usize,
    /// Lloyd iterations per run at most.
    pub max_iter: usize,
    /// Stop when the centres move by at most `tol` × the mean per-dimension variance of the data
    /// (sum of squared shifts, as sklearn measures it), or when no label changes.
    pub tol: f64,
}

impl Default for KMeansConfig {
    fn default() -> Self {
        KMeansConfig {
            restarts: 10,
            max_iter: 300,
            tol: 1e-4,
        }
    }
}

/// A clustering: a label per point and the centres.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansResult {
    /// Cluster of each point, in `0..k`.
    pub labels: Vec<u32>,
    /// `[k, d]` row-major centres.
    pub centers: Vec<f64>,
    /// Σ of squared distances of each point to its centre.
    pub inertia: f64,
    /// Lloyd iterations of the kept run.
    pub iterations: usize,
}

/// Points `[n, d]` row-major, clustered into `k` groups.
pub struct KMeans<'a> {
    x: &'a [f64],
    n: usize,
    d: usize,
    k: usize,
}

fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

impl<'a> KMeans<'a> {
    /// `x` holds `n = x.len() / d` points of `d` dimensions. Fails unless `1 <= k <= n`, `d >= 1`, `x.len()` is a
    /// multiple of `d` and every value is finite.
    pub fn new(x: &'a [f64], d: usize, k: usize) -> Result<Self> {
        if d == 0 || !x.len().is_multiple_of(d) {
            return Err(Error::msg(format!(
                "k-means: {} values do not form rows of {d} dimensions",
                x.len()
            )));
        }
        let n = x.len() / d;
        if k == 0 || k > n {
            return Err(Error::msg(format!(
                "k-means: k = {k} clusters for {n} points (need 1 <= k <= n)"
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(Error::msg(format!(
                "k-means: point {} has a non-finite coordinate",
                i / d
            )));
        }
        Ok(KMeans { x, n, d, k })
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// The best of `cfg.restarts` runs (lowest inertia; the first on a tie), all drawn from `rng`.
    pub fn fit(&self, cfg: &KMeansConfig, rng: &mut RunRng) -> Result<KMeansResult> {
        if cfg.restarts == 0 {
            return Err(Error::msg("k-means: restarts must be at least 1"));
        }
        let tol = cfg.tol * self.mean_variance();
        let mut best: Option<KMeansResult> = None;
        for _ in 0..cfg.restarts {
            let centers = self.plus_plus(rng);
            let run = self.lloyd(centers, cfg.max_iter, tol);
            if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
                best = Some(run);
            }
        }
        Ok(best.expect("at least one restart"))
    }

    /// Mean over dimensions of the per-dimension variance (sklearn's `_tolerance` scale).
    fn mean_variance(&self) -> f64 {
        let n = self.n as f64;
        (0..self.d)
            .map(|j| {
                let m = (0..self.n).map(|i| self.x[i * self.d + j]).sum::<f64>() / n;
                (0..self.n)
                    .map(|i| (self.x[i * self.d + j] - m).powi(2))
                    .sum::<f64>()
                    / n
            })
            .sum::<f64>()
            / self.d as f64
    }

    /// Greedy k-means++ (sklearn's `_kmeans_plusplus`): the first centre uniform, then each next one the best
    /// of `2 + ln k` candidates drawn with probability ∝ squared distance to the nearest centre so far.
    fn plus_plus(&self, rng: &mut RunRng) -> Vec<f64> {
        let trials = 2 + (self.k as f64).ln() as usize;
        let first = rng.0.random_range(0..self.n);
        let mut centers = self.row(first).to_vec();
        let mut closest: Vec<f64> = (0..self.n)
            .map(|i| dist2(self.row(i), self.row(first)))
            .collect();
        for _ in 1..self.k {
            let total: f64 = closest.iter().sum();
            let mut best: Option<(f64, usize, Vec<f64>)> = None;
            for _ in 0..trials {
                let c = if total > 0.0 {
                    self.draw(&closest, total * rng.0.random::<f64>())
                } else {
                    rng.0.random_range(0..self.n)
                };
                let new: Vec<f64> = (0..self.n)
                    .map(|i| closest[i].min(dist2(self.row(i), self.row(c))))
                    .collect();
                let pot: f64 = new.iter().sum();
                if best.as_ref().is_none_or(|b| pot < b.0) {
                    best = Some((pot, c, new));
                }
            }
            let (_, c, new) = best.expect("at least two trials");
            centers.extend_from_slice(self.row(c));
            closest = new;
        }
        centers
    }

    /// The first index whose cumulative weight exceeds `r` (the last positive one on rounding).
    fn draw(&self, w: &[f64], r: f64) -> usize {
        let mut acc = 0.0;
        for (i, &v) in w.iter().enumerate() {
            acc += v;
            if acc > r {
                return i;
            }
        }
        w.iter().rposition(|&v| v > 0.0).unwrap_or(self.n - 1)
    }

    /// Nearest centre of each point and its squared distance.
    fn assign(&self, centers: &[f64]) -> (Vec<u32>, Vec<f64>) {
        (0..self.n)
            .map(|i| {
                let p = self.row(i);
                let mut best = (0u32, f64::INFINITY);
                for c in 0..self.k {
                    let dd = dist2(p, &centers[c * self.d..(c + 1) * self.d]);
                    if dd < best.1 {
                        best = (c as u32, dd);
                    }
                }
                best
            })
            .unzip()
    }

    /// Lloyd iterations from `centers`; an empty cluster takes the point farthest from its centre.
    fn lloyd(&self, mut centers: Vec<f64>, max_iter: usize, tol: f64) -> KMeansResult {
        let (d, k) = (self.d, self.k);
        let (mut labels, mut dists) = self.assign(&centers);
        let mut iterations = 0;
        for _ in 0..max_iter {
            iterations += 1;
            let mut sums = vec![0.0; k * d];
            let mut counts = vec![0usize; k];
            for (i, &l) in labels.iter().enumerate() {
                let c = l as usize;
                counts[c] += 1;
                for (s, v) in sums[c * d..(c + 1) * d].iter_mut().zip(self.row(i)) {
                    *s += v;
                }
            }
            let mut taken = vec![false; self.n];
            for c in 0..k {
                if counts[c] == 0 {
                    let far = (0..self.n)
                        .filter(|&i| !taken[i])
                        .max_by(|&a, &b| dists[a].total_cmp(&dists[b]).then(b.cmp(&a)))
                        .expect("k <= n");
                    taken[far] = true;
                    sums[c * d..(c + 1) * d].copy_from_slice(self.row(far));
                    counts[c] = 1;
                }
            }
            let new: Vec<f64> = (0..k * d).map(|j| sums[j] / counts[j / d] as f64).collect();
            let shift: f64 = dist2(&new, &centers);
            centers = new;
            let (new_labels, new_dists) = self.assign(&centers);
            let same = new_labels == labels;
            labels = new_labels;
            dists = new_dists;
            if same || shift <= tol {
                break;
            }
        }
        KMeansResult {
            inertia: dists.iter().sum(),
            labels,
            centers,
            iterations,
        }
    }
}
