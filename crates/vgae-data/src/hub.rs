//! Planetoid files from the Hugging Face hub (hf-hub), into the standard cache, verified before use.
//!
//! hf-hub does not check what it downloaded, so every file is checked here against the size and sha256
//! of the original Planetoid release; a file that fails is removed from the cache and the pull fails.

use crate::error::{DataError, Result};
use crate::planetoid::{file_name, NAMES, PARTS};
use hf_hub::HFClientBuilder;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Default hub dataset repository: a mirror of kimiyoung/planetoid's `data/` folder.
pub const DEFAULT_REPO: &str = "vgae-rs/planetoid";
/// Default branch, tag or commit of [`DEFAULT_REPO`] to download.
pub const DEFAULT_REVISION: &str = "main";
/// Folder of the files inside the repository.
pub const PREFIX: &str = "data";

/// Size and sha256 of the original Planetoid files (kimiyoung/planetoid @ af6abf4). `ind.pubmed.allx`
/// has no known checksum: it is checked by parsing only.
const KNOWN: &[(&str, u64, &str)] = &[
    (
        "ind.citeseer.allx",
        595021,
        "2ac30345d95c9ec933a817ee0bdd6a5f077f8c184a20e696910192d534414668",
    ),
    (
        "ind.citeseer.ally",
        55623,
        "f704b2d986dde6c2669934de1f3ae5696a6cf9455c0f6b2646a2d135ea0a1c95",
    ),
    (
        "ind.citeseer.graph",
        61987,
        "d79a4ef9d3e7169aee8946145f6b7306e35bc79bffad26346cfb94e10e9912a7",
    ),
    (
        "ind.citeseer.test.index",
        5000,
        "2af990671580b6b2df5d158d1038f8292e30c9cd821b5453f399659b25b723d4",
    ),
    (
        "ind.citeseer.tx",
        260321,
        "539a8906a2da97628d212f2fdd668c109a8b3f0d36574b59e5d3fd5b5303da21",
    ),
    (
        "ind.citeseer.ty",
        24135,
        "55e5bd1ba1e733a04598753ad1a8d57957f4b8f89e74519f41f4f4938767e4ce",
    ),
    (
        "ind.citeseer.x",
        31087,
        "d20de19150741e555de0ed037195630fc194114ebc7fd72ced62810148aa22f6",
    ),
    (
        "ind.citeseer.y",
        3014,
        "8ba87e515d8e3ee3cf52f6d2c5b86aa73f11ecad825a808455209ec26cd54924",
    ),
    (
        "ind.cora.allx",
        257305,
        "9419ba2f26f5c35243db64aba110e0f35a04851609e0dc5433450676ca6b8543",
    ),
    (
        "ind.cora.ally",
        47959,
        "2b998f5cc7fedc86e7f97ca2498f47a1ffc1462c29e2d578b23bf3f62b6e7d71",
    ),
    (
        "ind.cora.graph",
        59847,
        "58f13302f39dde8852dad6fe6d15b89b077b6d7f837626bce671ef80344b383d",
    ),
    (
        "ind.cora.test.index",
        5000,
        "297ce89af2b51a6a194181c7dbe1796c6a1cf9cd9349a88383b1b1e227867875",
    ),
    (
        "ind.cora.tx",
        148025,
        "b9afbaa4a400df991f6f02ef677e1e44da55ffc04801fd02f9e673987829226a",
    ),
    (
        "ind.cora.ty",
        28135,
        "41f5ac76596a1699cc33f53084a2419e92961c42bb75f36fc38e616d348532ad",
    ),
    (
        "ind.cora.x",
        22119,
        "23cfa55d91c6f624233f5eb7b6e3f141f1bd2b2ae39608a63cf5d084bb27baab",
    ),
    (
        "ind.cora.y",
        4054,
        "94465c14eb53e04ca262198dcbb2521ee8af60fb3f3d546cd6ca24a511b0e7d1",
    ),
    (
        "ind.pubmed.ally",
        224739,
        "0c37bbe3b5014ec365e9d393cf4791925e5ed94fb194305d74f064a8d7b50f0e",
    ),
    (
        "ind.pubmed.graph",
        471808,
        "5b89f0036ca22909471f1e6558eb42fa06e0c730a577bde5b058b40638f81dc9",
    ),
    (
        "ind.pubmed.test.index",
        6000,
        "b101d421688bbaecbd82e8a18f1e282378d6830f3a37666f28ebc47f844341b5",
    ),
    (
        "ind.pubmed.tx",
        405505,
        "4eb5f5d0f30f26497eb0ac6ac9719d09c67e284f1ed0385c93f3ef27a671da3d",
    ),
    (
        "ind.pubmed.ty",
        12135,
        "ee2e0d4819d9fbcc403689c3bf2e49face401b605932f093bc58ab6461130fdd",
    ),
    (
        "ind.pubmed.x",
        23172,
        "fbe9cb5c47200d1b7769a26e579be3b7130b556831f9d850e77c4c74f2599b33",
    ),
    (
        "ind.pubmed.y",
        854,
        "e6c807633307a07ed659249006536a147c7999c797f11a2560752990181b41b3",
    ),
];

/// Which Planetoid dataset to pull, and from where on the hub.
#[derive(Debug, Clone)]
pub struct HubSpec {
    /// Lower-case Planetoid name (one of [`NAMES`]).
    pub dataset: String,
    /// Hub dataset repository, `OWNER/NAME`.
    pub repo: String,
    /// Branch, tag or commit.
    pub revision: String,
}

impl HubSpec {
    /// Checks the dataset name (case-insensitive) and `OWNER/NAME` repo; `None` means the defaults.
    pub fn for_dataset(name: &str, repo: Option<&str>, revision: Option<&str>) -> Result<Self> {
        let lower = name.to_ascii_lowercase();
        if !NAMES.contains(&lower.as_str()) {
            return Err(DataError::UnknownDataset {
                name: name.to_string(),
                expected: NAMES.join(", "),
            });
        }
        let repo = repo.unwrap_or(DEFAULT_REPO).to_string();
        if repo.split('/').count() != 2 || repo.split('/').any(str::is_empty) {
            return Err(DataError::Other(format!(
                "--repo '{repo}': expected OWNER/NAME"
            )));
        }
        Ok(HubSpec {
            dataset: lower,
            repo,
            revision: revision.unwrap_or(DEFAULT_REVISION).to_string(),
        })
    }
}

/// Size and sha256 (hex) of an original Planetoid file, `None` for a file without a known checksum.
pub fn known_checksum(file: &str) -> Option<(u64, &'static str)> {
    KNOWN
        .iter()
        .find(|(n, _, _)| *n == file)
        .map(|(_, s, h)| (*s, *h))
}

/// Checks a file against its known size and sha256 (when known).
pub fn verify(path: &Path, file: &str) -> Result<()> {
    let Some((size, sha)) = known_checksum(file) else {
        return Ok(());
    };
    let bytes = crate::error::read_file(path)?;
    if bytes.len() as u64 != size {
        return Err(DataError::invalid(
            path,
            format!("{} bytes, expected {size} for {file}", bytes.len()),
        ));
    }
    let got = hex::encode(Sha256::digest(&bytes));
    if got != sha {
        return Err(DataError::invalid(
            path,
            format!("sha256 {got}, expected {sha} for {file}"),
        ));
    }
    Ok(())
}

/// Removes a cached file and the blob it points to, so a bad download is never used again.
pub fn evict(path: &Path) {
    if let Ok(target) = std::fs::canonicalize(path) {
        let _ = std::fs::remove_file(target);
    }
    let _ = std::fs::remove_file(path);
}

/// Downloads (or, when the hub is unreachable, takes from the cache) the eight files of `spec.dataset`,
/// verifies them, and returns the directory that holds them.
pub fn pull(spec: &HubSpec) -> Result<PathBuf> {
    let hub_err = |e: &dyn std::fmt::Display| {
        DataError::Other(format!("hub {}@{}: {e}", spec.repo, spec.revision))
    };
    let client = HFClientBuilder::new()
        .retry_max_attempts(0)
        .build_sync()
        .map_err(|e| hub_err(&e))?;
    let (owner, name) = spec.repo.split_once('/').unwrap();
    let repo = client.dataset(owner, name);
    let mut dir: Option<PathBuf> = None;
    for part in PARTS {
        let file = file_name(&spec.dataset, part);
        let remote = format!("{PREFIX}/{file}");
        let path = download_or_cached(&repo, &remote, &spec.revision).map_err(|e| hub_err(&e))?;
        if let Err(e) = verify(&path, &file) {
            evict(&path);
            return Err(DataError::Other(format!(
                "{e}; the corrupt file was removed from the cache"
            )));
        }
        let parent = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        match &dir {
            Some(d) if *d != parent => {
                return Err(hub_err(&format!(
                    "files of one dataset landed in two snapshots: {} and {}",
                    d.display(),
                    parent.display()
                )))
            }
            _ => dir = Some(parent),
        }
    }
    Ok(dir.expect("PARTS is not empty"))
}

/// Downloads `file` of `repo` at `revision` into the hub cache, or, when that fails (offline), takes the
/// cached copy; the error says why neither worked.
pub fn download_or_cached<T: hf_hub::RepoType>(
    repo: &hf_hub::HFRepositorySync<T>,
    file: &str,
    revision: &str,
) -> std::result::Result<PathBuf, String> {
    let fetch = |local_only: bool| {
        repo.download_file()
            .filename(file.to_string())
            .revision(revision.to_string())
            .local_files_only(local_only)
            .send()
    };
    fetch(false).or_else(|online_err| {
        fetch(true).map_err(|_| {
            format!("cannot download {file} ({online_err}) and it is not in the cache")
        })
    })
}

/// The cache directory hf-hub uses: HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, then $HF_HOME/hub, then
/// $XDG_CACHE_HOME/huggingface/hub, then ~/.cache/huggingface/hub.
pub fn cache_dir() -> Option<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("HF_HUB_CACHE")
        .or_else(|| var("HUGGINGFACE_HUB_CACHE"))
        .or_else(|| var("HF_HOME").map(|h| h.join("hub")))
        .or_else(|| var("XDG_CACHE_HOME").map(|h| h.join("huggingface").join("hub")))
        .or_else(|| var("HOME").map(|h| h.join(".cache").join("huggingface").join("hub")))
}

/// A previously pulled copy of a Planetoid dataset from the default repository, if the cache has one.
pub fn cached_planetoid(name: &str) -> Option<PathBuf> {
    let root = cache_dir()?.join(format!("datasets--{}", DEFAULT_REPO.replace('/', "--")));
    let commit = std::fs::read_to_string(root.join("refs").join(DEFAULT_REVISION)).ok()?;
    let dir = root.join("snapshots").join(commit.trim()).join(PREFIX);
    PARTS
        .iter()
        .all(|p| dir.join(file_name(name, p)).is_file())
        .then_some(dir)
}
