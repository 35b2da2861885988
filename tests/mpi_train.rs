//! `vgae train` and `vgae resume` under `mpirun -np 2` (a build with `--features mpi`, OpenMPI on loopback):
//! a signal on one rank stops both after the same epoch with rank 0's checkpoint, and a 2-rank resume of
//! it ends with the bits of one uninterrupted single-process run.
#![cfg(feature = "mpi")]

mod common;
use common::{json, run_ok, vgae};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `mpirun -np 2 vgae ARGS` on loopback TCP (root allowed, as in CI containers); `fault_on_rank1` is the
/// `VGAE_FAULT` of rank 1 alone. Killed, and the test failed, after two minutes: a rank hangs.
fn mpirun_vgae(cache: &Path, args: &[&str], fault_on_rank1: Option<&str>) -> Output {
    let inner = vgae(cache);
    let mut c = Command::new("mpirun");
    c.args([
        "--allow-run-as-root",
        "--oversubscribe",
        "--bind-to",
        "none",
        "-np",
        "2",
    ])
    .args([
        "--mca",
        "btl",
        "self,tcp",
        "--mca",
        "btl_tcp_if_include",
        "lo",
    ])
    .args(["--mca", "oob_tcp_if_include", "lo"]);
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    // Each rank's environment: the fault only where OpenMPI numbers the process 1.
    let script = r#"[ "$OMPI_COMM_WORLD_RANK" = 1 ] && [ -n "$RANK1_FAULT" ] && export VGAE_FAULT="$RANK1_FAULT"; exec "$0" "$@""#;
    c.env("RANK1_FAULT", fault_on_rank1.unwrap_or(""))
        .args(["-x", "RANK1_FAULT", "sh", "-c", script])
        .arg(inner.get_program())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = c
        .spawn()
        .expect("mpirun from OpenMPI (Debian: openmpi-bin) on PATH");
    let pid = child.id();
    let start = Instant::now();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watch = {
        let done = done.clone();
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                if start.elapsed() > Duration::from_secs(120) {
                    let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
                    return true;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            false
        })
    };
    let out = child.wait_with_output().unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(
        !watch.join().unwrap(),
        "mpirun still running after 120 s: a rank hangs"
    );
    out
}

/// The `loss` of every line of a run's `metrics.jsonl`.
fn losses(dir: &Path) -> Vec<f64> {
    std::fs::read_to_string(dir.join("metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["loss"]
                .as_f64()
                .unwrap()
        })
        .collect()
}

const METRICS: [&str; 8] = [
    "val_auc",
    "val_ap",
    "test_auc",
    "test_ap",
    "best_val_auc",
    "best_test_auc",
    "best_test_ap",
    "best_epoch",
];

#[test]
fn a_signal_on_one_rank_stops_both_and_a_two_rank_resume_gives_the_one_process_bits() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    let train = |out: &Path| {
        [
            "train",
            "--dataset",
            "cora",
            "--model",
            "gae",
            "--loss",
            "dense",
            "--epochs",
            "6",
            "--seed",
            "5",
            "--json",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect::<Vec<_>>()
    };
    let args = train(&one);
    let reference = json(&run_ok(vgae(&cache).args(&args)));

    // SIGINT reaches rank 1 alone after epoch 3: rank 0 stops there too and writes the checkpoint.
    let args = train(&two);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mpirun_vgae(&cache, &args, Some("sigint@3"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "an interrupted launch must fail: {err}"
    );
    assert!(
        err.contains("interrupted after epoch 3") && err.matches("interrupted").count() == 1,
        "rank 0 alone reports the stop, at epoch 3: {err}"
    );
    assert!(
        two.join("checkpoints/epoch-000003.safetensors").is_file(),
        "{err}"
    );
    assert!(!two.join("model.safetensors").exists());

    let two_s = two.display().to_string();
    let out = mpirun_vgae(&cache, &["resume", &two_s, "--json"], None);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "2-rank resume failed: {err}");
    let resumed = json(&out);
    for k in METRICS {
        assert_eq!(
            resumed[k], reference[k],
            "{k}: 2 ranks, interrupted and resumed, vs 1 process"
        );
    }
    assert_eq!(
        losses(&two),
        losses(&one),
        "every epoch's loss, bit for bit"
    );
    assert_eq!(losses(&two).len(), 6);
}
