//! `vgae resume`, `vgae eval`, `vgae embed`: everything that starts from a checkpoint.

use crate::globals::Globals;
use crate::train_cmd::bar;
use clap::Args;
use std::path::PathBuf;
use vgae_core::graph::{resume, run};

#[derive(Args)]
pub struct ResumeArgs {
    /// A run directory (resumes from its latest checkpoint) or a checkpoint file.
    pub path: PathBuf,
    /// Train up to this many epochs in total (default: the run's configured epochs).
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct EvalArgs {
    /// A checkpoint file (or a run directory).
    pub checkpoint: PathBuf,
    /// Evaluate on this split instead of the run's own.
    #[arg(long)]
    pub split: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct EmbedArgs {
    /// A checkpoint file (or a run directory).
    pub checkpoint: PathBuf,
    /// Output file: .safetensors, .npy or .csv (one row per node, dataset order).
    #[arg(long)]
    pub out: PathBuf,
}

/// Final checkpoints of graph and VAE run directories.
const FINALS: &[&str] = &[run::FINAL, vgae_core::vae::run::LEGACY_FINAL];

/// The checkpoint's kind ("graph" or "vae") from its metadata.
pub fn kind(path: &std::path::Path) -> anyhow::Result<String> {
    let meta = vgae_core::checkpoint::load_metadata(path)?;
    Ok(vgae_core::run_state::kind_of(&meta)
        .unwrap_or_default()
        .to_string())
}

pub fn resume(a: ResumeArgs, g: &Globals) -> anyhow::Result<()> {
    let ck = vgae_core::rundir::find_checkpoint(&a.path, FINALS)?;
    if kind(&ck)? == "vae" {
        return crate::vae_cmd::resume(&ck, a.epochs, a.json, g);
    }
    let device = g.device()?;
    let mut t = resume::restore_from(&ck, &g.source(), None, &device)?;
    if let Some(e) = a.epochs {
        t.cfg.epochs = e;
    }
    let dir = run::run_dir_of(&ck);
    eprintln!(
        "resuming {} at epoch {} of {} from {}",
        t.cfg.label(),
        t.epoch,
        t.cfg.epochs,
        ck.display()
    );
    let pb = bar((t.cfg.epochs - t.epoch.min(t.cfg.epochs)) as u64, a.json);
    let res = run::run(&mut t, Some(&dir), |r| {
        pb.set_message(format!("loss {:.4} val AUC {:.4}", r.loss, r.val_auc));
        pb.inc(1);
    })?;
    pb.finish_and_clear();
    crate::train_cmd::report(&res, &t.split.dataset, &dir, a.json)
}

pub fn eval(a: EvalArgs, g: &Globals) -> anyhow::Result<()> {
    let ck = vgae_core::rundir::find_checkpoint(&a.checkpoint, FINALS)?;
    if kind(&ck)? == "vae" {
        anyhow::ensure!(
            a.split.is_none(),
            "--split applies to graph checkpoints; {} is a VAE checkpoint",
            ck.display()
        );
        return crate::vae_cmd::eval(&ck, a.json, g);
    }
    let device = g.device()?;
    let split = a
        .split
        .as_deref()
        .map(vgae_data::EdgeSplit::load)
        .transpose()?;
    let t = resume::restore_from(&ck, &g.source(), split, &device)?;
    let z = t.embed()?;
    let val = t.scores(&z, &t.split.val_pos, &t.split.val_neg)?;
    let test = t.scores(&z, &t.split.test_pos, &t.split.test_neg)?;
    if a.json {
        println!(
            "{}",
            serde_json::json!({"model": t.cfg.label(), "dataset": t.split.dataset, "epoch": t.epoch,
                "val_auc": val.auc, "val_ap": val.ap, "test_auc": test.auc, "test_ap": test.ap})
        );
    } else {
        println!(
            "{} on {} at epoch {}",
            t.cfg.label(),
            t.split.dataset,
            t.epoch
        );
        println!("  val  AUC {:.4} AP {:.4}", val.auc, val.ap);
        println!("  test AUC {:.4} AP {:.4}", test.auc, test.ap);
    }
    Ok(())
}

pub fn embed(a: EmbedArgs, g: &Globals) -> anyhow::Result<()> {
    let ck = vgae_core::rundir::find_checkpoint(&a.checkpoint, FINALS)?;
    let device = g.device()?;
    let t = resume::restore_from(&ck, &g.source(), None, &device)?;
    let z = t.embed()?;
    vgae_core::export::write_matrix(&a.out, "embedding", &z)?;
    let (n, d) = z.dims2()?;
    println!("wrote {n} x {d} embeddings (mu) to {}", a.out.display());
    Ok(())
}
