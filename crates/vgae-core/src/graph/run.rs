//! A training run's directory: `config.json`, `metrics.jsonl`, `curves.png`, `split.safetensors`,
//! `result.json`, periodic checkpoints in `checkpoints/` (with a `latest` pointer) and the final
//! checkpoint `model.safetensors`. A run killed at any point resumes from its latest checkpoint.

use super::model::LinkModel;
use super::train::GraphTrainer;
use super::trainer::{EpochRecord, GraphRunResult, LinkTrainer};
use crate::optim::Optimizer;
use crate::plot::{charts, Panel};
use crate::rundir::RunDir;
use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

pub use crate::rundir::{find_checkpoint as find_in, run_dir_of, CHECKPOINT_DIR, LATEST};
/// The final checkpoint of a graph run directory.
pub const FINAL: &str = "model.safetensors";

fn json_line(v: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::msg(e.to_string()))
}

impl<M: LinkModel, O: Optimizer> LinkTrainer<M, O> {
    /// Trains up to `fit.epochs` (continuing from `epoch`), writing the run directory if one is given;
    /// `on_epoch` sees every epoch's record (for progress).
    pub fn fit_with(
        &mut self,
        dir: Option<&RunDir>,
        mut on_epoch: impl FnMut(&EpochRecord),
    ) -> Result<GraphRunResult> {
        let mut metrics = match dir {
            Some(d) => {
                d.write_json("config.json", &self.run_config)?;
                self.split.save(&d.join("split.safetensors"))?;
                // Rewritten from the records, so a resumed run's file holds exactly its epochs.
                let p = d.join("metrics.jsonl");
                let mut f = std::fs::File::create(&p).map_err(|e| Error::io(&p, e))?;
                for r in &self.records {
                    writeln!(f, "{}", json_line(r)?).map_err(|e| Error::io(&p, e))?;
                }
                Some((f, p))
            }
            None => None,
        };
        while self.epoch < self.fit.epochs {
            let r = self.step()?;
            if let Some((f, p)) = metrics.as_mut() {
                writeln!(f, "{}", json_line(&r)?).map_err(|e| Error::io(p.as_path(), e))?;
            }
            if let Some(d) = dir {
                let every = self.fit.checkpoint_every;
                if every > 0 && self.epoch.is_multiple_of(every) && self.epoch < self.fit.epochs {
                    self.periodic_checkpoint(d)?;
                }
            }
            on_epoch(&r);
        }
        let result = self.result()?;
        if let Some(d) = dir {
            plot_curves(&d.join("curves.png"), &self.records, &self.fit.label)?;
            self.save_checkpoint(&d.join(FINAL))?;
            d.write_json("result.json", &result)?;
        }
        Ok(result)
    }

    /// [`LinkTrainer::fit_with`] without a progress callback.
    pub fn fit(&mut self, dir: Option<&RunDir>) -> Result<GraphRunResult> {
        self.fit_with(dir, |_| {})
    }

    /// Writes `epoch-NNNNNN.safetensors`, then points `latest` at it and drops the oldest beyond `keep_last`.
    fn periodic_checkpoint(&self, dir: &RunDir) -> Result<()> {
        let ck_dir = dir.checkpoints();
        self.save_checkpoint(&ck_dir.join(crate::rundir::checkpoint_name(self.epoch)))?;
        crate::rundir::rotate(&ck_dir, self.epoch, self.fit.keep_last)
    }
}

/// Trains the paper's model up to `trainer.cfg.epochs` (continuing from `trainer.epoch`), writing the run
/// directory if one is given.
pub fn run(
    trainer: &mut GraphTrainer,
    dir: Option<&Path>,
    on_epoch: impl FnMut(&EpochRecord),
) -> Result<GraphRunResult> {
    trainer.sync_config()?;
    let dir = dir.map(RunDir::create).transpose()?;
    trainer.inner.fit_with(dir.as_ref(), on_epoch)
}

/// The checkpoint to resume a graph run from (see [`crate::rundir::find_checkpoint`]).
pub fn find_checkpoint(path: &Path) -> Result<PathBuf> {
    find_in(path, &[FINAL])
}

/// Two panels: training loss, and validation AUC / AP per epoch.
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
