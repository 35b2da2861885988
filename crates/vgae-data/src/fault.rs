//! Fault injection for crash and I/O-error tests, driven by the `VGAE_FAULT` environment variable (read once
//! per process; unset, every hook is a no-op).
//!
//! `VGAE_FAULT=POINT@MATCH[#N]`:
//! - `POINT` is where to fail: `before-write`, `mid-write` (half the bytes reach the temporary file),
//!   `before-rename` (the temporary file is whole and synced), `after-rename` — each aborts the process there
//!   as a kill would (no destructors, no flushing); `enospc` / `eio` make that write fail with "No space
//!   left on device" / "Input/output error" instead; `mid-epoch` aborts after epoch `MATCH` has trained and
//!   before anything of it is written; `sigint` / `sigint-twice` send the process SIGINT once / twice at that
//!   moment (Unix), so a test reaches the signal handlers at a chosen epoch.
//! - `MATCH` is a substring of the written file's name (or, for `mid-epoch`, the epoch number).
//! - `#N` picks the N-th matching write of the process (1-based, default 1).
//!
//! So a crash test chooses its moment (`before-rename@ckpt-000005`), instead of killing at a guessed time.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

/// The environment variable holding the fault.
pub const VAR: &str = "VGAE_FAULT";

/// Where a fault strikes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// Abort before the temporary file is created.
    BeforeWrite,
    /// Abort with half the bytes in the temporary file.
    MidWrite,
    /// Abort with the temporary file whole and synced, not yet renamed.
    BeforeRename,
    /// Abort right after the rename.
    AfterRename,
    /// Fail the write with ENOSPC.
    Enospc,
    /// Fail the write with EIO.
    Eio,
    /// Abort after an epoch has trained, before it is recorded.
    MidEpoch,
    /// Raise SIGINT once after an epoch has trained.
    Sigint,
    /// Raise SIGINT twice after an epoch has trained.
    SigintTwice,
}

impl Point {
    fn at_epoch_end(self) -> bool {
        matches!(self, Point::MidEpoch | Point::Sigint | Point::SigintTwice)
    }
}

/// A parsed `VGAE_FAULT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Where.
    pub point: Point,
    /// Substring of the file name (or the epoch number).
    pub pattern: String,
    /// Which matching event (1-based).
    pub nth: usize,
}

/// Parses `POINT@MATCH[#N]`; `None` for anything else (a typo must not silently test nothing, so
/// [`current`] reports it on stderr).
pub fn parse(spec: &str) -> Option<Fault> {
    let (point, rest) = spec.split_once('@')?;
    let point = match point {
        "before-write" => Point::BeforeWrite,
        "mid-write" => Point::MidWrite,
        "before-rename" => Point::BeforeRename,
        "after-rename" => Point::AfterRename,
        "enospc" => Point::Enospc,
        "eio" => Point::Eio,
        "mid-epoch" => Point::MidEpoch,
        "sigint" => Point::Sigint,
        "sigint-twice" => Point::SigintTwice,
        _ => return None,
    };
    let (pattern, nth) = match rest.split_once('#') {
        Some((p, n)) => (p, n.parse().ok().filter(|&n| n >= 1)?),
        None => (rest, 1),
    };
    if pattern.is_empty() {
        return None;
    }
    Some(Fault {
        point,
        pattern: pattern.to_string(),
        nth,
    })
}

/// The process's fault, if `VGAE_FAULT` names one.
pub fn current() -> Option<&'static Fault> {
    static FAULT: OnceLock<Option<Fault>> = OnceLock::new();
    FAULT
        .get_or_init(|| {
            let spec = std::env::var(VAR).ok()?;
            let f = parse(&spec);
            if f.is_none() {
                eprintln!("warning: {VAR}={spec:?} is not POINT@MATCH[#N]; no fault injected");
            }
            f
        })
        .as_ref()
}

static HITS: AtomicUsize = AtomicUsize::new(0);

fn strikes(pattern_matches: bool) -> bool {
    match current() {
        Some(f) if pattern_matches => HITS.fetch_add(1, Ordering::SeqCst) + 1 == f.nth,
        _ => false,
    }
}

/// The fault for a write of `path`, if this is the write it targets.
pub fn on_write(path: &Path) -> Option<Point> {
    let f = current().filter(|f| !f.point.at_epoch_end())?;
    let name = path.file_name()?.to_string_lossy();
    strikes(name.contains(&f.pattern)).then_some(f.point)
}

/// Aborts (`mid-epoch@epoch`) or raises SIGINT (`sigint@epoch`, `sigint-twice@epoch`) if the fault says so.
pub fn on_epoch_end(epoch: usize) {
    let Some(f) = current().filter(|f| f.point.at_epoch_end()) else {
        return;
    };
    if !strikes(f.pattern == epoch.to_string()) {
        return;
    }
    match f.point {
        Point::Sigint => raise_sigint(1),
        Point::SigintTwice => raise_sigint(2),
        _ => crash(&format!("mid-epoch@{epoch}")),
    }
}

#[cfg(unix)]
fn raise_sigint(times: usize) {
    for _ in 0..times {
        // The handlers run before `raise` returns, so the loop sees the signal at this very epoch.
        let _ = signal_hook::low_level::raise(signal_hook::consts::SIGINT);
    }
}

#[cfg(not(unix))]
fn raise_sigint(_times: usize) {}

/// Ends the process at once, as SIGKILL would (SIGABRT, no unwinding, no buffered output).
pub fn crash(what: &str) -> ! {
    eprintln!("{VAR}: aborting at {what}");
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_and_typos_are_refused() {
        assert_eq!(
            parse("before-rename@ckpt-000005#2"),
            Some(Fault {
                point: Point::BeforeRename,
                pattern: "ckpt-000005".into(),
                nth: 2
            })
        );
        assert_eq!(parse("enospc@model").unwrap().nth, 1);
        assert_eq!(parse("mid-epoch@7").unwrap().point, Point::MidEpoch);
        assert_eq!(parse("sigint-twice@3").unwrap().point, Point::SigintTwice);
        for bad in [
            "",
            "before-rename",
            "sometime@x",
            "eio@",
            "eio@x#0",
            "eio@x#two",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
