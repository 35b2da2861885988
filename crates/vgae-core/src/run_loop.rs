//! The one epoch loop of every run, graph or VAE: `config.json`, `metrics.jsonl` (rewritten from the records,
//! so a resumed run's file holds exactly its epochs), periodic checkpoints with a `latest` pointer, and at the
//! end the final checkpoint `model.safetensors` and `result.json`.

use crate::rundir::{checkpoint_name, rotate, RunDir};
use crate::{Error, Result};
use serde::Serialize;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

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
    /// Whether the run stops after this epoch, given this process's own stop request: a run over several
    /// ranks answers the same on every rank (any rank asked: all stop), so no rank is left waiting in a
    /// collective the others have left.
    fn agree_stop(&self, requested: bool) -> Result<bool> {
        Ok(requested)
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

/// Set by [`request_stop`]; read after every epoch.
fn stop() -> &'static Arc<AtomicBool> {
    static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    STOP.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// The flag [`run_epochs`] checks after every epoch: set it (from a signal handler, say) and every running
/// loop finishes its epoch, writes a checkpoint and returns [`Error::Interrupted`].
pub fn stop_flag() -> Arc<AtomicBool> {
    Arc::clone(stop())
}

/// Asks every running epoch loop to stop after its current epoch.
pub fn request_stop() {
    stop().store(true, Ordering::SeqCst);
}

/// Whether [`request_stop`] (or a signal through [`stop_flag`]) asked the loops to stop.
pub fn stop_requested() -> bool {
    stop().load(Ordering::SeqCst)
}

/// Trains `t` from its epoch up to its target, writing the run directory when one is given; `on_epoch` sees
/// every new record (for progress). After [`request_stop`], it stops at the end of the epoch with a checkpoint.
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
        if t.agree_stop(stop_requested())? && epoch < t.target_epochs() {
            let resume = match dir {
                Some(d) => {
                    let ck = d.checkpoints();
                    let name = checkpoint_name(epoch);
                    if !ck.join(&name).exists() {
                        t.save_checkpoint(&ck.join(&name))?;
                        rotate(&ck, epoch, keep.max(1))?;
                    }
                    format!(
                        "checkpoint {} written; continue with `vgae resume {}`",
                        ck.join(&name).display(),
                        d.path().display()
                    )
                }
                None => "no run directory, nothing was saved".to_string(),
            };
            return Err(Error::Interrupted { epoch, resume });
        }
    }
    let out = t.finish(dir)?;
    if let Some(d) = dir {
        t.save_checkpoint(&d.join(FINAL))?;
        d.write_json(RESULT, &out)?;
    }
    Ok(out)
}
