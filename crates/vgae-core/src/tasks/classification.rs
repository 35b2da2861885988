//! Node classification probe: a multinomial logistic regression ([`LogisticRegression`]) on frozen node
//! embeddings, trained on the Planetoid public split's training nodes, its `C` chosen by validation accuracy,
//! scored by test accuracy.
//!
//! Each embedding dimension is standardised with the training nodes' mean and standard deviation first
//! (so one grid of `C` suits GAE's and VGAE's differently scaled μ). Nodes without a label are left out.

use super::logistic::{LogisticConfig, LogisticRegression};
use crate::{Error, Result};
use vgae_data::planetoid_split::PublicSplit;

/// The probe's grid and solver settings.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeConfig {
    /// Values of `C` tried; the best validation accuracy wins, the smaller `C` on a tie.
    pub cs: Vec<f64>,
    /// L-BFGS iterations at most per fit.
    pub max_iter: usize,
    /// Gradient tolerance per fit.
    pub gtol: f64,
}

impl Default for ProbeConfig {
    fn default() -> Self {
        ProbeConfig {
            cs: vec![0.01, 0.1, 1.0, 10.0, 100.0],
            max_iter: 1000,
            gtol: 1e-9,
        }
    }
}

/// Accuracies of the chosen probe.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProbeScores {
    /// The `C` chosen on validation.
    pub c: f64,
    /// Accuracy on the training nodes.
    pub train_acc: f64,
    /// Accuracy on the validation nodes.
    pub val_acc: f64,
    /// Accuracy on the test nodes.
    pub test_acc: f64,
}

/// `[n_nodes, d]` embeddings and their labels, probed on one public split.
pub struct Probe<'a> {
    z: &'a [f64],
    d: usize,
    labels: &'a [Option<u32>],
}

/// Fraction of `pred` equal to `truth`.
pub fn accuracy(truth: &[u32], pred: &[u32]) -> f64 {
    let hit = truth.iter().zip(pred).filter(|(a, b)| a == b).count();
    hit as f64 / truth.len().max(1) as f64
}

impl<'a> Probe<'a> {
    /// Embeddings `z` (`[n, d]` row-major) and one label per node; an error if the sizes disagree.
    pub fn new(z: &'a [f64], d: usize, labels: &'a [Option<u32>]) -> Result<Self> {
        if d == 0 || z.len() != labels.len() * d {
            return Err(Error::msg(format!(
                "classification probe: {} embedding values for {} labelled nodes of dimension {d}",
                z.len(),
                labels.len()
            )));
        }
        Ok(Probe { z, d, labels })
    }

    /// The labelled nodes of `ids`: their rows of z and their labels; an error naming `part` if none.
    fn part(&self, ids: &[u32], part: &str) -> Result<(Vec<f64>, Vec<u32>)> {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for &i in ids {
            let i = i as usize;
            let label = *self.labels.get(i).ok_or_else(|| {
                Error::msg(format!(
                    "classification probe: {part} node {i} outside the {} nodes",
                    self.labels.len()
                ))
            })?;
            if let Some(l) = label {
                x.extend_from_slice(&self.z[i * self.d..(i + 1) * self.d]);
                y.push(l);
            }
        }
        if y.is_empty() {
            return Err(Error::msg(format!(
                "classification probe: no labelled {part} node"
            )));
        }
        Ok((x, y))
    }

    /// Standardises the three parts in place by the training part's mean and standard deviation.
    fn standardise(&self, parts: &mut [&mut Vec<f64>; 3]) {
        let d = self.d;
        let n = (parts[0].len() / d) as f64;
        for j in 0..d {
            let col = || parts[0].iter().skip(j).step_by(d);
            let m = col().sum::<f64>() / n;
            let sd = (col().map(|v| (v - m).powi(2)).sum::<f64>() / n).sqrt();
            let sd = if sd > 0.0 { sd } else { 1.0 };
            for p in parts.iter_mut() {
                p.iter_mut()
                    .skip(j)
                    .step_by(d)
                    .for_each(|v| *v = (*v - m) / sd);
            }
        }
    }

    /// Fits one probe per `C` of the grid on `split.train`, keeps the best on `split.val`, reports its
    /// accuracies; fails if a part has no labelled node, the grid is empty or a fit fails.
    pub fn run(&self, split: &PublicSplit, cfg: &ProbeConfig) -> Result<ProbeScores> {
        if cfg.cs.is_empty() {
            return Err(Error::msg(
                "classification probe: the grid of C values is empty",
            ));
        }
        let (mut xtr, ytr) = self.part(&split.train, "training")?;
        let (mut xva, yva) = self.part(&split.val, "validation")?;
        let (mut xte, yte) = self.part(&split.test, "test")?;
        self.standardise(&mut [&mut xtr, &mut xva, &mut xte]);
        let mut best: Option<(f64, ProbeScores)> = None;
        for &c in &cfg.cs {
            let lr = LogisticRegression::fit(
                &xtr,
                self.d,
                &ytr,
                &LogisticConfig {
                    c,
                    max_iter: cfg.max_iter,
                    gtol: cfg.gtol,
                },
            )?;
            let val_acc = accuracy(&yva, &lr.predict(&xva));
            if best.as_ref().is_none_or(|b| val_acc > b.0) {
                let scores = ProbeScores {
                    c,
                    train_acc: accuracy(&ytr, &lr.predict(&xtr)),
                    val_acc,
                    test_acc: accuracy(&yte, &lr.predict(&xte)),
                };
                best = Some((val_acc, scores));
            }
        }
        Ok(best.expect("non-empty grid").1)
    }
}
