//! A training run's directory: `config.json`, `metrics.jsonl`, `curves.png`, `split.safetensors`,
//! `result.json`, periodic checkpoints in `checkpoints/` (with a `latest` pointer) and the final
//! checkpoint `model.safetensors`. A run killed at any point resumes from its latest checkpoint.

use super::train::{EpochRecord, GraphRunResult, GraphTrainer};
use crate::checkpoint;
use crate::plot::{charts, Panel};
use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const CHECKPOINT_DIR: &str = "checkpoints";
pub const LATEST: &str = "latest";
pub const FINAL: &str = "model.safetensors";

fn write_json(path: &Path, v: &impl serde::Serialize) -> Result<()> {
    let s = serde_json::to_string_pretty(v).map_err(|e| Error::msg(e.to_string()))?;
    vgae_data::split::atomic_write(path, (s + "\n").as_bytes())?;
    Ok(())
}

/// Removes temporary files a killed writer may have left (they are never read).
fn remove_stale_temps(dir: &Path) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
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
            remove_stale_temps(d);
            remove_stale_temps(&ck);
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

fn checkpoint_name(epoch: usize) -> String {
    format!("epoch-{epoch:06}.safetensors")
}

/// Writes `epoch-NNNNNN.safetensors`, then points `latest` at it, then drops checkpoints beyond `keep_last`.
fn periodic_checkpoint(trainer: &GraphTrainer, ck_dir: &Path) -> Result<()> {
    let name = checkpoint_name(trainer.epoch);
    super::resume::save_checkpoint(trainer, &ck_dir.join(&name))?;
    vgae_data::split::atomic_write(&ck_dir.join(LATEST), name.as_bytes())?;
    let (every, keep) = (trainer.cfg.checkpoint_every, trainer.cfg.keep_last.max(1));
    if trainer.epoch >= every * keep {
        // Only the one checkpoint that just fell out of the window: no directory scan.
        let old = trainer.epoch - every * keep;
        let _ = std::fs::remove_file(ck_dir.join(checkpoint_name(old)));
    }
    Ok(())
}

/// The checkpoint to resume from: a checkpoint file itself, or a run directory's latest periodic checkpoint,
/// or its final one.
pub fn find_checkpoint(path: &Path) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    let latest = path.join(CHECKPOINT_DIR).join(LATEST);
    let candidates = [
        std::fs::read_to_string(&latest)
            .ok()
            .map(|n| path.join(CHECKPOINT_DIR).join(n.trim())),
        Some(path.join(FINAL)),
    ];
    let newest = candidates
        .into_iter()
        .flatten()
        .filter(|p| p.is_file())
        .max_by_key(|p| {
            checkpoint::load_metadata(p)
                .ok()
                .and_then(|m| m.get("epoch").and_then(|e| e.parse::<usize>().ok()))
        });
    newest.ok_or_else(|| {
        Error::msg(format!(
            "{}: no checkpoint found (expected {} or {FINAL})",
            path.display(),
            latest.display()
        ))
    })
}

/// The run directory a checkpoint belongs to.
pub fn run_dir_of(checkpoint: &Path) -> PathBuf {
    let parent = checkpoint.parent().unwrap_or(Path::new("."));
    if parent.file_name().is_some_and(|n| n == CHECKPOINT_DIR) {
        parent.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        parent.to_path_buf()
    }
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
