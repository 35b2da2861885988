//! A training run's directory: `config.json`, `metrics.jsonl`, `curves.png`, `split.safetensors`,
//! `result.json`, periodic checkpoints in `checkpoints/` (with a `latest` pointer) and the final
//! checkpoint `model.safetensors`. A run killed at any point resumes from its latest checkpoint.

use super::train::{EpochRecord, GraphRunResult, GraphTrainer};
use crate::plot::{charts, Panel};
use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

pub use crate::rundir::{find_checkpoint as find_in, run_dir_of, CHECKPOINT_DIR, LATEST};
pub const FINAL: &str = "model.safetensors";

fn write_json(path: &Path, v: &impl serde::Serialize) -> Result<()> {
    let s = serde_json::to_string_pretty(v).map_err(|e| Error::msg(e.to_string()))?;
    vgae_data::split::atomic_write(path, (s + "\n").as_bytes())?;
    Ok(())
}

/// Trains `trainer` up to its configured epochs (continuing from `trainer.epoch`), writing the run directory
/// if one is given.
pub fn run(
    trainer: &mut GraphTrainer,
    dir: Option<&Path>,
    mut on_epoch: impl FnMut(&EpochRecord),
) -> Result<GraphRunResult> {
    let mut metrics = match dir {
        Some(d) => {
            let ck = d.join(CHECKPOINT_DIR);
            std::fs::create_dir_all(&ck).map_err(|e| Error::io(&ck, e))?;
            crate::rundir::remove_stale_temps(d);
            crate::rundir::remove_stale_temps(&ck);
            write_json(&d.join("config.json"), &trainer.cfg)?;
            trainer.split.save(&d.join("split.safetensors"))?;
            // Rewritten from the records, so a resumed run's file holds exactly its epochs.
            let p = d.join("metrics.jsonl");
            let mut f = std::fs::File::create(&p).map_err(|e| Error::io(&p, e))?;
            for r in &trainer.records {
                writeln!(f, "{}", serde_json::to_string(r).unwrap())
                    .map_err(|e| Error::io(&p, e))?;
            }
            Some((f, p))
        }
        None => None,
    };
    while trainer.epoch < trainer.cfg.epochs {
        let r = trainer.step()?;
        if let Some((f, p)) = metrics.as_mut() {
            writeln!(f, "{}", serde_json::to_string(&r).unwrap())
                .map_err(|e| Error::io(p.as_path(), e))?;
        }
        if let Some(d) = dir {
            let every = trainer.cfg.checkpoint_every;
            if every > 0
                && trainer.epoch.is_multiple_of(every)
                && trainer.epoch < trainer.cfg.epochs
            {
                periodic_checkpoint(trainer, &d.join(CHECKPOINT_DIR))?;
            }
        }
        on_epoch(&r);
    }
    let result = trainer.result()?;
    if let Some(d) = dir {
        plot_curves(
            &d.join("curves.png"),
            &trainer.records,
            &trainer.cfg.label(),
        )?;
        super::resume::save_checkpoint(trainer, &d.join(FINAL))?;
        write_json(&d.join("result.json"), &result)?;
    }
    Ok(result)
}

/// Writes `epoch-NNNNNN.safetensors`, then points `latest` at it and drops the oldest beyond `keep_last`.
fn periodic_checkpoint(trainer: &GraphTrainer, ck_dir: &Path) -> Result<()> {
    let epoch = trainer.epoch;
    super::resume::save_checkpoint(trainer, &ck_dir.join(crate::rundir::checkpoint_name(epoch)))?;
    crate::rundir::rotate(ck_dir, epoch, trainer.cfg.keep_last)
}

/// The checkpoint to resume a graph run from (see [`crate::rundir::find_checkpoint`]).
pub fn find_checkpoint(path: &Path) -> Result<PathBuf> {
    find_in(path, &[FINAL])
}

pub fn plot_curves(path: &Path, records: &[EpochRecord], label: &str) -> Result<()> {
    let pts = |f: fn(&EpochRecord) -> f64| {
        records
            .iter()
            .map(|r| (r.epoch as f64, f(r)))
            .collect::<Vec<_>>()
    };
    charts(
        path,
        &[
            Panel {
                title: format!("{label}: training loss"),
                x_label: "epoch".into(),
                y_label: "loss".into(),
                series: vec![("loss".into(), pts(|r| r.loss))],
                scatter: false,
            },
            Panel {
                title: format!("{label}: validation"),
                x_label: "epoch".into(),
                y_label: "score".into(),
                series: vec![
                    ("val AUC".into(), pts(|r| r.val_auc)),
                    ("val AP".into(), pts(|r| r.val_ap)),
                ],
                scatter: false,
            },
        ],
        560,
        400,
    )
}
