//! Filesystem writes that readers can rely on.

use crate::error::{DataError, Result};
use crate::fault::Point;
use std::path::Path;

/// Writes through a temporary file in the same directory, then renames: a reader never sees half a file.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|s| s.to_str()).unwrap_or("out"),
        std::process::id()
    ));
    let fault = crate::fault::on_write(path);
    let crash_at = |p: Point| {
        if fault == Some(p) {
            crate::fault::crash(&format!("{p:?} of {}", path.display()));
        }
    };
    let write = || -> std::io::Result<()> {
        crash_at(Point::BeforeWrite);
        let mut f = std::fs::File::create(&tmp)?;
        let half = &bytes[..bytes.len() / 2];
        match fault {
            Some(Point::MidWrite) => {
                f.write_all(half)?;
                f.sync_all()?;
                crash_at(Point::MidWrite);
            }
            Some(Point::Enospc) => {
                f.write_all(half)?;
                return Err(std::io::Error::from_raw_os_error(28));
            }
            Some(Point::Eio) => return Err(std::io::Error::from_raw_os_error(5)),
            _ => {}
        }
        f.write_all(bytes)?;
        f.sync_all()?;
        crash_at(Point::BeforeRename);
        std::fs::rename(&tmp, path)?;
        crash_at(Point::AfterRename);
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        DataError::io(path, e)
    })
}
