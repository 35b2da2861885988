//! A training run's directory: `config.json`, `metrics.jsonl`, `curves.png`, `split.safetensors`,
//! `result.json` and the final checkpoint `model.safetensors`.

use super::train::{EpochRecord, GraphRunResult, GraphTrainer};
use crate::checkpoint;
use crate::plot::{charts, Panel};
use crate::{Error, Result};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

pub const CHECKPOINT_FORMAT: &str = "vgae-checkpoint/1";

fn write_json(path: &Path, v: &impl serde::Serialize) -> Result<()> {
    let s = serde_json::to_string_pretty(v).map_err(|e| Error::msg(e.to_string()))?;
    std::fs::write(path, s + "\n").map_err(|e| Error::io(path, e))
}

/// Trains `trainer` up to its configured epochs, writing the run directory if one is given.
pub fn run(
    trainer: &mut GraphTrainer,
    dir: Option<&Path>,
    mut on_epoch: impl FnMut(&EpochRecord),
) -> Result<GraphRunResult> {
    let mut metrics = match dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
            write_json(&d.join("config.json"), &trainer.cfg)?;
            trainer.split.save(&d.join("split.safetensors"))?;
            let p = d.join("metrics.jsonl");
            Some((std::fs::File::create(&p).map_err(|e| Error::io(&p, e))?, p))
        }
        None => None,
    };
    while trainer.epoch < trainer.cfg.epochs {
        let r = trainer.step()?;
        if let Some((f, p)) = metrics.as_mut() {
            let line = serde_json::to_string(&r).map_err(|e| Error::msg(e.to_string()))?;
            writeln!(f, "{line}").map_err(|e| Error::io(p.as_path(), e))?;
        }
        on_epoch(&r);
    }
    let result = trainer.result()?;
    if let Some(d) = dir {
        write_json(&d.join("result.json"), &result)?;
        plot_curves(
            &d.join("curves.png"),
            &trainer.records,
            &trainer.cfg.label(),
        )?;
        save_checkpoint(trainer, &d.join("model.safetensors"))?;
    }
    Ok(result)
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

/// Parameters, optimiser state (prefixed `optimizer.`) and the metadata needed to resume or evaluate.
pub fn save_checkpoint(trainer: &GraphTrainer, path: &Path) -> Result<()> {
    use crate::optim::Optimizer;
    let mut tensors: Vec<(String, candle_core::Tensor)> = trainer
        .model
        .encoder
        .params()
        .into_iter()
        .map(|(n, v)| (n, v.as_tensor().clone()))
        .collect();
    tensors.extend(
        trainer
            .optimizer
            .state()
            .into_iter()
            .map(|(n, t)| (format!("optimizer.{n}"), t)),
    );
    let meta: HashMap<String, String> = [
        (checkpoint::FORMAT_KEY, CHECKPOINT_FORMAT.to_string()),
        ("kind", "graph".into()),
        (
            "config",
            serde_json::to_string(&trainer.cfg).map_err(|e| Error::msg(e.to_string()))?,
        ),
        ("epoch", trainer.epoch.to_string()),
        ("optimizer_steps", trainer.optimizer.steps().to_string()),
        ("rng", trainer.rng.state()),
        ("dataset_fingerprint", trainer.split.fingerprint.clone()),
        ("split_hash", trainer.split.hash()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    checkpoint::save(path, &tensors, &meta)
}
