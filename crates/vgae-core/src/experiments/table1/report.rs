//! Table 1 as markdown: one line per row, failed runs listed below the table.

use super::{FailedRun, Row, Table1Config, Table1Result};
use crate::graph::LossKind;

/// `mean ± std` of fractions, in % with one decimal: `91.1 ± 0.8`.
pub fn pct(mean: f64, std: f64) -> String {
    format!("{:.1} ± {:.1}", 100.0 * mean, 100.0 * std)
}

/// The loss's lower-case name (`dense`, `sampled`), as in the table's header.
pub fn loss_name(loss: LossKind) -> String {
    format!("{loss:?}").to_lowercase()
}

/// [`pct`], without the `± 0.0` that one seed would show.
pub fn pct_of(mean: f64, std: f64, seeds: usize) -> String {
    if seeds == 1 {
        format!("{:.1}", 100.0 * mean)
    } else {
        pct(mean, std)
    }
}

/// One markdown table line of a row.
pub fn row_line(r: &Row) -> String {
    let paper = match (r.paper_auc, r.paper_ap) {
        (Some(a), Some(p)) => format!("{a:.1} / {p:.1}"),
        _ => "–".into(),
    };
    let per_epoch = r
        .seconds_per_epoch
        .map_or("–".to_string(), |s| format!("{s:.4}"));
    let seeds = match r.failed {
        0 => r.seeds.to_string(),
        f => format!("{} ({f} failed)", r.seeds),
    };
    format!(
        "| {} | {} | {} | {} | {:.1} / {:.1} | {} | {} | {} | {:.1} |",
        r.model,
        r.dataset,
        pct_of(r.auc_mean, r.auc_std, r.seeds),
        pct_of(r.ap_mean, r.ap_std, r.seeds),
        100.0 * r.best_val_auc_mean,
        100.0 * r.best_val_ap_mean,
        paper,
        seeds,
        per_epoch,
        r.seconds_per_run
    )
}

/// `3 seeds`, `1 seed`.
pub fn count(n: impl Into<u64>, what: &str) -> String {
    let n = n.into();
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// `table1.md`: a short legend, the table (a row whose every seed failed says so) and the failed runs.
pub fn markdown(res: &Table1Result, cfg: &Table1Config) -> String {
    let mut s = format!(
        "Link prediction, test AUC / AP in % (mean ± std over {}, each its own split; {} loss, {}).\n\
         \"last\" = after the last epoch (the paper's protocol); \"best-val\" = at the epoch of best validation AUC.\n\
         SC (128 non-trivial eigenvectors of the training graph's normalised Laplacian) and DW (DeepWalk, 128 dims) \
         have no epochs: their two AUC / AP columns are the same run.\n\n\
         | model | dataset | AUC (last) | AP (last) | AUC / AP (best-val) | paper AUC / AP | seeds | s/epoch | s/run |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        count(cfg.seeds, "seed"),
        loss_name(cfg.loss),
        count(cfg.epochs as u64, "epoch")
    );
    for r in &res.rows {
        s.push_str(&row_line(r));
        s.push('\n');
    }
    let mut all_failed: Vec<(&str, &str)> = Vec::new();
    for f in &res.failures {
        let has_row = res
            .rows
            .iter()
            .any(|r| r.dataset == f.dataset && r.model == f.model);
        if !has_row && !all_failed.contains(&(&f.model, &f.dataset)) {
            all_failed.push((&f.model, &f.dataset));
        }
    }
    for (model, dataset) in all_failed {
        let n = res
            .failures
            .iter()
            .filter(|f| f.model == model && f.dataset == dataset)
            .count();
        s.push_str(&format!(
            "| {model} | {dataset} | failed | failed | – | – | 0 ({n} failed) | – | – |\n"
        ));
    }
    if !res.failures.is_empty() {
        s.push_str("\nFailed runs (left out of the means):\n\n");
        for f in &res.failures {
            s.push_str(&failure_line(f));
            s.push('\n');
        }
    }
    s
}

/// `- SC on lesmis, seed 1: <error>`.
pub fn failure_line(f: &FailedRun) -> String {
    format!(
        "- {} on {}, seed {}: {}",
        f.model, f.dataset, f.seed, f.error
    )
}
