//! Ranking metrics computed exactly as scikit-learn's `roc_auc_score` and `average_precision_score`,
//! ties included.

/// Area under the ROC curve: the Mann–Whitney statistic with average ranks for ties (equal to sklearn's
/// trapezoidal area over distinct thresholds). `None` when either class is empty.
pub fn roc_auc(pos: &[f64], neg: &[f64]) -> Option<f64> {
    if pos.is_empty() || neg.is_empty() {
        return None;
    }
    let mut all: Vec<(f64, bool)> = pos
        .iter()
        .map(|&s| (s, true))
        .chain(neg.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut rank_sum = 0f64;
    let mut i = 0;
    while i < all.len() {
        let mut j = i + 1; // always advances, even past a NaN (which equals nothing)
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let avg_rank = (i + 1 + j) as f64 / 2.0; // ranks i+1 ..= j
        rank_sum += avg_rank * all[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let (p, n) = (pos.len() as f64, neg.len() as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Average precision: Σ_k (R_k − R_{k−1}) · P_k over distinct score thresholds, highest first.
pub fn average_precision(pos: &[f64], neg: &[f64]) -> Option<f64> {
    if pos.is_empty() {
        return None;
    }
    let mut all: Vec<(f64, bool)> = pos
        .iter()
        .map(|&s| (s, true))
        .chain(neg.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total_pos = pos.len() as f64;
    let (mut tp, mut fp, mut ap, mut last_recall) = (0f64, 0f64, 0f64, 0f64);
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && (j == i || all[j].0 == all[i].0) {
            if all[j].1 {
                tp += 1.0;
            } else {
                fp += 1.0;
            }
            j += 1;
        }
        let recall = tp / total_pos;
        ap += (recall - last_recall) * tp / (tp + fp);
        last_recall = recall;
        i = j;
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
    pub auc: f64,
    pub ap: f64,
}

/// NaN when any logit is not finite, so a diverged model cannot report a score.
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
