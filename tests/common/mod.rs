//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]

pub mod mock_hub;

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

/// Every file under `dir`, recursively (none if it does not exist).
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn file_name(p: &std::path::Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Every `*.safetensors` under `dir` (temporary files excluded) passes `load`: none is half-written.
pub fn checkpoints_all_load<E: std::fmt::Display>(
    dir: &std::path::Path,
    load: impl Fn(&std::path::Path) -> Result<(), E>,
) {
    for p in files_under(dir) {
        let name = file_name(&p);
        if name.ends_with(".safetensors") && !name.starts_with('.') {
            load(&p)
                .unwrap_or_else(|e| panic!("{} is not a complete checkpoint: {e}", p.display()));
        }
    }
}

/// The periodic checkpoints a run directory keeps (`checkpoints/*.safetensors`).
pub fn periodic_checkpoints(run: &std::path::Path) -> usize {
    files_under(&run.join("checkpoints"))
        .iter()
        .filter(|p| file_name(p).ends_with(".safetensors"))
        .count()
}

/// Temporary files (`*.tmp`) left anywhere under `dir`.
pub fn temporary_files(dir: &std::path::Path) -> Vec<String> {
    files_under(dir)
        .iter()
        .map(|p| file_name(p))
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}

/// A small, quick MNIST VAE run: 2000 training images, no IWAE.
pub const VAE_SMALL: [&str; 9] = [
    "vae",
    "train",
    "--dataset",
    "mnist",
    "--train-limit",
    "2000",
    "--iwae-k",
    "0",
    "--json",
];

/// A checkpoint's tensors as (name, shape, f32 bits), sorted by name: equal means bit-identical.
pub fn tensors(p: &std::path::Path) -> Vec<(String, Vec<usize>, Vec<u32>)> {
    let ck = vgae_core::checkpoint::load(p, &candle_core::Device::Cpu).unwrap();
    let mut v: Vec<_> = ck
        .tensors
        .iter()
        .map(|(k, t)| {
            let bits = t
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap()
                .iter()
                .map(|x| x.to_bits())
                .collect();
            (k.clone(), t.dims().to_vec(), bits)
        })
        .collect();
    v.sort();
    v
}

/// A run directory's metrics.jsonl without its wall-clock fields.
pub fn metrics(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let o = v.as_object_mut().unwrap();
            o.remove("seconds");
            o.remove("eval_seconds");
            v
        })
        .collect()
}

/// The shared data directory, which must hold `mnist/`.
pub fn mnist_dir() -> PathBuf {
    let d = data_dir();
    assert!(
        d.join("mnist").is_dir(),
        "VGAE_DATA_DIR={} has no mnist/ folder",
        d.display()
    );
    d
}

/// `vgae` on CPU with the shared data directory (for the MNIST VAE tests).
pub fn mnist_vgae(cache: &std::path::Path) -> Command {
    let mut c = vgae(cache);
    c.arg("--device")
        .arg("cpu")
        .arg("--data-dir")
        .arg(mnist_dir());
    c
}

/// Runs `train` with `VGAE_FAULT=fault`, checks that it crashed (or, for an injected I/O error, failed
/// naming the file and the cause), runs `check` on the run directory, then `resume` to the end.
pub fn crash_then_resume(
    fault: &str,
    mut train: impl FnMut() -> Command,
    mut resume: impl FnMut() -> Command,
    check: impl Fn(&std::path::Path),
) {
    let mut c = train();
    let dir = std::path::PathBuf::from(
        c.get_args()
            .last()
            .expect("the run directory is the last argument"),
    );
    let out = c.env("VGAE_FAULT", fault).output().expect("vgae runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if fault.starts_with("enospc") || fault.starts_with("eio") {
        let cause = if fault.starts_with("enospc") {
            "No space left on device"
        } else {
            "Input/output error"
        };
        let file = fault.split_once('@').unwrap().1;
        assert!(
            out.status.code() == Some(1) && stderr.contains(cause) && stderr.contains(file),
            "{fault}: {}: {stderr}",
            out.status
        );
    } else {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            Some(6),
            "{fault}: expected SIGABRT at the fault, got {}: {stderr}",
            out.status
        );
    }
    check(&dir);
    let out = resume().output().expect("vgae runs");
    assert!(
        out.status.success(),
        "{fault}: resume failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    check(&dir);
}
