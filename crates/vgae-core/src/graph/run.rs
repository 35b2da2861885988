//! A graph run through the shared epoch loop ([`crate::run_loop`]): its directory holds `config.json`,
//! `metrics.jsonl`, `curves.png`, `split.safetensors`, `result.json`, periodic checkpoints in `checkpoints/`
//! (with a `latest` pointer) and the final checkpoint `model.safetensors`. A run killed at any point resumes
//! from its latest checkpoint.

use super::model::LinkModel;
use super::train::GraphTrainer;
use super::trainer::{EpochRecord, GraphRunResult, LinkTrainer};
use crate::optim::Optimizer;
use crate::plot::{charts, Panel};
use crate::run_loop::{run_epochs, EpochTrainer};
use crate::rundir::RunDir;
use crate::Result;
use std::path::{Path, PathBuf};

/// The final checkpoint of a run directory.
pub use crate::run_loop::FINAL;
pub use crate::rundir::{find_checkpoint as find_in, run_dir_of, CHECKPOINT_DIR, LATEST};

impl<M: LinkModel, O: Optimizer> EpochTrainer for LinkTrainer<M, O> {
    type Record = EpochRecord;
    type Output = GraphRunResult;
    fn epoch(&self) -> usize {
        self.epoch
    }
    fn target_epochs(&self) -> usize {
        self.fit.epochs
    }
    fn checkpoint_every(&self) -> (usize, usize) {
        (self.fit.checkpoint_every, self.fit.keep_last)
    }
    fn records(&self) -> &[EpochRecord] {
        &self.records
    }
    fn config_json(&self) -> Result<serde_json::Value> {
        Ok(self.run_config.clone())
    }
    fn write_inputs(&self, dir: &RunDir) -> Result<()> {
        Ok(self.split.save(&dir.join("split.safetensors"))?)
    }
    fn agree_stop(&self, requested: bool) -> Result<bool> {
        let Some(comm) = self.recon.collective() else {
            return Ok(requested);
        };
        let mut flag = [f32::from(u8::from(requested))];
        comm.all_reduce_sum(&mut flag)?;
        Ok(flag[0] > 0.0)
    }
    fn train_epoch(&mut self) -> Result<()> {
        self.step().map(|_| ())
    }
    fn save_checkpoint(&self, path: &Path) -> Result<()> {
        LinkTrainer::save_checkpoint(self, path)
    }
    fn finish(&mut self, dir: Option<&RunDir>) -> Result<GraphRunResult> {
        if let Some(d) = dir {
            plot_curves(&d.join("curves.png"), &self.records, &self.fit.label)?;
        }
        self.result()
    }
}

impl<M: LinkModel, O: Optimizer> LinkTrainer<M, O> {
    /// Trains up to `fit.epochs` (continuing from `epoch`), writing the run directory if one is given;
    /// `on_epoch` sees every epoch's record (for progress).
    pub fn fit_with(
        &mut self,
        dir: Option<&RunDir>,
        on_epoch: impl FnMut(&EpochRecord),
    ) -> Result<GraphRunResult> {
        run_epochs(self, dir, on_epoch)
    }

    /// [`LinkTrainer::fit_with`] without a progress callback.
    pub fn fit(&mut self, dir: Option<&RunDir>) -> Result<GraphRunResult> {
        self.fit_with(dir, |_| {})
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
                ..Default::default()
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
                ..Default::default()
            },
        ],
        560,
        400,
    )
}
