//! `vgae resume`, `vgae eval`, `vgae embed`, `vgae score`: everything that starts from a checkpoint.

pub mod score;

use crate::globals::Globals;
use crate::train_cmd::progress;
use clap::Args;
use std::path::{Path, PathBuf};
use vgae_core::graph::{resume, run, GraphTrainer};

/// `--dataset`: where the run's graph is now.
#[derive(Args, Clone, Debug, Default)]
pub struct DatasetArg {
    /// The graph the checkpoint was trained on, if not where it was (a name or an edge-list path; by
    /// default the absolute path or name the checkpoint records). Refused unless its fingerprint matches.
    #[arg(long)]
    pub dataset: Option<String>,
}

/// Restores a graph checkpoint on its dataset (or `--dataset`), naming the flag in errors.
pub fn restore(
    ck: &Path,
    d: &DatasetArg,
    split: Option<vgae_data::EdgeSplit>,
    g: &Globals,
) -> anyhow::Result<GraphTrainer> {
    restore_on(ck, d, split, g, &g.device()?)
}

/// [`restore`] onto a given device.
pub fn restore_on(
    ck: &Path,
    d: &DatasetArg,
    split: Option<vgae_data::EdgeSplit>,
    g: &Globals,
    device: &candle_core::Device,
) -> anyhow::Result<GraphTrainer> {
    let t = resume::restore_from_dataset(ck, &g.source(), d.dataset.as_deref(), split, device);
    match (&d.dataset, t) {
        (Some(ds), Err(e)) => Err(anyhow::anyhow!("--dataset {ds}: {e}")),
        (_, t) => Ok(t?),
    }
}

#[derive(Args)]
pub struct ResumeArgs {
    /// A run directory (resumes from its latest checkpoint) or a checkpoint file.
    pub path: PathBuf,
    /// Train up to this many epochs in total (default: the run's configured epochs).
    #[arg(long, value_parser = crate::train_cmd::args::epochs, allow_negative_numbers = true)]
    pub epochs: Option<usize>,
    #[command(flatten)]
    pub dataset: DatasetArg,
    /// Without a terminal, print a progress line every N epochs (0: about ten lines per run).
    #[arg(long, default_value_t = 0)]
    pub log_every: usize,
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
    #[command(flatten)]
    pub dataset: DatasetArg,
    /// Only check the file: its structure and every tensor's sha256 (no dataset, no model).
    #[arg(long, conflicts_with_all = ["split", "dataset"])]
    pub verify_only: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct EmbedArgs {
    /// A checkpoint file (or a run directory).
    pub checkpoint: PathBuf,
    /// Output file: .safetensors, .npy or .csv (one row per node, dataset order). For a graph with node ids
    /// (edge lists) the CSV starts each row with the id, a .npy gets a sidecar <name>.ids.txt and a
    /// .safetensors the ids in its metadata.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub dataset: DatasetArg,
}

/// Final checkpoints of graph and VAE run directories.
pub(crate) const FINALS: &[&str] = &[run::FINAL, vgae_core::vae::run::LEGACY_FINAL];

/// The checkpoint's kind ("graph" or "vae") from its metadata.
pub fn kind(path: &std::path::Path) -> anyhow::Result<String> {
    let meta = vgae_core::checkpoint::load_metadata(path)?;
    Ok(vgae_core::run_state::kind_of(&meta)
        .unwrap_or_default()
        .to_string())
}

pub fn resume(a: ResumeArgs, g: &Globals) -> anyhow::Result<()> {
    let ck = vgae_core::rundir::find_checkpoint(&crate::hub_cmd::resumable(&a.path)?, FINALS)?;
    if kind(&ck)? == "vae" {
        anyhow::ensure!(
            a.dataset.dataset.is_none(),
            "--dataset applies to graph checkpoints; {} is a VAE checkpoint",
            ck.display()
        );
        return crate::vae_cmd::resume(&ck, a.epochs, a.json, g);
    }
    // Under `mpirun -np N` every rank reads the checkpoint and takes the same steps; rank 0 writes.
    let (comm, device) = crate::ranks::ranks_and_device(g)?;
    let lead = comm.rank() == 0;
    let t = restore_on(&ck, &a.dataset, None, g, &device)?;
    let mut t = crate::ranks::join_ranks(t, comm)?;
    if let Some(e) = a.epochs {
        t.cfg.epochs = e;
    }
    if let Some(ds) = a
        .dataset
        .dataset
        .as_deref()
        .filter(|d| Path::new(d).is_file())
    {
        t.cfg.dataset_path = Some(std::path::absolute(ds)?);
    }
    let dir = run::run_dir_of(&ck);
    if !g.quiet && lead {
        eprintln!(
            "resuming {} at epoch {} of {} from {}",
            t.cfg.label(),
            t.epoch,
            t.cfg.epochs,
            ck.display()
        );
    }
    let mode = progress::mode(g.quiet || a.json || !lead, t.cfg.epochs, a.log_every);
    let prefix = format!("{} {}", t.split.dataset, t.cfg.label());
    let mut pb = progress::Progress::new(mode, prefix, t.epoch.min(t.cfg.epochs), t.cfg.epochs);
    let res = t.run(lead.then_some(dir.as_path()), |r| pb.epoch(r));
    pb.finish();
    if !lead {
        return crate::ranks::follower_end(res);
    }
    crate::train_cmd::report(&res?, &t.split.dataset, &dir, a.json)
}

pub fn eval(a: EvalArgs, g: &Globals) -> anyhow::Result<()> {
    let ck = vgae_core::rundir::find_checkpoint(&crate::hub_cmd::resolve(&a.checkpoint)?, FINALS)?;
    if a.verify_only {
        let v = vgae_core::checkpoint::verify(&ck)?;
        if a.json {
            println!(
                "{}",
                serde_json::json!({"checkpoint": ck, "tensors": v.tensors, "bytes": v.bytes,
                    "digests": v.digests})
            );
        } else if v.digests {
            println!(
                "{}: ok, {} tensors ({} bytes), every sha256 matches",
                ck.display(),
                v.tensors,
                v.bytes
            );
        } else {
            println!(
                "{}: readable, {} tensors ({} bytes); written before checkpoints recorded digests, so \
                 the tensor bytes cannot be checked",
                ck.display(),
                v.tensors,
                v.bytes
            );
        }
        return Ok(());
    }
    if kind(&ck)? == "vae" {
        anyhow::ensure!(
            a.split.is_none() && a.dataset.dataset.is_none(),
            "--split / --dataset apply to graph checkpoints; {} is a VAE checkpoint",
            ck.display()
        );
        return crate::vae_cmd::eval(&ck, a.json, g);
    }
    let split = a
        .split
        .as_deref()
        .map(vgae_data::EdgeSplit::load)
        .transpose()?;
    let t = restore(&ck, &a.dataset, split, g)?;
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
    let ck = vgae_core::rundir::find_checkpoint(&crate::hub_cmd::resolve(&a.checkpoint)?, FINALS)?;
    let t = restore(&ck, &a.dataset, None, g)?;
    let z = t.embed()?;
    let ids = t.node_ids.as_deref();
    vgae_core::export::write_matrix_with_ids(&a.out, "embedding", &z, ids)?;
    let (n, d) = z.dims2()?;
    println!("wrote {n} x {d} embeddings (mu) to {}", a.out.display());
    let is_npy = a
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    if ids.is_some() && is_npy {
        let side = vgae_core::export::ids_sidecar(&a.out);
        println!("wrote the node ids of its rows to {}", side.display());
    }
    Ok(())
}
