//! Ranking metrics computed exactly as scikit-learn's `roc_auc_score` and `average_precision_score`,
//! ties included.

/// Scores grouped by equal value, in increasing order: (positives, negatives) per distinct score.
/// A NaN forms its own group (it equals nothing), so the grouping always terminates.
fn tie_groups(pos: &[f64], neg: &[f64]) -> Vec<(usize, usize)> {
    let mut all: Vec<(f64, bool)> = pos
        .iter()
        .map(|&s| (s, true))
        .chain(neg.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for (k, &(s, is_pos)) in all.iter().enumerate() {
        if k == 0 || s != all[k - 1].0 {
            groups.push((0, 0));
        }
        let g = groups.last_mut().unwrap();
        if is_pos {
            g.0 += 1;
        } else {
            g.1 += 1;
        }
    }
    groups
}

/// Area under the ROC curve: the Mann–Whitney statistic with average ranks for ties (equal to sklearn's
/// trapezoidal area over distinct thresholds). `None` when either class is empty.
pub fn roc_auc(pos: &[f64], neg: &[f64]) -> Option<f64> {
    if pos.is_empty() || neg.is_empty() {
        return None;
    }
    let (mut rank_sum, mut below) = (0f64, 0usize);
    for (p, n) in tie_groups(pos, neg) {
        let avg_rank = (2 * below + p + n + 1) as f64 / 2.0; // ranks below+1 ..= below+p+n
        rank_sum += avg_rank * p as f64;
        below += p + n;
    }
    let (p, n) = (pos.len() as f64, neg.len() as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Average precision: Σ_k (R_k − R_{k−1}) · P_k over distinct score thresholds, highest first.
pub fn average_precision(pos: &[f64], neg: &[f64]) -> Option<f64> {
    if pos.is_empty() {
        return None;
    }
    let total_pos = pos.len() as f64;
    let (mut tp, mut fp, mut ap, mut last_recall) = (0f64, 0f64, 0f64, 0f64);
    for (p, n) in tie_groups(pos, neg).into_iter().rev() {
        tp += p as f64;
        fp += n as f64;
        let recall = tp / total_pos;
        ap += (recall - last_recall) * tp / (tp + fp);
        last_recall = recall;
    }
    Some(ap)
}

/// Link-prediction scores: sigmoid of the logits, in f64 so large logits do not all tie at 1.0.
pub fn sigmoid_scores(logits: &[f32]) -> Vec<f64> {
    logits
        .iter()
        .map(|&x| 1.0 / (1.0 + (-(x as f64)).exp()))
        .collect()
}

/// ROC-AUC and AP of positive and negative logits.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LinkScores {
    /// Area under the ROC curve, in `[0, 1]` (0.5: chance); see [`roc_auc`].
    pub auc: f64,
    /// Average precision, in `[0, 1]`; see [`average_precision`].
    pub ap: f64,
}

/// The link-prediction scores of the VGAE paper's Table 1: ROC-AUC and AP of the test edges' logits
/// (`pos_logits`) against the sampled non-edges' (`neg_logits`), after a sigmoid. Both are NaN when any logit
/// is not finite, so a diverged model cannot report a score.
///
/// Three edges and two non-edges; one pair of the six is misordered (edge −1 below non-edge 0):
///
/// ```
/// use vgae_core::metrics::link_scores;
///
/// let s = link_scores(&[3.0, 1.0, -1.0], &[0.0, -2.0]);
/// // AUC: 5 of the 3 × 2 (edge, non-edge) pairs are ranked right.
/// assert!((s.auc - 5.0 / 6.0).abs() < 1e-12, "{s:?}");
/// // AP: ranked 3 (edge), 1 (edge), 0, −1 (edge), −2; precision at each edge 1, 1, 3/4.
/// assert!((s.ap - (1.0 + 1.0 + 0.75) / 3.0).abs() < 1e-12, "{s:?}");
///
/// assert!(link_scores(&[f32::NAN], &[0.0]).auc.is_nan());
/// ```
pub fn link_scores(pos_logits: &[f32], neg_logits: &[f32]) -> LinkScores {
    if pos_logits.iter().chain(neg_logits).any(|x| !x.is_finite()) {
        return LinkScores {
            auc: f64::NAN,
            ap: f64::NAN,
        };
    }
    let (p, n) = (sigmoid_scores(pos_logits), sigmoid_scores(neg_logits));
    LinkScores {
        auc: roc_auc(&p, &n).unwrap_or(f64::NAN),
        ap: average_precision(&p, &n).unwrap_or(f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values from scikit-learn 1.9.1:
    //   from sklearn.metrics import roc_auc_score, average_precision_score
    //   y = [1]*len(pos) + [0]*len(neg); s = pos + neg
    //   roc_auc_score(y, s), average_precision_score(y, s)
    #[test]
    fn hand_checked_cases() {
        // No ties: one of 2x2 pairs misordered -> AUC 0.75; AP = (0.5*1 + 0.5*2/3).
        let (p, n) = ([0.9, 0.4], [0.6, 0.1]);
        assert!((roc_auc(&p, &n).unwrap() - 0.75).abs() < 1e-12);
        assert!((average_precision(&p, &n).unwrap() - (0.5 + 1.0 / 3.0)).abs() < 1e-12);
        // All tied: AUC 0.5, AP = prevalence.
        let (p, n) = ([0.5, 0.5], [0.5, 0.5, 0.5]);
        assert!((roc_auc(&p, &n).unwrap() - 0.5).abs() < 1e-12);
        assert!((average_precision(&p, &n).unwrap() - 0.4).abs() < 1e-12);
        // Perfect and reversed.
        assert_eq!(roc_auc(&[2.0, 3.0], &[1.0]).unwrap(), 1.0);
        assert_eq!(roc_auc(&[1.0], &[2.0, 3.0]).unwrap(), 0.0);
        assert_eq!(average_precision(&[2.0, 3.0], &[1.0]).unwrap(), 1.0);
        assert!(roc_auc(&[], &[1.0]).is_none());
        // NaN scores terminate and a non-finite logit gives NaN metrics.
        assert!(roc_auc(&[f64::NAN, 1.0], &[f64::NAN]).is_some());
        assert!(average_precision(&[f64::NAN], &[f64::NAN, 0.5]).is_some());
        assert!(link_scores(&[f32::INFINITY], &[0.0]).auc.is_nan());
    }
}
