//! Ranking metrics for link prediction with the conventions of OGB's `ogb.linkproppred.Evaluator`:
//!
//! - **Hits@K** (`ogbl-collab`, `ogbl-ddi`, `ogbl-ppa`): every positive is ranked against one *shared* set of
//!   negatives; a positive counts if its score is strictly greater than the K-th highest negative score
//!   (`np.sort(y_pred_neg)[-K]`); with fewer than K negatives Hits@K is 1.
//! - **MRR** (`ogbl-citation2`, `ogbl-wikikg2`): every positive is ranked against its *own* list of negatives;
//!   its rank is 1 + (negatives scoring higher) + ½ (negatives scoring equal) — the mean of OGB's optimistic
//!   and pessimistic ranks — and MRR is the mean of 1 / rank. OGB's Hits@1/3/10 lists of the same call
//!   (rank ≤ 1, 3, 10) come with it.
//!
//! Scores may be any monotone transform of the link probability (we pass logits). A NaN or infinite score
//! makes the metric NaN, so a diverged model cannot report one.
//!
//! ```
//! use vgae_core::tasks::ranking::{hits_at_k, mrr};
//!
//! // The 2nd-highest negative is 0.5: positives 0.9 and 0.6 beat it, 0.5 does not (ties lose).
//! assert_eq!(hits_at_k(&[0.9, 0.6, 0.5], &[0.7, 0.5, 0.1], 2), 2.0 / 3.0);
//! // One positive, negatives [0.9, 0.5, 0.2]: one higher, one tied, so rank 2.5.
//! assert_eq!(mrr(&[0.5], &[0.9, 0.5, 0.2], 3)?.mrr, 1.0 / 2.5);
//! # Ok::<(), vgae_core::Error>(())
//! ```

use crate::{Error, Result};

fn finite(v: &[f64]) -> bool {
    v.iter().all(|x| x.is_finite())
}

/// Hits@K of `pos` against the shared negatives `neg` (OGB's `_eval_hits`); NaN if there is no positive or a
/// score is not finite.
pub fn hits_at_k(pos: &[f64], neg: &[f64], k: usize) -> f64 {
    if pos.is_empty() || !finite(pos) || !finite(neg) {
        return f64::NAN;
    }
    if neg.len() < k || k == 0 {
        return 1.0;
    }
    let mut sorted = neg.to_vec();
    sorted.sort_by(f64::total_cmp);
    let kth = sorted[sorted.len() - k];
    pos.iter().filter(|&&p| p > kth).count() as f64 / pos.len() as f64
}

/// The per-positive ranking metrics of OGB's `_eval_mrr`, averaged over positives.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MrrScores {
    /// Mean reciprocal rank.
    pub mrr: f64,
    /// Fraction of positives of rank ≤ 1.
    pub hits_at_1: f64,
    /// Fraction of positives of rank ≤ 3.
    pub hits_at_3: f64,
    /// Fraction of positives of rank ≤ 10.
    pub hits_at_10: f64,
}

/// The rank of one positive among its negatives: 1 + #higher + ½ #equal.
pub fn rank(pos: f64, neg: &[f64]) -> f64 {
    let higher = neg.iter().filter(|&&s| s > pos).count();
    let equal = neg.iter().filter(|&&s| s == pos).count();
    1.0 + higher as f64 + 0.5 * equal as f64
}

/// MRR (and OGB's Hits@1/3/10) of `pos[i]` against row `i` of `neg`, a `[pos.len(), per_positive]` row-major
/// matrix. An error if the shapes disagree; NaN scores if there is no positive or a score is not finite.
pub fn mrr(pos: &[f64], neg: &[f64], per_positive: usize) -> Result<MrrScores> {
    if per_positive == 0 || neg.len() != pos.len() * per_positive {
        return Err(Error::msg(format!(
            "MRR: {} negative scores do not form {} rows of {per_positive}",
            neg.len(),
            pos.len()
        )));
    }
    if pos.is_empty() || !finite(pos) || !finite(neg) {
        let nan = f64::NAN;
        return Ok(MrrScores {
            mrr: nan,
            hits_at_1: nan,
            hits_at_3: nan,
            hits_at_10: nan,
        });
    }
    let ranks: Vec<f64> = pos
        .iter()
        .zip(neg.chunks(per_positive))
        .map(|(&p, row)| rank(p, row))
        .collect();
    let n = ranks.len() as f64;
    let frac = |k: f64| ranks.iter().filter(|&&r| r <= k).count() as f64 / n;
    Ok(MrrScores {
        mrr: ranks.iter().map(|r| 1.0 / r).sum::<f64>() / n,
        hits_at_1: frac(1.0),
        hits_at_3: frac(3.0),
        hits_at_10: frac(10.0),
    })
}
