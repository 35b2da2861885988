//! The one epoch loop of every run, graph or VAE: `config.json`, `metrics.jsonl` (rewritten from the records,
//! so a resumed run's file holds exactly its epochs), periodic checkpoints with a `latest` pointer, and at the
//! end the final checkpoint `model.safetensors` and `result.json`.

use crate::rundir::{checkpoint_name, rotate, RunDir};
use crate::{Error, Result};
use serde::Serialize;
use std::io::Write;
use std::path::Path;

/// The final checkpoint of every run directory.
pub const FINAL: &str = "model.safetensors";
/// The final metrics of every run directory.
pub const RESULT: &str = "result.json";

/// A model under training, as [`run_epochs`] drives it.
pub trait EpochTrainer {
    /// One line of `metrics.jsonl`.
    type Record: Serialize;
    /// What a finished run returns and writes as `result.json`.
    type Output: Serialize;
    /// Epochs completed.
    fn epoch(&self) -> usize;
    /// Epochs to train up to.
    fn target_epochs(&self) -> usize;
    /// Periodic checkpoints: every N epochs (0: none), keeping the last K.
    fn checkpoint_every(&self) -> (usize, usize);
    /// The records of the epochs completed so far.
    fn records(&self) -> &[Self::Record];
    /// What `config.json` holds.
    fn config_json(&self) -> Result<serde_json::Value>;
    /// Files written once at the start beside `config.json` (e.g. the split).
    fn write_inputs(&self, _dir: &RunDir) -> Result<()> {
        Ok(())
    }
    /// Trains one epoch, evaluates it and appends its record to [`EpochTrainer::records`].
    fn train_epoch(&mut self) -> Result<()>;
    /// Writes the whole training state to `path`, atomically.
    fn save_checkpoint(&self, path: &Path) -> Result<()>;
    /// The final metrics, and the run's pictures when a directory is given.
    fn finish(&mut self, dir: Option<&RunDir>) -> Result<Self::Output>;
}

fn json_line(v: &impl Serialize) -> Result<String> {
    serde_json::to_string(v).map_err(|e| Error::msg(e.to_string()))
}

/// Trains `t` from its epoch up to its target, writing the run directory when one is given; `on_epoch` sees
/// every new record (for progress).
pub fn run_epochs<T: EpochTrainer>(
    t: &mut T,
    dir: Option<&RunDir>,
    mut on_epoch: impl FnMut(&T::Record),
) -> Result<T::Output> {
    let mut metrics = match dir {
        Some(d) => {
            d.write_json("config.json", &t.config_json()?)?;
            t.write_inputs(d)?;
            let p = d.join("metrics.jsonl");
            let mut f = std::fs::File::create(&p).map_err(|e| Error::io(&p, e))?;
            for r in t.records() {
                writeln!(f, "{}", json_line(r)?).map_err(|e| Error::io(&p, e))?;
            }
            Some((f, p))
        }
        None => None,
    };
    let (every, keep) = t.checkpoint_every();
    while t.epoch() < t.target_epochs() {
        t.train_epoch()?;
        let epoch = t.epoch();
        vgae_data::fault::on_epoch_end(epoch);
        let r = t
            .records()
            .last()
            .ok_or_else(|| Error::msg("an epoch ended without a record"))?;
        if let Some((f, p)) = metrics.as_mut() {
            writeln!(f, "{}", json_line(r)?).map_err(|e| Error::io(p.as_path(), e))?;
        }
        if let Some(d) = dir {
            if every > 0 && epoch.is_multiple_of(every) && epoch < t.target_epochs() {
                let ck = d.checkpoints();
                t.save_checkpoint(&ck.join(checkpoint_name(epoch)))?;
                rotate(&ck, epoch, keep)?;
            }
        }
        on_epoch(r);
    }
    let out = t.finish(dir)?;
    if let Some(d) = dir {
        t.save_checkpoint(&d.join(FINAL))?;
        d.write_json(RESULT, &out)?;
    }
    Ok(out)
}
