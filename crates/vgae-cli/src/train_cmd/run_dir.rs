//! Where `vgae train` writes: an existing run is never overwritten silently, and the default name never
//! collides with an earlier run.

use std::path::{Path, PathBuf};
use vgae_core::graph::run::{CHECKPOINT_DIR, FINAL, LATEST};

/// The files a run writes at its top level (removed by `--overwrite`, with the periodic checkpoints).
const RUN_FILES: [&str; 7] = [
    "config.json",
    "metrics.jsonl",
    "curves.png",
    "split.safetensors",
    "result.json",
    FINAL,
    "best.safetensors",
];

fn is_periodic(name: &str) -> bool {
    name == LATEST || (name.starts_with("epoch-") && name.ends_with(".safetensors"))
}

/// True when `dir` holds a run that got somewhere: a final or periodic checkpoint, or a result. (A run
/// killed before its first checkpoint left nothing to resume and is simply restarted.)
pub fn holds_run(dir: &Path) -> bool {
    let ck = dir.join(CHECKPOINT_DIR);
    [FINAL, "result.json"].iter().any(|f| dir.join(f).is_file())
        || std::fs::read_dir(&ck).is_ok_and(|rd| {
            rd.flatten()
                .any(|e| is_periodic(&e.file_name().to_string_lossy()))
        })
}

/// Deletes the run files in `dir` (and only those: anything else the user keeps there stays).
fn clear_run(dir: &Path) -> anyhow::Result<()> {
    for f in RUN_FILES {
        let p = dir.join(f);
        if p.is_file() {
            std::fs::remove_file(&p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?;
        }
    }
    let ck = dir.join(CHECKPOINT_DIR);
    if let Ok(rd) = std::fs::read_dir(&ck) {
        for e in rd.flatten() {
            if is_periodic(&e.file_name().to_string_lossy()) {
                std::fs::remove_file(e.path())
                    .map_err(|err| anyhow::anyhow!("{}: {err}", e.path().display()))?;
            }
        }
    }
    Ok(())
}

/// The run directory to write: `out` (refused if it holds a run, unless `overwrite`, which clears it), or
/// `default` with `-2`, `-3`, ... appended until the name is free (or `default` itself, cleared, with
/// `overwrite`). Prints a note when it picks another name.
pub fn choose(
    out: Option<&Path>,
    default: PathBuf,
    overwrite: bool,
    quiet: bool,
) -> anyhow::Result<PathBuf> {
    if let Some(dir) = out {
        if holds_run(dir) {
            anyhow::ensure!(
                overwrite,
                "--out {}: the directory already holds a run (a checkpoint or result.json): pass --overwrite \
                 to replace it, or continue it with `vgae resume {}`",
                dir.display(),
                dir.display()
            );
            clear_run(dir)?;
        }
        return Ok(dir.to_path_buf());
    }
    if !default.exists() || overwrite {
        if overwrite && holds_run(&default) {
            clear_run(&default)?;
        }
        return Ok(default);
    }
    let name = default
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let free = (2..)
        .map(|k| default.with_file_name(format!("{name}-{k}")))
        .find(|p| !p.exists())
        .unwrap_or(default.clone());
    if !quiet {
        eprintln!(
            "note: {} exists; writing this run to {} (--out DIR to choose, --overwrite to replace)",
            default.display(),
            free.display()
        );
    }
    Ok(free)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn existing_runs_are_refused_or_cleared_and_defaults_get_a_suffix() {
        let root = tempfile::tempdir().unwrap();
        let run = root.path().join("r");
        std::fs::create_dir_all(run.join(CHECKPOINT_DIR)).unwrap();
        std::fs::write(run.join("config.json"), "{}").unwrap();
        // Killed before its first checkpoint: nothing to lose, reused as is.
        assert!(!holds_run(&run));
        assert_eq!(
            choose(Some(&run), PathBuf::new(), false, true).unwrap(),
            run
        );
        std::fs::write(
            run.join(CHECKPOINT_DIR).join("epoch-000002.safetensors"),
            "x",
        )
        .unwrap();
        std::fs::write(run.join("notes.txt"), "mine").unwrap();
        let e = choose(Some(&run), PathBuf::new(), false, true)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--overwrite") && e.contains("vgae resume"),
            "{e}"
        );
        choose(Some(&run), PathBuf::new(), true, true).unwrap();
        assert!(!holds_run(&run) && !run.join("config.json").exists());
        assert!(run.join("notes.txt").is_file());
        assert_eq!(
            choose(None, run.clone(), false, true).unwrap(),
            root.path().join("r-2")
        );
        std::fs::create_dir(root.path().join("r-2")).unwrap();
        assert_eq!(
            choose(None, run.clone(), false, true).unwrap(),
            root.path().join("r-3")
        );
        assert_eq!(
            choose(None, root.path().join("new"), false, true).unwrap(),
            root.path().join("new")
        );
    }
}
