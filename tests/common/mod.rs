//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The shared data directory; tests that need it fail (never skip) when it is missing.
pub fn data_dir() -> PathBuf {
    let d = std::env::var_os("VGAE_DATA_DIR")
        .map(PathBuf::from)
        .expect("VGAE_DATA_DIR is not set: these tests need ../shared/data (as .ci/run sets it)");
    assert!(
        d.join("planetoid").is_dir(),
        "VGAE_DATA_DIR={} has no planetoid/ folder",
        d.display()
    );
    std::fs::canonicalize(d).unwrap()
}

/// The `vgae` binary with an isolated environment: no data dir, an empty hub cache.
pub fn vgae(cache: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_vgae"));
    c.env_remove("VGAE_DATA_DIR")
        .env_remove("HF_HOME")
        .env_remove("HUGGINGFACE_HUB_CACHE")
        .env_remove("HF_TOKEN")
        .env("HF_HUB_CACHE", cache)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost");
    c
}

pub fn run_ok(c: &mut Command) -> Output {
    let out = c.output().expect("vgae runs");
    assert!(
        out.status.success(),
        "vgae failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub fn run_err(c: &mut Command) -> String {
    let out = c.output().expect("vgae runs");
    assert!(
        !out.status.success(),
        "vgae should have failed; stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn json(out: &Output) -> serde_json::Value {
    let s = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(s.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}
