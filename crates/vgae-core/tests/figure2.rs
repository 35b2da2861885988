//! `vgae vae figure2`'s driver on a small Frey Face case (from `VGAE_DATA_DIR`): a run stopped early and
//! continued gives the uninterrupted run's points, a point lost between checkpoint and log is redone, and
//! the settings of an output directory cannot be changed under it.

use candle_core::Device;
use vgae_core::experiments::figure2::{self, schedule, Figure2Config, Point};
use vgae_core::vae::{Algorithm, TrainConfig, VaeData};
use vgae_data::source::DataSource;

fn frey() -> VaeData {
    std::env::set_var("CANDLE_NUM_THREADS", "1");
    let d = std::env::var_os("VGAE_DATA_DIR").unwrap_or_else(|| {
        panic!(
            "VGAE_DATA_DIR is not set: this test needs the shared data directory (../shared/data)"
        )
    });
    let ds = vgae_data::images::load(&DataSource::new(Some(d.into())), "frey").unwrap();
    let tc = TrainConfig {
        dataset: "frey".into(),
        ..TrainConfig::default()
    };
    VaeData::new(&ds, &tc, &Device::Cpu).unwrap()
}

fn small(epochs: usize) -> Figure2Config {
    Figure2Config {
        latents: vec![2],
        hidden: 16,
        eval_images: 300,
        ..Figure2Config::paper("frey", epochs).unwrap()
    }
}

/// Points without their (timing) seconds.
fn strip(p: &[Point]) -> Vec<Point> {
    p.iter()
        .map(|p| Point {
            seconds: 0.0,
            ..p.clone()
        })
        .collect()
}

#[test]
fn schedule_is_log_spaced_and_ends_at_the_last_epoch() {
    assert_eq!(schedule(1), [1]);
    assert_eq!(schedule(20), [1, 2, 3, 5, 8, 12, 18, 20]);
}

#[test]
fn a_continued_run_gives_the_uninterrupted_points() {
    let data = frey();
    let dir = tempfile::tempdir().unwrap();
    let whole = figure2::run(&small(5), &data, &dir.path().join("whole"), |_| {}).unwrap();
    // Epochs 1, 2, 3, 5 for each algorithm, after a pilot per step size that did not diverge.
    assert_eq!(whole.iter().filter(|p| !p.pilot).count(), 2 * 4);
    assert!(whole.iter().filter(|p| p.pilot).count() <= 2 * 3);
    for a in [Algorithm::Aevb, Algorithm::WakeSleep] {
        let curve: Vec<&Point> = whole
            .iter()
            .filter(|p| p.algorithm == a && !p.pilot)
            .collect();
        assert_eq!(
            curve.iter().map(|p| p.epoch).collect::<Vec<_>>(),
            [1, 2, 3, 5]
        );
        assert!(curve
            .iter()
            .all(|p| p.train_bound.is_finite() && p.samples == (p.epoch * data.n_train) as u64));
        // The curve continues the pilot with the best training bound.
        let pilots: Vec<&Point> = whole
            .iter()
            .filter(|p| p.algorithm == a && p.pilot)
            .collect();
        let best = pilots
            .iter()
            .max_by(|x, y| x.train_bound.total_cmp(&y.train_bound))
            .unwrap();
        assert_eq!(curve[0].lr, best.lr);
        assert_eq!(curve[0].train_bound, best.train_bound);
    }
    let part = dir.path().join("part");
    figure2::run(&small(3), &data, &part, |_| {}).unwrap();
    // A point lost after its checkpoint was written (a kill between the two) is computed again.
    let log = part.join("points.jsonl");
    let text = std::fs::read_to_string(&log).unwrap();
    let kept: Vec<&str> = text.lines().take(text.lines().count() - 1).collect();
    std::fs::write(&log, kept.join("\n") + "\n").unwrap();
    let resumed = figure2::run(&small(5), &data, &part, |_| {}).unwrap();
    let key = |p: &Point| {
        (
            p.algorithm == Algorithm::WakeSleep,
            p.pilot,
            p.epoch,
            p.lr.to_bits(),
        )
    };
    let (mut a, mut b) = (strip(&whole), strip(&resumed));
    a.sort_by_key(key);
    b.sort_by_key(key);
    assert_eq!(a, b);
    assert!(
        part.join("figure2.png").is_file()
            && part.join("curves/wake-sleep-z2.safetensors").is_file()
    );
    // Other settings in the same directory are refused.
    let other = Figure2Config {
        hidden: 8,
        ..small(5)
    };
    let e = figure2::run(&other, &data, &part, |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("other settings"), "{e}");
}
