//! The benchmarks' tables and the scaling plot.

use super::Measurement;
use crate::plot::{charts, Panel};
use crate::Result;
use std::path::Path;

/// The markdown table of measurements (epoch time, 200-epoch time, peak RSS).
pub fn measurements_table(rows: &[Measurement]) -> String {
    let mut s = String::from(
        "| dataset | loss | nodes | edges | median epoch (s) | 200 epochs (s) | peak RSS (MB) |\n|---|---|---|---|---|---|---|\n",
    );
    for m in rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {:.4} | {:.1} | {} |\n",
            m.dataset,
            m.loss,
            m.nodes,
            m.edges,
            m.median_epoch_seconds,
            m.run_200_seconds,
            m.peak_rss_mb.map_or("–".into(), |v| format!("{v:.0}"))
        ));
    }
    s
}

/// The scaling benchmark's results.
#[derive(Debug, Clone)]
pub struct ScalingResult {
    /// The machine line.
    pub machine: String,
    /// The SBM graphs' average degree.
    pub degree: f64,
    /// Per size, the sampled loss then (if measured) the dense loss.
    pub rows: Vec<Measurement>,
}

impl ScalingResult {
    /// `scaling.md`: the machine, the graphs and the table.
    pub fn markdown(&self) -> String {
        format!(
            "Machine: {}. Featureless GAE on SBM graphs (average degree {}).\n\n{}",
            self.machine,
            self.degree,
            measurements_table(&self.rows)
        )
    }

    /// (log10 edges, log10 `f`) of the rows with this loss.
    pub(super) fn series(&self, loss: &str, f: fn(&Measurement) -> f64) -> Vec<(f64, f64)> {
        self.rows
            .iter()
            .filter(|m| m.loss == loss)
            .map(|m| ((m.edges as f64).log10(), f(m).log10()))
            .collect()
    }

    /// `scaling.png`: epoch time and peak memory against edges, log-log, both losses.
    pub fn plot(&self, path: &Path) -> Result<()> {
        let minibatch = self
            .rows
            .iter()
            .map(|m| m.loss.clone())
            .find(|l| l.starts_with("minibatch"));
        let both = |f: fn(&Measurement) -> f64| {
            let mut s = vec![
                ("sampled".into(), self.series("sampled", f)),
                ("dense".into(), self.series("dense", f)),
            ];
            if let Some(l) = &minibatch {
                s.push((l.clone(), self.series(l, f)));
            }
            s
        };
        charts(
            path,
            &[
                Panel {
                    title: "epoch time (GAE*, log-log)".into(),
                    x_label: "log10 edges".into(),
                    y_label: "log10 seconds / epoch".into(),
                    series: both(|m| m.median_epoch_seconds),
                    scatter: false,
                    ..Default::default()
                },
                Panel {
                    title: "peak memory (log-log)".into(),
                    x_label: "log10 edges".into(),
                    y_label: "log10 MB".into(),
                    series: both(|m| m.peak_rss_mb.unwrap_or(f64::NAN)),
                    scatter: false,
                    ..Default::default()
                },
            ],
            520,
            400,
        )
    }
}
