//! Scores of a clustering against true classes, computed as scikit-learn 1.9 computes them: clustering
//! accuracy (the best one-to-one matching of clusters to classes), NMI and AMI (arithmetic-mean normalisation,
//! sklearn's default) and ARI.
//!
//! ```
//! use vgae_core::tasks::clustering::ClusteringScores;
//!
//! // The same partition under other names: every score is 1.
//! let s = ClusteringScores::new(&[0, 0, 1, 1, 2], &[2, 2, 0, 0, 1])?;
//! assert_eq!((s.acc, s.nmi, s.ari, s.ami), (1.0, 1.0, 1.0, 1.0));
//! # Ok::<(), vgae_core::Error>(())
//! ```

use super::assignment::max_weight_matching;
use crate::{Error, Result};

/// Counts of (class, cluster) pairs; classes and clusters are renumbered by sorted distinct value.
#[derive(Debug, Clone, PartialEq)]
pub struct Contingency {
    /// `[classes, clusters]` row-major counts.
    pub counts: Vec<u64>,
    /// Distinct true classes.
    pub classes: usize,
    /// Distinct predicted clusters.
    pub clusters: usize,
    /// Number of points.
    pub n: u64,
}

fn renumber(v: &[u32]) -> (Vec<usize>, usize) {
    let mut distinct = v.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let ids = v
        .iter()
        .map(|x| distinct.binary_search(x).expect("present"))
        .collect();
    (ids, distinct.len())
}

impl Contingency {
    /// The table of `truth` against `pred`; an error if their lengths differ.
    pub fn new(truth: &[u32], pred: &[u32]) -> Result<Self> {
        if truth.len() != pred.len() {
            return Err(Error::msg(format!(
                "clustering scores: {} true labels but {} predicted",
                truth.len(),
                pred.len()
            )));
        }
        let ((t, classes), (p, clusters)) = (renumber(truth), renumber(pred));
        let mut counts = vec![0u64; classes * clusters];
        for (&a, &b) in t.iter().zip(&p) {
            counts[a * clusters + b] += 1;
        }
        Ok(Contingency {
            counts,
            classes,
            clusters,
            n: truth.len() as u64,
        })
    }

    fn row_sums(&self) -> Vec<u64> {
        self.counts
            .chunks(self.clusters.max(1))
            .map(|r| r.iter().sum())
            .collect()
    }

    fn col_sums(&self) -> Vec<u64> {
        (0..self.clusters)
            .map(|j| {
                (0..self.classes)
                    .map(|i| self.counts[i * self.clusters + j])
                    .sum()
            })
            .collect()
    }

    /// Clustering accuracy: the fraction of points on the diagonal after the one-to-one matching of clusters to
    /// classes that maximises it (the Hungarian method; unmatched clusters count as wrong).
    pub fn accuracy(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        let w: Vec<f64> = self.counts.iter().map(|&c| c as f64).collect();
        max_weight_matching(&w, self.classes, self.clusters).0 / self.n as f64
    }

    /// Mutual information in nats (sklearn's `mutual_info_score`).
    pub fn mutual_info(&self) -> f64 {
        if self.classes == 1 || self.clusters == 1 {
            return 0.0;
        }
        let (a, b) = (self.row_sums(), self.col_sums());
        let n = self.n as f64;
        let (sa, sb) = (a.iter().sum::<u64>() as f64, b.iter().sum::<u64>() as f64);
        let mut mi = 0.0;
        for (i, &ai) in a.iter().enumerate() {
            for (j, &bj) in b.iter().enumerate() {
                let c = self.counts[i * self.clusters + j];
                if c == 0 {
                    continue;
                }
                let nm = c as f64 / n;
                let outer = (ai * bj) as f64;
                let term = nm * ((c as f64).ln() - n.ln()) + nm * (-outer.ln() + sa.ln() + sb.ln());
                if term.abs() >= f64::EPSILON {
                    mi += term;
                }
            }
        }
        mi.max(0.0)
    }

    /// NMI = MI / mean(H(classes), H(clusters)); 1 when both sides are one group, 0 when MI is 0.
    pub fn nmi(&self) -> f64 {
        if self.classes == self.clusters && self.classes <= 1 {
            return 1.0;
        }
        let mi = self.mutual_info();
        if mi == 0.0 {
            return 0.0;
        }
        mi / ((entropy(&self.row_sums()) + entropy(&self.col_sums())) / 2.0)
    }

    /// Adjusted Rand index from the pair confusion matrix (sklearn's `adjusted_rand_score`).
    pub fn ari(&self) -> f64 {
        let n = self.n as i128;
        let sq: i128 = self.counts.iter().map(|&c| (c as i128) * (c as i128)).sum();
        let (a, b) = (self.row_sums(), self.col_sums());
        let sa: i128 = a.iter().map(|&x| (x as i128) * (x as i128)).sum();
        let sb: i128 = b.iter().map(|&x| (x as i128) * (x as i128)).sum();
        let tp = sq - n;
        let fp = sb - sq; // pairs together in the clustering only
        let fn_ = sa - sq; // pairs together in the classes only
        let tn = n * n - fp - fn_ - sq;
        if fn_ == 0 && fp == 0 {
            return 1.0;
        }
        let num = 2.0 * (tp as f64 * tn as f64 - fn_ as f64 * fp as f64);
        let den = (tp + fn_) as f64 * (fn_ + tn) as f64 + (tp + fp) as f64 * (fp + tn) as f64;
        num / den
    }

    /// Expected mutual information of two random labelings with these marginals (the hypergeometric model
    /// of Vinh et al. 2010, summed as sklearn's `expected_mutual_information` sums it).
    pub fn expected_mutual_info(&self) -> f64 {
        let (a, b) = (self.row_sums(), self.col_sums());
        if a.len() == 1 || b.len() == 1 {
            return 0.0;
        }
        let n = self.n as usize;
        let lf = LnFactorial::new(n);
        let nf = n as f64;
        let mut emi = 0.0;
        for &ai in &a {
            for &bj in &b {
                let (ai, bj) = (ai as usize, bj as usize);
                let start = (ai + bj).saturating_sub(n).max(1);
                for nij in start..=ai.min(bj) {
                    let term1 = nij as f64 / nf;
                    let term2 = (nf.ln() + (nij as f64).ln()) - (ai as f64).ln() - (bj as f64).ln();
                    let gln = lf.at(ai) + lf.at(bj) + lf.at(n - ai) + lf.at(n - bj)
                        - (lf.at(nij) + lf.at(n))
                        - lf.at(ai - nij)
                        - lf.at(bj - nij)
                        - lf.at(n + nij - ai - bj);
                    emi += term1 * term2 * gln.exp();
                }
            }
        }
        emi
    }

    /// AMI = (MI − EMI) / (mean(H(classes), H(clusters)) − EMI), the denominator kept at least ε away from 0.
    pub fn ami(&self) -> f64 {
        if self.classes == self.clusters && self.classes <= 1 {
            return 1.0;
        }
        let mi = self.mutual_info();
        let emi = self.expected_mutual_info();
        let norm = (entropy(&self.row_sums()) + entropy(&self.col_sums())) / 2.0;
        let mut den = norm - emi;
        den = if den < 0.0 {
            den.min(-f64::EPSILON)
        } else {
            den.max(f64::EPSILON)
        };
        (mi - emi) / den
    }
}

/// Entropy in nats of a labeling given its group sizes (sklearn's `entropy`).
fn entropy(sizes: &[u64]) -> f64 {
    let total = sizes.iter().sum::<u64>() as f64;
    if total == 0.0 {
        return 1.0;
    }
    -sizes
        .iter()
        .filter(|&&s| s > 0)
        .map(|&s| (s as f64 / total) * ((s as f64).ln() - total.ln()))
        .sum::<f64>()
}

/// ln(m!) for m in 0..=n, by compensated summation of ln k.
struct LnFactorial(Vec<f64>);

impl LnFactorial {
    fn new(n: usize) -> Self {
        let mut t = Vec::with_capacity(n + 1);
        let (mut sum, mut comp) = (0.0f64, 0.0f64);
        t.push(0.0);
        for k in 1..=n {
            let y = (k as f64).ln() - comp;
            let s = sum + y;
            comp = (s - sum) - y;
            sum = s;
            t.push(sum);
        }
        LnFactorial(t)
    }

    fn at(&self, m: usize) -> f64 {
        self.0[m]
    }
}

/// Every clustering score of one partition against the classes.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClusteringScores {
    /// Clustering accuracy after the best matching of clusters to classes.
    pub acc: f64,
    /// Normalised mutual information (arithmetic mean).
    pub nmi: f64,
    /// Adjusted Rand index.
    pub ari: f64,
    /// Adjusted mutual information (arithmetic mean).
    pub ami: f64,
}

impl ClusteringScores {
    /// The scores of `pred` against `truth` (one label each per point, any integer names).
    pub fn new(truth: &[u32], pred: &[u32]) -> Result<Self> {
        let c = Contingency::new(truth, pred)?;
        Ok(ClusteringScores {
            acc: c.accuracy(),
            nmi: c.nmi(),
            ari: c.ari(),
            ami: c.ami(),
        })
    }
}
