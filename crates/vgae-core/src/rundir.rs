//! Layout shared by every run directory: periodic checkpoints in `checkpoints/` with a `latest` pointer, a
//! final checkpoint beside them, and no stale temporary files.

use crate::{checkpoint, Error, Result};
use std::path::{Path, PathBuf};

pub const CHECKPOINT_DIR: &str = "checkpoints";
pub const LATEST: &str = "latest";

/// The name of the periodic checkpoint of `epoch`.
pub fn checkpoint_name(epoch: usize) -> String {
    format!("epoch-{epoch:06}.safetensors")
}

/// Removes temporary files a killed writer may have left (they are never read).
pub fn remove_stale_temps(dir: &Path) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Points `latest` at `name`, then drops the one periodic checkpoint that fell out of the last `keep`
/// (no directory scan).
pub fn rotate(ck_dir: &Path, epoch: usize, every: usize, keep: usize) -> Result<()> {
    vgae_data::split::atomic_write(&ck_dir.join(LATEST), checkpoint_name(epoch).as_bytes())?;
    let keep = keep.max(1);
    if every > 0 && epoch >= every * keep {
        let _ = std::fs::remove_file(ck_dir.join(checkpoint_name(epoch - every * keep)));
    }
    Ok(())
}

/// The checkpoint to continue from: `path` itself if it is a file; for a run directory, the newer (by
/// recorded epoch) of its latest periodic checkpoint and its final checkpoint (any of `finals`).
pub fn find_checkpoint(path: &Path, finals: &[&str]) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    if !path.is_dir() {
        return Err(Error::msg(format!(
            "{}: no such file or directory",
            path.display()
        )));
    }
    let latest = path.join(CHECKPOINT_DIR).join(LATEST);
    let periodic = std::fs::read_to_string(&latest)
        .ok()
        .map(|n| path.join(CHECKPOINT_DIR).join(n.trim()));
    periodic
        .into_iter()
        .chain(finals.iter().map(|f| path.join(f)))
        .filter(|p| p.is_file())
        .max_by_key(|p| {
            checkpoint::load_metadata(p)
                .ok()
                .and_then(|m| m.get("epoch").and_then(|e| e.parse::<usize>().ok()))
        })
        .ok_or_else(|| {
            Error::msg(format!(
                "{}: no checkpoint found (expected {} or {})",
                path.display(),
                latest.display(),
                finals.join(" or ")
            ))
        })
}

/// The run directory a checkpoint belongs to (`<run>/<final>` or `<run>/checkpoints/epoch-N.safetensors`).
pub fn run_dir_of(checkpoint: &Path) -> PathBuf {
    let parent = checkpoint
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if parent.file_name().is_some_and(|n| n == CHECKPOINT_DIR) {
        parent
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    } else {
        parent.to_path_buf()
    }
}
