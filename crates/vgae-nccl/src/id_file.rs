//! NCCL's bootstrap: rank 0 makes the communicator's 128-byte unique id, and every other rank needs it
//! before any can join. Here it travels through a file that all ranks can read (a shared filesystem, as
//! the run directory already assumes), named by `VGAE_NCCL_ID_FILE`; rank 0 removes it once all have
//! joined, so the next launch can reuse the path.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};
use vgae_core::{Error, Result};

/// The environment variable naming the id file (needed when `WORLD_SIZE` > 1).
pub const VAR: &str = "VGAE_NCCL_ID_FILE";
/// Bytes in an NCCL unique id.
pub const ID_LEN: usize = 128;

/// Rank 0: writes `id` to `path` through a temporary name (a reader never sees part of it). A file already
/// there is refused: it is left from an earlier launch, and the other ranks may already have read it.
pub fn publish(path: &Path, id: &[u8; ID_LEN]) -> Result<()> {
    if path.exists() {
        return Err(Error::msg(format!(
            "{VAR}={}: the file exists, left by an earlier launch; remove it (or name a fresh path per \
             launch, e.g. with $SLURM_JOB_ID) and start all ranks again",
            path.display()
        )));
    }
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(id)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| Error::io(path, e))
}

/// The other ranks: waits up to `timeout` for rank 0's file, then reads its id. A file of any other size
/// is an error, as is no file in time (rank 0 failed, or the ranks were given different paths).
pub fn wait_for(path: &Path, timeout: Duration) -> Result<[u8; ID_LEN]> {
    let start = Instant::now();
    loop {
        match std::fs::read(path) {
            Ok(bytes) => {
                return bytes.as_slice().try_into().map_err(|_| {
                    Error::msg(format!(
                        "{VAR}={}: {} bytes, expected an NCCL id of {ID_LEN}",
                        path.display(),
                        bytes.len()
                    ))
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && start.elapsed() < timeout => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::msg(format!(
                "{VAR}={}: rank 0 did not write the NCCL id within {} s (did it fail, or were the \
                     ranks given different paths?)",
                path.display(),
                timeout.as_secs()
            )))
            }
            Err(e) => return Err(Error::io(path, e)),
        }
    }
}

/// Rank 0, once every rank has joined: removes the file.
pub fn retire(path: &Path) -> Result<()> {
    std::fs::remove_file(path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_goes_through_the_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nccl.id");
        let id: [u8; ID_LEN] = std::array::from_fn(|i| (i * 7 % 251) as u8);
        publish(&path, &id).unwrap();
        assert_eq!(wait_for(&path, Duration::ZERO).unwrap(), id);
        // A second launch on the same path, before the first retired it: refused, naming the variable.
        let e = publish(&path, &id).unwrap_err().to_string();
        assert!(e.contains(VAR) && e.contains("earlier launch"), "{e}");
        retire(&path).unwrap();
        assert!(!path.exists());
        publish(&path, &id).unwrap();
    }

    #[test]
    fn a_missing_or_wrong_sized_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nccl.id");
        let e = wait_for(&path, Duration::from_millis(120))
            .unwrap_err()
            .to_string();
        assert!(e.contains("did not write the NCCL id"), "{e}");
        std::fs::write(&path, [0u8; 100]).unwrap();
        let e = wait_for(&path, Duration::ZERO).unwrap_err().to_string();
        assert!(e.contains("100 bytes"), "{e}");
    }
}
