//! Layout shared by every run directory: periodic checkpoints in `checkpoints/` with a `latest` pointer, a
//! final checkpoint beside them, and no stale temporary files.

use crate::{checkpoint, Error, Result};
use std::path::{Path, PathBuf};

/// A run's output directory, created with its `checkpoints/` folder and cleared of stale temporary files.
#[derive(Debug, Clone)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates `path` (and `path/checkpoints`) if needed; existing run files are kept, so a resumed run
    /// writes into the directory it came from.
    pub fn create(path: impl Into<PathBuf>) -> Result<Self> {
        let path = path.into();
        let ck = path.join(CHECKPOINT_DIR);
        std::fs::create_dir_all(&ck).map_err(|e| Error::io(&ck, e))?;
        remove_stale_temps(&path);
        remove_stale_temps(&ck);
        Ok(RunDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `<run>/<name>`.
    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// `<run>/checkpoints`.
    pub fn checkpoints(&self) -> PathBuf {
        self.path.join(CHECKPOINT_DIR)
    }

    /// Writes `<run>/<name>` as pretty JSON, atomically.
    pub fn write_json(&self, name: &str, v: &impl serde::Serialize) -> Result<()> {
        let s = serde_json::to_string_pretty(v).map_err(|e| Error::msg(e.to_string()))?;
        vgae_data::split::atomic_write(&self.join(name), (s + "\n").as_bytes())?;
        Ok(())
    }
}

/// The folder of periodic checkpoints inside a run directory.
pub const CHECKPOINT_DIR: &str = "checkpoints";
/// The file in [`CHECKPOINT_DIR`] naming the newest periodic checkpoint.
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

/// The epoch of a periodic checkpoint's file name (`epoch-NNNNNN.safetensors`).
fn checkpoint_epoch(name: &str) -> Option<usize> {
    name.strip_prefix("epoch-")?
        .strip_suffix(".safetensors")?
        .parse()
        .ok()
}

/// Points `latest` at the checkpoint of `epoch`, then drops every periodic checkpoint older than the newest
/// `keep` up to `epoch`. A scan, not just the one that fell out of the window: a run killed between writing a
/// checkpoint and dropping the old one leaves an extra, which the resumed run clears here.
pub fn rotate(ck_dir: &Path, epoch: usize, keep: usize) -> Result<()> {
    vgae_data::split::atomic_write(&ck_dir.join(LATEST), checkpoint_name(epoch).as_bytes())?;
    let mut epochs: Vec<usize> = std::fs::read_dir(ck_dir)
        .map_err(|e| Error::io(ck_dir, e))?
        .flatten()
        .filter_map(|e| checkpoint_epoch(&e.file_name().to_string_lossy()))
        .filter(|&e| e <= epoch)
        .collect();
    epochs.sort_unstable();
    let stale = epochs.len().saturating_sub(keep.max(1));
    for e in &epochs[..stale] {
        let _ = std::fs::remove_file(ck_dir.join(checkpoint_name(*e)));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A run killed between writing epoch 4 and dropping epoch 2 left three checkpoints; the next rotation
    /// keeps the newest `keep` up to its epoch, and leaves later checkpoints and other files alone.
    #[test]
    fn rotate_drops_every_checkpoint_past_the_window() {
        let dir = tempfile::tempdir().unwrap();
        for e in [2, 4, 6, 8, 10] {
            std::fs::write(dir.path().join(checkpoint_name(e)), b"x").unwrap();
        }
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        rotate(dir.path(), 8, 2).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut want = vec![
            checkpoint_name(6),
            checkpoint_name(8),
            checkpoint_name(10),
            LATEST.to_string(),
            "notes.txt".to_string(),
        ];
        want.sort();
        assert_eq!(left, want);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(LATEST)).unwrap(),
            checkpoint_name(8)
        );
    }
}
