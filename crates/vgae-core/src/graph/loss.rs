//! Reconstruction and KL losses of GAE / VGAE.

use super::gram::softplus_gram;
use super::pairdot::pair_logits;
use candle_core::{Result, Tensor};

/// softplus(x) = log(1 + eᕽ), stable for any x: max(x, 0) + log1p(exp(−|x|)).
pub fn softplus(x: &Tensor) -> Result<Tensor> {
    x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?
}

/// Stable weighted binary cross-entropy with logits, elementwise:
/// (1 − t)·x + (1 + (w − 1)·t)·softplus(−x), i.e. −w·t·log σ(x) − (1 − t)·log(1 − σ(x)).
pub fn bce_with_logits(x: &Tensor, t: &Tensor, pos_weight: f64) -> Result<Tensor> {
    let one_minus_t = t.affine(-1.0, 1.0)?;
    let weight = t.affine(pos_weight - 1.0, 1.0)?;
    (one_minus_t * x)? + (weight * softplus(&x.neg()?)?)?
}

/// The reference implementation's weighting of the dense loss, from the symmetric training adjacency.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DenseWeights {
    pub n: usize,
    /// (N² − S) / S, S = non-zeros of the symmetric A_train (2 per edge, no diagonal).
    pub pos_weight: f64,
    /// N² / (2 (N² − S)).
    pub norm: f64,
}

impl DenseWeights {
    pub fn new(n: usize, train_edges: usize) -> Self {
        let nn = (n as f64) * (n as f64);
        let s = 2.0 * train_edges as f64;
        DenseWeights {
            n,
            pos_weight: (nn - s) / s,
            norm: nn / (2.0 * (nn - s)),
        }
    }
}

/// norm · mean over all N² entries of weighted BCE(z_i·z_j, (A_train + I)_ij), computed as
/// Σ_all softplus(x) (fused, O(N·d) memory) plus a sparse correction at the positives:
/// w·softplus(−x) − softplus(x) = (w − 1)·softplus(x) − w·x.
/// `positives` holds both directions of every training edge and the N diagonal pairs.
pub fn dense_recon_loss(
    z: &Tensor,
    positives: &[[u32; 2]],
    w: &DenseWeights,
    block: usize,
) -> Result<Tensor> {
    let all = softplus_gram(z, block)?;
    let x = pair_logits(z, positives)?;
    let correction = ((softplus(&x)? * (w.pos_weight - 1.0))? - (x * w.pos_weight)?)?.sum_all()?;
    let nn = (w.n as f64) * (w.n as f64);
    (all + correction)? * (w.norm / nn)
}

/// PyG's loss: −log σ(x⁺) averaged over positives plus −log(1 − σ(x⁻)) averaged over negatives.
pub fn sampled_recon_loss(z: &Tensor, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<Tensor> {
    let xp = pair_logits(z, pos)?;
    let xn = pair_logits(z, neg)?;
    softplus(&xp.neg()?)?.mean_all()? + softplus(&xn)?.mean_all()?
}

/// The KL term as both reference implementations add it to the loss:
/// −(0.5 / N) · mean over nodes of Σ_d (1 + 2 log σ − μ² − σ²).
pub fn kl_loss(mu: &Tensor, logstd: &Tensor) -> Result<Tensor> {
    let n = mu.dim(0)? as f64;
    let inner = ((logstd * 2.0)? + 1.0)? - mu.sqr()? - (logstd * 2.0)?.exp()?;
    inner?.sum(1)?.mean_all()? * (-0.5 / n)
}
