//! `vgae hub push` and `vgae data publish`: sharing trained models and the Planetoid files on the Hugging
//! Face hub; and `hf://OWNER/NAME[@REVISION]` wherever a checkpoint path is accepted.

use crate::globals::Globals;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum HubCommand {
    /// Upload a run (or checkpoint) as a model repository: the checkpoint, config.json, result.json, the split
    /// and a generated model card, in one commit. Needs HF_TOKEN with write access.
    Push(PushArgs),
}

#[derive(Args)]
pub struct PushArgs {
    /// A run directory (its final checkpoint) or a checkpoint file.
    pub run: PathBuf,
    /// The model repository, OWNER/NAME (created if it does not exist).
    #[arg(long)]
    pub repo: String,
    /// Create the repository private (an existing one keeps its visibility).
    #[arg(long)]
    pub private: bool,
}

#[derive(Args)]
pub struct PublishArgs {
    /// What to publish: planetoid (the verified Planetoid files, under data/).
    pub what: String,
    /// The dataset repository, OWNER/NAME (created if it does not exist).
    #[arg(long)]
    pub repo: String,
    /// Datasets to include, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "cora,citeseer,pubmed")]
    pub datasets: Vec<String>,
    /// Create the repository private.
    #[arg(long)]
    pub private: bool,
}

pub fn run(c: HubCommand, g: &Globals) -> anyhow::Result<()> {
    match c {
        HubCommand::Push(a) => push(a, g),
    }
}

#[cfg(feature = "hub")]
fn push(a: PushArgs, g: &Globals) -> anyhow::Result<()> {
    use vgae_data::hub_push::{self, RepoKind, Upload};
    hub_push::check_repo(&a.repo)?;
    let packed = vgae_core::model_card::collect(&a.run, &g.source(), &a.repo)?;
    let names: Vec<&str> = packed.files.iter().map(|(p, _)| p.as_str()).collect();
    let message = format!("vgae hub push: {}", packed.summary);
    let files = packed
        .files
        .iter()
        .map(|(path, bytes)| Upload {
            path: path.clone(),
            bytes: bytes.clone(),
        })
        .collect();
    let commit = hub_push::push(&a.repo, RepoKind::Model, files, a.private, &message)?;
    println!(
        "pushed {} to {} ({}), commit {commit}",
        packed.summary,
        a.repo,
        names.join(", ")
    );
    println!("load it with: vgae eval hf://{}", a.repo);
    Ok(())
}

#[cfg(feature = "hub")]
pub fn publish(a: PublishArgs, g: &Globals) -> anyhow::Result<()> {
    use vgae_data::hub_push::{self, RepoKind};
    anyhow::ensure!(
        a.what == "planetoid",
        "unknown collection '{}': expected planetoid",
        a.what
    );
    hub_push::check_repo(&a.repo)?;
    let mut files = Vec::new();
    for d in &a.datasets {
        let d = d.to_ascii_lowercase();
        let dir = g.source().planetoid_dir(&d).ok_or_else(|| {
            anyhow::anyhow!(
                "{d}: its Planetoid files are not found (set --data-dir or VGAE_DATA_DIR)"
            )
        })?;
        files.extend(vgae_data::hub_push::planetoid_uploads(
            &dir,
            std::slice::from_ref(&d),
        )?);
    }
    let n = files.len();
    let message = format!("vgae data publish planetoid: {}", a.datasets.join(", "));
    let commit = hub_push::push(&a.repo, RepoKind::Dataset, files, a.private, &message)?;
    println!(
        "published {n} verified files of {} to {}, commit {commit}",
        a.datasets.join(", "),
        a.repo
    );
    println!("pull them with: vgae data pull <name> --repo {}", a.repo);
    Ok(())
}

/// A checkpoint argument: `hf://OWNER/NAME[@REV]` is downloaded and verified (its local path returned),
/// anything else is returned as it is.
#[cfg(feature = "hub")]
pub fn resolve(p: &Path) -> anyhow::Result<PathBuf> {
    match vgae_data::hub_model::ModelRef::of_path(p) {
        Some(r) => Ok(vgae_data::hub_model::fetch(&r?)?),
        None => Ok(p.to_path_buf()),
    }
}

/// For `vgae resume hf://...`: the downloaded run copied into `runs/hub/OWNER--NAME`, which the resumed run
/// then writes (the hub cache is not a place to train in). Anything else is returned as it is.
#[cfg(feature = "hub")]
pub fn resumable(p: &Path) -> anyhow::Result<PathBuf> {
    let Some(r) = vgae_data::hub_model::ModelRef::of_path(p) else {
        return Ok(p.to_path_buf());
    };
    let r = r?;
    let ck = vgae_data::hub_model::fetch(&r)?;
    let dir = PathBuf::from("runs")
        .join("hub")
        .join(r.repo.replace('/', "--"));
    let target = dir.join(vgae_data::hub_model::CHECKPOINT);
    anyhow::ensure!(
        !target.exists(),
        "{} exists already: resume that run with `vgae resume {}`",
        target.display(),
        dir.display()
    );
    std::fs::create_dir_all(&dir)?;
    let src = ck.parent().unwrap_or(Path::new("."));
    for f in [
        vgae_data::hub_model::SPLIT,
        "config.json",
        vgae_data::hub_model::CHECKPOINT,
    ] {
        if src.join(f).is_file() {
            std::fs::copy(src.join(f), dir.join(f))?;
        }
    }
    eprintln!(
        "copied hf://{}@{} into {}",
        r.repo,
        r.revision,
        dir.display()
    );
    Ok(target)
}

#[cfg(not(feature = "hub"))]
fn push(_a: PushArgs, _g: &Globals) -> anyhow::Result<()> {
    anyhow::bail!("this binary was built without the hub feature (cargo build --features hub)")
}

#[cfg(not(feature = "hub"))]
pub fn publish(_a: PublishArgs, _g: &Globals) -> anyhow::Result<()> {
    anyhow::bail!("this binary was built without the hub feature (cargo build --features hub)")
}

#[cfg(not(feature = "hub"))]
pub fn resolve(p: &Path) -> anyhow::Result<PathBuf> {
    anyhow::ensure!(
        !p.to_string_lossy().starts_with("hf://"),
        "{}: this binary was built without the hub feature (cargo build --features hub)",
        p.display()
    );
    Ok(p.to_path_buf())
}

#[cfg(not(feature = "hub"))]
pub fn resumable(p: &Path) -> anyhow::Result<PathBuf> {
    resolve(p)
}
