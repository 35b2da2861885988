//! PNG output without system fonts: line charts, scatter plots and image grids.

use crate::{Error, Result};
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

/// One chart: a title, axis labels and named (x, y) series.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    /// Caption above the chart.
    pub title: String,
    /// Description of the x axis (e.g. `epoch`).
    pub x_label: String,
    /// Description of the y axis (e.g. `−ELBO (nats)`).
    pub y_label: String,
    /// (legend name, points) per series, drawn in order with successive palette colours; non-finite points
    /// are skipped, and the axes fit the finite ones.
    pub series: Vec<(String, Vec<(f64, f64)>)>,
    /// Draw points instead of lines; a series' name picks its colour.
    pub scatter: bool,
    /// A logarithmic x axis (x values must be positive; others are skipped).
    pub log_x: bool,
    /// Fixed y limits instead of fitting the points (points outside are not drawn).
    pub y_range: Option<(f64, f64)>,
}

pub(crate) fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bundled DejaVu face is valid, so registration cannot fail.
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
    });
}

pub(crate) fn perr(e: impl std::fmt::Display) -> Error {
    Error::msg(format!("plotting failed: {e}"))
}

/// A point as drawn: x on a log10 scale for a log axis; `None` when it cannot be drawn.
fn drawn(panel: &Panel, (x, y): (f64, f64)) -> Option<(f64, f64)> {
    let x = if panel.log_x { x.log10() } else { x };
    let inside = panel.y_range.is_none_or(|(a, b)| (a..=b).contains(&y));
    (x.is_finite() && y.is_finite() && inside).then_some((x, y))
}

fn bounds(panel: &Panel) -> (f64, f64, f64, f64) {
    let (x0, x1, y0, y1) = fitted(panel);
    match panel.y_range {
        Some((a, b)) => (x0, x1, a, b),
        None => (x0, x1, y0, y1),
    }
}

fn fitted(panel: &Panel) -> (f64, f64, f64, f64) {
    let pts: Vec<(f64, f64)> = panel
        .series
        .iter()
        .flat_map(|(_, s)| s.iter())
        .filter_map(|&p| drawn(panel, p))
        .collect();
    let pts = pts.iter();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if x0 > x1 {
        return (0.0, 1.0, 0.0, 1.0);
    }
    let pad = |a: f64, b: f64| {
        if b - a < 1e-12 {
            (a - 0.5, b + 0.5)
        } else {
            (a - 0.03 * (b - a), b + 0.03 * (b - a))
        }
    };
    let (x0, mut x1) = pad(x0, x1);
    let (y0, y1) = pad(y0, y1);
    if panel.scatter && panel.series.len() > 1 {
        // An empty strip on the right for the legend, so it covers no point.
        x1 += 0.2 * (x1 - x0);
    }
    (x0, x1, y0, y1)
}

/// A tick label: whole numbers without a fraction (`20`, not `20.0`), others with at most 3 decimals.
pub fn tick_label(v: f64) -> String {
    if (v - v.round()).abs() <= 1e-9 * v.abs().max(1.0) {
        format!("{}", v.round() as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A log-axis tick at log10 value `v`: `10^v` with one significant digit (`1e5`, `3e5`).
pub fn pow10_label(v: f64) -> String {
    let e = v.floor();
    let m = 10f64.powf(v - e).round();
    let (m, e) = if m >= 10.0 { (1.0, e + 1.0) } else { (m, e) };
    format!("{m}e{e}")
}

/// Draws the panels side by side into one PNG of `width` × `height` pixels per panel.
pub fn charts(path: &Path, panels: &[Panel], width: u32, height: u32) -> Result<()> {
    fonts();
    let (w, h) = (width * panels.len().max(1) as u32, height);
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(perr)?;
        let areas = root.split_evenly((1, panels.len().max(1)));
        for (panel, area) in panels.iter().zip(areas) {
            let (x0, x1, y0, y1) = bounds(panel);
            let mut chart = ChartBuilder::on(&area)
                .caption(&panel.title, ("sans-serif", 20))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(perr)?;
            chart
                .configure_mesh()
                .x_desc(&panel.x_label)
                .y_desc(&panel.y_label)
                .label_style(("sans-serif", 13))
                .x_label_formatter(&|v| match panel.log_x {
                    true => pow10_label(*v),
                    false => tick_label(*v),
                })
                .y_label_formatter(&|v| tick_label(*v))
                .draw()
                .map_err(perr)?;
            for (i, (name, pts)) in panel.series.iter().enumerate() {
                let color = Palette99::pick(i).to_rgba();
                let pts = pts.iter().filter_map(|&p| drawn(panel, p));
                // A line through one point draws nothing (a one-epoch run): mark it instead.
                let lonely = pts.clone().nth(1).is_none();
                let drawn = if lonely && !panel.scatter {
                    chart
                        .draw_series(pts.map(|p| Circle::new(p, 4, color.filled())))
                        .map_err(perr)?
                } else if panel.scatter {
                    chart
                        .draw_series(pts.map(|p| Circle::new(p, 2, color.filled())))
                        .map_err(perr)?
                } else {
                    chart
                        .draw_series(LineSeries::new(pts, color.stroke_width(2)))
                        .map_err(perr)?
                };
                drawn.label(name.as_str()).legend(move |(x, y)| {
                    Rectangle::new([(x, y - 4), (x + 14, y + 4)], color.filled())
                });
            }
            if panel.series.len() > 1 || !panel.scatter {
                chart
                    .configure_series_labels()
                    // Curves against a log axis rise to the right: keep their ends clear.
                    .position(match panel.log_x {
                        true => SeriesLabelPosition::LowerRight,
                        false => SeriesLabelPosition::UpperRight,
                    })
                    .background_style(WHITE.mix(0.85))
                    .border_style(BLACK)
                    .label_font(("sans-serif", 13))
                    .draw()
                    .map_err(perr)?;
            }
        }
        root.present().map_err(perr)?;
    }
    save_rgb(path, w, h, buf)
}

pub(crate) fn save_rgb(path: &Path, w: u32, h: u32, buf: Vec<u8>) -> Result<()> {
    let img = image::RgbImage::from_raw(w, h, buf)
        .ok_or_else(|| Error::msg("image buffer size mismatch"))?;
    img.save(path)
        .map_err(|e| Error::msg(format!("{}: cannot write PNG: {e}", path.display())))
}

/// Saves grayscale images (values in [0, 1], row-major `h × w` each) as a grid with `cols` columns,
/// each image scaled up by `scale`.
pub fn image_grid(
    path: &Path,
    images: &[Vec<f32>],
    h: usize,
    w: usize,
    cols: usize,
    scale: usize,
) -> Result<()> {
    let cols = cols.max(1);
    let rows = images.len().div_ceil(cols).max(1);
    let pad = 2;
    let (cw, ch) = (w * scale + pad, h * scale + pad);
    let (gw, gh) = (cols * cw + pad, rows * ch + pad);
    let mut img = image::GrayImage::from_pixel(gw as u32, gh as u32, image::Luma([128]));
    for (k, im) in images.iter().enumerate() {
        if im.len() != h * w {
            return Err(Error::msg(format!(
                "image {k} has {} pixels, expected {}",
                im.len(),
                h * w
            )));
        }
        let (ox, oy) = (pad + (k % cols) * cw, pad + (k / cols) * ch);
        for y in 0..h * scale {
            for x in 0..w * scale {
                let v = im[(y / scale) * w + x / scale].clamp(0.0, 1.0);
                img.put_pixel(
                    (ox + x) as u32,
                    (oy + y) as u32,
                    image::Luma([(v * 255.0).round() as u8]),
                );
            }
        }
    }
    img.save(path)
        .map_err(|e| Error::msg(format!("{}: cannot write PNG: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_labels_drop_the_fraction_of_whole_numbers() {
        assert_eq!(tick_label(20.0), "20");
        assert_eq!(tick_label(-3.0), "-3");
        assert_eq!(tick_label(0.25), "0.25");
        assert_eq!(tick_label(0.1 + 0.2), "0.3");
        assert_eq!(tick_label(1e6), "1000000");
    }

    #[test]
    fn a_one_point_line_series_is_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.png");
        let panel = Panel {
            title: "one epoch".into(),
            x_label: "epoch".into(),
            y_label: "loss".into(),
            series: vec![("train".into(), vec![(1.0, 100.0)])],
            scatter: false,
            ..Default::default()
        };
        charts(&path, &[panel], 400, 300).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        let c = Palette99::pick(0).to_rgba();
        let (r, g, b) = (c.0, c.1, c.2);
        let hits = img.pixels().filter(|p| p.0 == [r, g, b]).count();
        // A filled circle of radius 4 is ~50 pixels; the empty chart has none of the series colour.
        assert!(hits >= 20, "{hits} pixels of the series colour");
    }

    #[test]
    fn a_scatter_legend_gets_a_strip_of_its_own() {
        let pts: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, i as f64)).collect();
        let mut panel = Panel {
            title: String::new(),
            x_label: String::new(),
            y_label: String::new(),
            series: vec![("a".into(), pts.clone()), ("b".into(), pts)],
            scatter: true,
            ..Default::default()
        };
        let (x0, x1, _, _) = bounds(&panel);
        // Padded range [−0.27, 9.27] plus a fifth of it on the right.
        assert!(
            (x0 + 0.27).abs() < 1e-9 && (x1 - (9.27 + 0.2 * 9.54)).abs() < 1e-9,
            "{x0} {x1}"
        );
        panel.scatter = false;
        assert!((bounds(&panel).1 - 9.27).abs() < 1e-9);
    }
}
