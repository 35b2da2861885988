//! A grid's results summarised over seeds: one group per dataset × model × hyperparameter set × task, every
//! metric as mean ± sample std, written as markdown (`tables.md`, one table per task) and CSV (`tables.csv`,
//! one row per group and metric).

use super::grid::GridTask;
use super::grid_run::CellResult;
use crate::graph::paper::mean_std;
use serde::{Deserialize, Serialize};

/// One group of cells that differ only in their seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    /// Dataset.
    pub dataset: String,
    /// Row label (GAE, VGAE*, SC, ...).
    pub model: String,
    /// Task.
    pub task: GridTask,
    /// Hyperparameters (`lr=0.01,hidden=64`), empty if the grid varies none.
    pub params: String,
    /// Seeds in the group.
    pub seeds: usize,
    /// (metric, mean, std) in the metrics' name order.
    pub metrics: Vec<(String, f64, f64)>,
}

/// Where a metric goes in a table: AUC / AP first, then clustering, probe and ranking metrics, Hits@K by K.
fn column_order(name: &str) -> (usize, usize) {
    const ORDER: [&str; 12] = [
        "auc",
        "ap",
        "best_val_auc",
        "best_val_ap",
        "acc",
        "nmi",
        "ari",
        "ami",
        "val_acc",
        "c",
        "hits@",
        "mrr",
    ];
    if let Some(k) = name.strip_prefix("hits@") {
        return (10, k.parse().unwrap_or(usize::MAX));
    }
    (
        ORDER.iter().position(|o| *o == name).unwrap_or(ORDER.len()),
        0,
    )
}

/// Groups `results` (in grid order; the group order is that of each group's first cell).
pub fn group(results: &[CellResult]) -> Vec<GroupRow> {
    let mut order: Vec<(String, String, GridTask, String)> = Vec::new();
    let mut members: Vec<Vec<&CellResult>> = Vec::new();
    for r in results {
        let k = (
            r.cell.dataset.clone(),
            r.label.clone(),
            r.cell.task,
            r.cell.params_label(),
        );
        match order.iter().position(|o| *o == k) {
            Some(i) => members[i].push(r),
            None => {
                order.push(k);
                members.push(vec![r]);
            }
        }
    }
    order
        .into_iter()
        .zip(members)
        .map(|((dataset, model, task, params), rs)| {
            let mut names: Vec<&String> = rs[0].metrics.keys().collect();
            names.sort_by_key(|n| (column_order(n), n.to_string()));
            let metrics = names
                .into_iter()
                .map(|name| {
                    let v: Vec<f64> = rs
                        .iter()
                        .filter_map(|r| r.metrics.get(name).copied())
                        .collect();
                    let (m, s) = mean_std(&v);
                    (name.clone(), m, s)
                })
                .collect();
            GroupRow {
                dataset,
                model,
                task,
                params,
                seeds: rs.len(),
                metrics,
            }
        })
        .collect()
}

/// A cell: % with one decimal (the probe's C as is), without `± 0` for a single seed.
fn fmt(name: &str, mean: f64, std: f64, seeds: usize) -> String {
    match (name == "c", seeds == 1) {
        (true, true) => format!("{mean:.3}"),
        (true, false) => format!("{mean:.3} ± {std:.3}"),
        (false, _) => super::table1::pct_of(mean, std, seeds),
    }
}

/// `tables.md`: a heading and a table per task, values in % (the probe's C as is).
pub fn markdown(name: &str, rows: &[GroupRow]) -> String {
    let mut s = format!("# Grid {name}: mean ± std over seeds (%)\n");
    let mut tasks: Vec<GridTask> = rows.iter().map(|r| r.task).collect();
    tasks.sort();
    tasks.dedup();
    for t in tasks {
        let rs: Vec<&GroupRow> = rows.iter().filter(|r| r.task == t).collect();
        let names: Vec<&str> = rs[0].metrics.iter().map(|m| m.0.as_str()).collect();
        s.push_str(&format!(
            "\n## {}\n\n| dataset | model | params | seeds | {} |\n|---|---|---|---|{}\n",
            t.name(),
            names.join(" | "),
            "---|".repeat(names.len())
        ));
        for r in rs {
            let cells: Vec<String> = names
                .iter()
                .map(|n| {
                    r.metrics
                        .iter()
                        .find(|m| m.0 == *n)
                        .map_or("–".into(), |m| fmt(n, m.1, m.2, r.seeds))
                })
                .collect();
            let params = if r.params.is_empty() {
                "–"
            } else {
                &r.params
            };
            s.push_str(&format!(
                "| {} | {} | {params} | {} | {} |\n",
                r.dataset,
                r.model,
                r.seeds,
                cells.join(" | ")
            ));
        }
    }
    s
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `tables.csv`: `dataset,model,task,params,seeds,metric,mean,std`, one line per group and metric (fractions).
pub fn csv(rows: &[GroupRow]) -> String {
    let mut s = String::from("dataset,model,task,params,seeds,metric,mean,std\n");
    for r in rows {
        for (name, mean, std) in &r.metrics {
            s.push_str(&format!(
                "{},{},{},{},{},{},{mean},{std}\n",
                csv_field(&r.dataset),
                csv_field(&r.model),
                r.task.name(),
                csv_field(&r.params),
                r.seeds,
                csv_field(name)
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_shows_no_spread_and_several_do() {
        let row = |seeds, params: &str| GroupRow {
            dataset: "cora".into(),
            model: "GAE".into(),
            task: GridTask::Classification,
            params: params.into(),
            seeds,
            metrics: vec![("acc".into(), 0.8123, 0.0), ("c".into(), 0.5, 0.0)],
        };
        let md = markdown("g", &[row(1, "lr=0.01"), row(3, "lr=0.02")]);
        assert!(
            md.contains("| cora | GAE | lr=0.01 | 1 | 81.2 | 0.500 |"),
            "{md}"
        );
        assert!(
            md.contains("| cora | GAE | lr=0.02 | 3 | 81.2 ± 0.0 | 0.500 ± 0.000 |"),
            "{md}"
        );
    }
}
