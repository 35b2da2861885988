//! Trained models on the Hugging Face hub: `hf://OWNER/NAME[@REVISION]` names a model repository that
//! `vgae hub push` wrote. Fetching downloads its model card and checkpoint into the standard cache and
//! checks the checkpoint (and the split, when there is one) against the sha256 the card records.

use crate::error::{DataError, Result};
use hf_hub::HFClientBuilder;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The prefix of a hub checkpoint reference.
pub const SCHEME: &str = "hf://";
/// The checkpoint's file name in a model repository.
pub const CHECKPOINT: &str = "model.safetensors";
/// The split's file name in a model repository (graph runs).
pub const SPLIT: &str = "split.safetensors";
/// The model card.
pub const CARD: &str = "README.md";
/// Front-matter key of the checkpoint's sha256 in the model card.
pub const CHECKPOINT_SHA256: &str = "vgae_checkpoint_sha256";
/// Front-matter key of the split's sha256 in the model card.
pub const SPLIT_SHA256: &str = "vgae_split_sha256";

/// A model repository and revision on the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelRef {
    /// `OWNER/NAME`.
    pub repo: String,
    /// Branch, tag or commit (default `main`).
    pub revision: String,
}

impl ModelRef {
    /// Parses `hf://OWNER/NAME[@REVISION]`; `None` when `s` does not start with `hf://`.
    ///
    /// ```
    /// use vgae_data::hub_model::ModelRef;
    /// let r = ModelRef::parse("hf://lab/vgae-cora@v1").unwrap().unwrap();
    /// assert_eq!((r.repo.as_str(), r.revision.as_str()), ("lab/vgae-cora", "v1"));
    /// assert!(ModelRef::parse("runs/cora").is_none());
    /// assert!(ModelRef::parse("hf://nobody").unwrap().is_err());
    /// ```
    pub fn parse(s: &str) -> Option<Result<ModelRef>> {
        let rest = s.strip_prefix(SCHEME)?;
        let (repo, revision) = match rest.split_once('@') {
            Some((r, v)) => (r, v),
            None => (rest, "main"),
        };
        let ok = crate::hub_push::check_repo(repo).is_ok() && !revision.is_empty();
        Some(match ok {
            true => Ok(ModelRef {
                repo: repo.to_string(),
                revision: revision.to_string(),
            }),
            false => Err(DataError::Other(format!(
                "'{s}': expected hf://OWNER/NAME or hf://OWNER/NAME@REVISION"
            ))),
        })
    }

    /// [`ModelRef::parse`] of a path argument.
    pub fn of_path(p: &Path) -> Option<Result<ModelRef>> {
        p.to_str().and_then(ModelRef::parse)
    }
}

/// The value of `key` in a model card's YAML front matter (`key: value` lines between `---` fences).
///
/// ```
/// let card = "---\nlibrary_name: vgae-rs\nvgae_checkpoint_sha256: ab12\n---\n# Model\n";
/// assert_eq!(vgae_data::hub_model::front_matter(card, "vgae_checkpoint_sha256"), Some("ab12"));
/// assert_eq!(vgae_data::hub_model::front_matter("# no front matter", "x"), None);
/// ```
pub fn front_matter<'a>(card: &'a str, key: &str) -> Option<&'a str> {
    let body = card.strip_prefix("---\n")?;
    let end = body.find("\n---")?;
    body[..end].lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().trim_matches('"'))
    })
}

/// Lower-case hex sha256 of a file's bytes.
pub fn sha256_file(path: &Path) -> Result<String> {
    Ok(hex::encode(Sha256::digest(crate::error::read_file(path)?)))
}

/// Downloads (or, offline, takes from the cache) the card and checkpoint of `r`, and its split when the
/// card records one; checks each against the card's sha256 (a mismatch removes the file from the cache
/// and fails). Returns the local checkpoint path, with the split beside it.
pub fn fetch(r: &ModelRef) -> Result<PathBuf> {
    let hub_err = |e: &dyn std::fmt::Display| {
        DataError::Other(format!("hf://{}@{}: {e}", r.repo, r.revision))
    };
    let (owner, name) = crate::hub_push::check_repo(&r.repo)?;
    let client = HFClientBuilder::new()
        .retry_max_attempts(0)
        .build_sync()
        .map_err(|e| hub_err(&e))?;
    let repo = client.model(owner, name);
    let get = |file: &str| {
        crate::hub::download_or_cached(&repo, file, &r.revision).map_err(|e| hub_err(&e))
    };
    let card_path = get(CARD)?;
    let card = String::from_utf8_lossy(&crate::error::read_file(&card_path)?).into_owned();
    let want = front_matter(&card, CHECKPOINT_SHA256).ok_or_else(|| {
        hub_err(&format!(
            "{CARD} records no {CHECKPOINT_SHA256}: not a repository written by `vgae hub push`"
        ))
    })?;
    let ck = get(CHECKPOINT)?;
    check(&ck, want, &hub_err)?;
    if let Some(want) = front_matter(&card, SPLIT_SHA256) {
        check(&get(SPLIT)?, want, &hub_err)?;
    }
    Ok(ck)
}

fn check(
    path: &Path,
    want: &str,
    hub_err: &dyn Fn(&dyn std::fmt::Display) -> DataError,
) -> Result<()> {
    let got = sha256_file(path)?;
    if got == want {
        return Ok(());
    }
    let file = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::hub::evict(path);
    Err(hub_err(&format!(
        "{file} has sha256 {got}, but the model card records {want}: a corrupt or tampered download, \
         removed from the cache"
    )))
}
