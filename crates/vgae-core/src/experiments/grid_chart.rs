//! `chart.png`: a grid's groups as bars with ± one standard deviation, one panel per task, one bar per
//! headline metric of the task (link: AUC, AP; clustering: ACC, NMI, ARI; classification: accuracy;
//! ranking: MRR and the largest Hits@K).

use super::grid::GridTask;
use super::grid_tables::GroupRow;
use crate::plot::{fonts, perr, save_rgb, tick_label};
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

/// Pixels per panel.
const PANEL: (u32, u32) = (900, 480);

/// The metrics a task's panel shows, among those its groups have (in `GroupRow` order).
pub fn headline(task: GridTask, names: &[&str]) -> Vec<String> {
    let wanted: Vec<String> = match task {
        GridTask::Link => vec!["auc".into(), "ap".into()],
        GridTask::Clustering => vec!["acc".into(), "nmi".into(), "ari".into()],
        GridTask::Classification => vec!["acc".into()],
        GridTask::Ranking => {
            let best_hits = names
                .iter()
                .filter_map(|n| n.strip_prefix("hits@")?.parse::<usize>().ok())
                .max();
            let mut v = vec!["mrr".to_string()];
            v.extend(best_hits.map(|k| format!("hits@{k}")));
            v
        }
    };
    wanted
        .into_iter()
        .filter(|w| names.contains(&w.as_str()))
        .collect()
}

/// The bars of one task: (group label, per metric (mean, std)).
type Bars = Vec<(String, Vec<(f64, f64)>)>;

fn bars(rows: &[&GroupRow], metrics: &[String]) -> Bars {
    rows.iter()
        .map(|r| {
            let mut label = format!("{} {}", r.dataset, r.model);
            if !r.params.is_empty() {
                label = format!("{label} {}", r.params);
            }
            let vals = metrics
                .iter()
                .map(|m| {
                    r.metrics
                        .iter()
                        .find(|x| &x.0 == m)
                        .map_or((f64::NAN, 0.0), |x| (x.1, x.2))
                })
                .collect();
            (label, vals)
        })
        .collect()
}

/// Draws `rows` into `path` (one panel per task, stacked). An empty grid is an error.
pub fn chart_png(path: &Path, name: &str, rows: &[GroupRow]) -> Result<()> {
    let mut tasks: Vec<GridTask> = rows.iter().map(|r| r.task).collect();
    tasks.sort();
    tasks.dedup();
    if tasks.is_empty() {
        return Err(Error::msg(format!("grid {name}: no results to chart")));
    }
    fonts();
    let (w, h) = (PANEL.0, PANEL.1 * tasks.len() as u32);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(perr)?;
        for (task, area) in tasks.iter().zip(root.split_evenly((tasks.len(), 1))) {
            let rs: Vec<&GroupRow> = rows.iter().filter(|r| r.task == *task).collect();
            let names: Vec<&str> = rs[0].metrics.iter().map(|m| m.0.as_str()).collect();
            let metrics = headline(*task, &names);
            panel(
                &area,
                &format!("{name}: {}", task.name()),
                &bars(&rs, &metrics),
                &metrics,
            )?;
        }
        root.present().map_err(perr)?;
    }
    save_rgb(path, w, h, buf)
}

fn panel(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    title: &str,
    bars: &Bars,
    metrics: &[String],
) -> Result<()> {
    let groups = bars.len();
    let per = metrics.len().max(1);
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        // Head room above 1 for the legend.
        .build_cartesian_2d(-0.5..groups as f64 - 0.5, 0.0..1.3f64)
        .map_err(perr)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(groups)
        .x_label_formatter(&|x| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                labels.get(i as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .y_label_formatter(&|v| tick_label(*v))
        .y_desc("mean ± std")
        .label_style(("sans-serif", 12))
        .draw()
        .map_err(perr)?;
    // Bars of a group share 80 % of its unit width.
    let width = 0.8 / per as f64;
    for (m, metric) in metrics.iter().enumerate() {
        let color = Palette99::pick(m).to_rgba();
        let x = |g: usize| g as f64 - 0.4 + width * m as f64;
        let finite = |g: &usize| bars[*g].1[m].0.is_finite();
        chart
            .draw_series((0..groups).filter(finite).map(|g| {
                let v = bars[g].1[m].0;
                Rectangle::new([(x(g), 0.0), (x(g) + width, v)], color.filled())
            }))
            .map_err(perr)?
            .label(metric.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 4), (x + 14, y + 4)], color.filled()));
        chart
            .draw_series((0..groups).filter(finite).map(|g| {
                let (v, s) = bars[g].1[m];
                ErrorBar::new_vertical(x(g) + width / 2.0, v - s, v, v + s, BLACK.filled(), 6)
            }))
            .map_err(perr)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 12))
        .draw()
        .map_err(perr)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(task: GridTask, model: &str, metrics: &[(&str, f64, f64)]) -> GroupRow {
        GroupRow {
            dataset: "cora".into(),
            model: model.into(),
            task,
            params: String::new(),
            seeds: 3,
            metrics: metrics
                .iter()
                .map(|&(n, m, s)| (n.to_string(), m, s))
                .collect(),
        }
    }

    #[test]
    fn each_task_shows_its_headline_metrics() {
        let names = ["auc", "ap", "best_val_auc", "hits@10", "hits@100", "mrr"];
        assert_eq!(headline(GridTask::Link, &names), ["auc", "ap"]);
        assert_eq!(headline(GridTask::Ranking, &names), ["mrr", "hits@100"]);
        assert_eq!(
            headline(GridTask::Clustering, &["acc", "nmi", "ari", "ami"]),
            ["acc", "nmi", "ari"]
        );
        assert!(headline(GridTask::Classification, &["c"]).is_empty());
    }

    #[test]
    fn the_chart_has_a_panel_per_task_and_bars_of_the_means() {
        let rows = vec![
            row(
                GridTask::Link,
                "GAE",
                &[("auc", 0.9, 0.01), ("ap", 0.92, 0.02)],
            ),
            row(
                GridTask::Link,
                "VGAE",
                &[("auc", 0.91, 0.01), ("ap", 0.93, 0.0)],
            ),
            row(
                GridTask::Clustering,
                "GAE",
                &[("acc", 0.6, 0.05), ("nmi", 0.45, 0.02)],
            ),
        ];
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("chart.png");
        chart_png(&p, "t", &rows).unwrap();
        let img = image::open(&p).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (PANEL.0, 2 * PANEL.1));
        // The first metric's colour fills bars in both panels (AUC above, ACC below).
        let c = Palette99::pick(0).to_rgba();
        let count = |y0: u32, y1: u32| {
            (y0..y1)
                .flat_map(|y| (0..img.width()).map(move |x| (x, y)))
                .filter(|&(x, y)| img.get_pixel(x, y).0 == [c.0, c.1, c.2])
                .count()
        };
        let (top, bottom) = (count(0, PANEL.1), count(PANEL.1, 2 * PANEL.1));
        assert!(top > 5000 && bottom > 2000, "{top} {bottom}");
        assert!(chart_png(&p, "t", &[]).is_err());
    }
}
