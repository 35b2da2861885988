//! Uploads to the Hugging Face hub through hf-hub: a repository created when missing, then every file in
//! one commit (so a repository never holds half an upload), and the verified Planetoid files published
//! as a dataset mirror that `vgae data pull --repo` reads.

use crate::error::{DataError, Result};
use crate::hub::{verify, PREFIX};
use crate::planetoid::{file_name, NAMES, PARTS};
use hf_hub::repository::{CommitInfo, CommitOperation};
use hf_hub::{HFClientBuilder, HFClientSync, HFError, RepoType, RepoTypeDataset, RepoTypeModel};
use std::path::Path;

/// What kind of hub repository to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoKind {
    /// A model repository (`hf://OWNER/NAME`).
    Model,
    /// A dataset repository (`vgae data pull --repo OWNER/NAME`).
    Dataset,
}

/// One file of a commit: its path in the repository and its bytes.
#[derive(Debug, Clone)]
pub struct Upload {
    /// Path inside the repository, `/`-separated.
    pub path: String,
    /// The file's content.
    pub bytes: Vec<u8>,
}

/// Checks an `OWNER/NAME` repository id.
pub fn check_repo(repo: &str) -> Result<(&str, &str)> {
    match repo.split_once('/') {
        Some((o, n)) if !o.is_empty() && !n.is_empty() && !n.contains('/') => Ok((o, n)),
        _ => Err(DataError::Other(format!(
            "--repo '{repo}': expected OWNER/NAME"
        ))),
    }
}

/// Creates `repo` if it does not exist (`private` only applies then) and commits `files` to its main
/// branch in one commit. Returns the commit's id (or URL) as the hub reports it. Needs a write token
/// (`HF_TOKEN`, or `huggingface-cli login`'s token file); `HF_ENDPOINT` picks the hub.
pub fn push(
    repo: &str,
    kind: RepoKind,
    files: Vec<Upload>,
    private: bool,
    message: &str,
) -> Result<String> {
    let (owner, name) = check_repo(repo)?;
    let hub_err = |what: &str, e: &dyn std::fmt::Display| {
        let hint = match e.to_string() {
            s if ["401", "unauthor", "authentication", "credentials"]
                .iter()
                .any(|k| s.to_lowercase().contains(k)) =>
            {
                ": the hub refused the credentials; set HF_TOKEN to a token with write access"
            }
            _ => "",
        };
        DataError::Other(format!("hub {repo}: {what}: {e}{hint}"))
    };
    let client = HFClientBuilder::new()
        .retry_max_attempts(0)
        .build_sync()
        .map_err(|e| hub_err("client", &e))?;
    let ops: Vec<CommitOperation> = files
        .into_iter()
        .map(|f| CommitOperation::add_bytes(f.path, f.bytes))
        .collect();
    let info = match kind {
        RepoKind::Model => commit(&client, RepoTypeModel, (owner, name), ops, private, message),
        RepoKind::Dataset => commit(
            &client,
            RepoTypeDataset,
            (owner, name),
            ops,
            private,
            message,
        ),
    }
    .map_err(|(what, e)| hub_err(what, &e))?;
    Ok(info
        .commit_oid
        .or(info.commit_url)
        .unwrap_or_else(|| "(no commit id returned)".into()))
}

/// Creates the repository when missing, then commits `ops` to its main branch.
fn commit<T: RepoType>(
    client: &HFClientSync,
    kind: T,
    (owner, name): (&str, &str),
    ops: Vec<CommitOperation>,
    private: bool,
    message: &str,
) -> std::result::Result<CommitInfo, (&'static str, HFError)> {
    client
        .create_repository()
        .repo_id(&format!("{owner}/{name}"))
        .repo_type(kind)
        .private(private)
        .exist_ok(true)
        .send()
        .map_err(|e| ("creating the repository", e))?;
    client
        .repository(kind, owner, name)
        .create_commit()
        .operations(ops)
        .commit_message(message)
        .send()
        .map_err(|e| ("commit", e))
}

/// The eight files of each Planetoid dataset in `datasets` from `dir`, checked against the original
/// release's sizes and sha256 (`ind.pubmed.allx`, which has no known checksum, must parse), ready to be
/// committed under `data/` as `vgae data pull` expects them.
pub fn planetoid_uploads(dir: &Path, datasets: &[String]) -> Result<Vec<Upload>> {
    let mut out = Vec::new();
    for d in datasets {
        if !NAMES.contains(&d.as_str()) {
            return Err(DataError::UnknownDataset {
                name: d.clone(),
                expected: NAMES.join(", "),
            });
        }
        // Parsing all eight files together checks what checksums cannot (the allx without one).
        crate::planetoid::load_dir(d, dir)?;
        for part in PARTS {
            let file = file_name(d, part);
            let path = dir.join(&file);
            verify(&path, &file)?;
            out.push(Upload {
                path: format!("{PREFIX}/{file}"),
                bytes: crate::error::read_file(&path)?,
            });
        }
    }
    Ok(out)
}
