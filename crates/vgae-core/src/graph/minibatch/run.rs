//! A mini-batch run in its directory: `run.json` (settings, dataset, seed), `split.safetensors`,
//! `metrics.jsonl` (one line per epoch), `checkpoints/latest.safetensors` (after every epoch and every
//! `checkpoint_every` batches), `final.safetensors` and `result.json`. [`run`] with `resume` continues
//! from the latest checkpoint bit for bit.

use super::{MiniBatchConfig, MiniBatchResult, MiniBatchTrainer};
use crate::collective::Collective;
use crate::graph::trainer::EpochRecord;
use crate::rng::RunRng;
use crate::rundir::RunDir;
use crate::{Error, Result};
use vgae_data::EdgeSplit;

/// What a run directory records to rebuild its run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MiniBatchRun {
    /// The training settings.
    pub config: MiniBatchConfig,
    /// The graph: a dataset name, an edge-list path, or `sbm:<nodes>:<degree>`.
    pub dataset: String,
    /// The seed: stream 0 made the split (and the SBM graph), stream 1 drives training.
    pub seed: u64,
    /// Batches between mid-epoch checkpoints (0: only at epoch ends).
    pub checkpoint_every: usize,
}

/// The run record's file name.
pub const RUN_FILE: &str = "run.json";
/// The split's file name.
pub const SPLIT_FILE: &str = "split.safetensors";
/// The latest checkpoint, in `checkpoints/`.
pub const LATEST_FILE: &str = "latest.safetensors";
/// The checkpoint after the last epoch.
pub const FINAL_FILE: &str = "final.safetensors";

/// Trains `spec` on `split` (over `nodes` nodes) in `rd`, shared by the ranks of `comm`; with `resume`,
/// from `rd`'s latest checkpoint (every rank reads it). Rank 0 alone writes the run directory; `on_epoch`
/// sees each finished epoch.
pub fn run(
    nodes: usize,
    split: &EdgeSplit,
    spec: &MiniBatchRun,
    rd: &RunDir,
    resume: bool,
    comm: Box<dyn Collective>,
    on_epoch: &mut dyn FnMut(&EpochRecord),
) -> Result<MiniBatchResult> {
    let latest = rd.checkpoints().join(LATEST_FILE);
    let writer = comm.rank() == 0;
    let mut t = MiniBatchTrainer::new(
        nodes,
        split.clone(),
        spec.config.clone(),
        RunRng::stream(spec.seed, 1),
    )?
    .with_collective(comm);
    if resume {
        t.load(&latest)?;
    } else if writer {
        rd.write_json(RUN_FILE, spec)?;
        split.save(&rd.join(SPLIT_FILE))?;
    }
    if writer {
        write_metrics(rd, &t.records)?;
    }
    let every = spec.checkpoint_every;
    let mut since = 0usize;
    // After SIGINT / SIGTERM (`run_loop::request_stop`) on any rank: checkpoint after the current batch and
    // stop, all ranks together.
    let mut batch_done = |t: &MiniBatchTrainer| -> Result<bool> {
        since += 1;
        let mut flag = [f32::from(u8::from(crate::run_loop::stop_requested()))];
        t.collective().all_reduce_sum(&mut flag)?;
        let stop = flag[0] > 0.0;
        if stop || (every > 0 && since >= every) {
            since = 0;
            if writer {
                t.save(&latest)?;
            }
        }
        Ok(stop)
    };
    let mut epoch_done = |t: &MiniBatchTrainer, r: &EpochRecord| -> Result<()> {
        if writer {
            write_metrics(rd, &t.records)?;
            t.save(&latest)?;
        }
        on_epoch(r);
        Ok(())
    };
    if !t.train(&mut batch_done, &mut epoch_done)? {
        return Err(Error::Interrupted {
            epoch: t.epoch,
            resume: format!(
                "checkpoint after batch {} of epoch {} in {}; continue with `vgae minibatch --resume {}`",
                t.cursor,
                t.epoch + 1,
                latest.display(),
                rd.path().display()
            ),
        });
    }
    let result = t.result()?;
    if writer {
        t.save(&rd.join(FINAL_FILE))?;
        rd.write_json("result.json", &result)?;
    }
    // No rank returns before rank 0's files are written (a resume or a reader may follow at once).
    t.collective().barrier()?;
    Ok(result)
}

/// Reads `run.json` of a run directory.
pub fn read_run(rd: &RunDir) -> Result<MiniBatchRun> {
    let path = rd.join(RUN_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::msg(format!(
            "{}: not a mini-batch run record: {e}",
            path.display()
        ))
    })
}

/// `metrics.jsonl` rewritten from the records (so a resumed run never holds lines of epochs it redid).
fn write_metrics(rd: &RunDir, records: &[EpochRecord]) -> Result<()> {
    let mut text = String::new();
    for r in records {
        text += &serde_json::to_string(r).map_err(|e| Error::msg(e.to_string()))?;
        text.push('\n');
    }
    vgae_data::split::atomic_write(&rd.join("metrics.jsonl"), text.as_bytes())?;
    Ok(())
}
