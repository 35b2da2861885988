//! Kill safety: `vgae train` is SIGKILLed mid-run (checkpointing every epoch, so also mid-write), resumed,
//! and must end exactly where an uninterrupted run ends, with no half-written checkpoint ever visible.

mod common;
use common::{checkpoints_all_load, json, metrics, run_ok, tensors, vgae};
use std::time::Duration;

#[test]
fn sigkill_then_resume_equals_an_uninterrupted_run() {
    let cache = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    let args = [
        "train",
        "--dataset",
        "cora",
        "--model",
        "vgae",
        "--epochs",
        "60",
        "--checkpoint-every",
        "1",
        "--keep-last",
        "2",
        "--json",
        "--out",
    ];
    let t0 = std::time::Instant::now();
    let straight = json(&run_ok(vgae(cache.path()).args(args).arg(&a)));
    // Kill points as fractions of an uninterrupted run, so a faster build still gets killed mid-run.
    let total = t0.elapsed().as_secs_f64();

    let mut child = vgae(cache.path())
        .args(args)
        .arg(&b)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut kills = 0;
    for frac in [0.5, 0.3, 0.6, 0.25] {
        std::thread::sleep(Duration::from_secs_f64(total * frac));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        checkpoints_all_load(&b, |p| {
            vgae_core::checkpoint::load(p, &candle_core::Device::Cpu).map(|_| ())
        });
        if b.join("result.json").exists() {
            break;
        }
        if !b.join("checkpoints/latest").exists() {
            // Killed before the first checkpoint: start over.
            child = vgae(cache.path())
                .args(args)
                .arg(&b)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            continue;
        }
        child = vgae(cache.path())
            .args(["resume"])
            .arg(&b)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
    }
    child.wait().unwrap();
    if !b.join("result.json").exists() {
        run_ok(vgae(cache.path()).args(["resume"]).arg(&b));
    }
    assert!(
        kills >= 1,
        "the run finished before it could be killed: make it longer"
    );
    checkpoints_all_load(&b, |p| {
        vgae_core::checkpoint::load(p, &candle_core::Device::Cpu).map(|_| ())
    });
    let resumed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.join("result.json")).unwrap()).unwrap();
    for k in [
        "test_auc",
        "test_ap",
        "val_auc",
        "val_ap",
        "best_epoch",
        "best_test_auc",
        "epochs",
    ] {
        assert_eq!(straight[k], resumed[k], "{k} differs after {kills} kills");
    }
    let ta: Vec<_> = tensors(&a.join("model.safetensors"))
        .into_iter()
        .filter(|(k, _, _)| k.starts_with("encoder."))
        .collect();
    let tb: Vec<_> = tensors(&b.join("model.safetensors"))
        .into_iter()
        .filter(|(k, _, _)| k.starts_with("encoder."))
        .collect();
    assert_eq!(ta, tb);
    assert_eq!(metrics(&a), metrics(&b));
    // Only the last two periodic checkpoints are kept.
    let n = std::fs::read_dir(b.join("checkpoints"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".safetensors")
        })
        .count();
    assert!(n <= 2, "{n} periodic checkpoints kept");
}

#[test]
fn eval_and_embed_from_a_checkpoint_alone() {
    let cache = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("r");
    let res = json(&run_ok(
        vgae(cache.path())
            .args([
                "train", "--model", "gae", "--epochs", "30", "--json", "--out",
            ])
            .arg(&run),
    ));
    let ev = json(&run_ok(
        vgae(cache.path())
            .args(["eval", "--json"])
            .arg(run.join("model.safetensors")),
    ));
    assert_eq!(ev["test_auc"], res["test_auc"]);
    assert_eq!(ev["val_ap"], res["val_ap"]);
    for ext in ["npy", "csv", "safetensors"] {
        let out = root.path().join(format!("emb.{ext}"));
        run_ok(
            vgae(cache.path())
                .args(["embed"])
                .arg(&run)
                .arg("--out")
                .arg(&out),
        );
        let bytes = std::fs::read(&out).unwrap();
        match ext {
            "npy" => {
                assert!(bytes.starts_with(b"\x93NUMPY"));
                assert_eq!((bytes.len() - 128) / 4, 2708 * 16);
            }
            "csv" => {
                let text = String::from_utf8(bytes).unwrap();
                assert_eq!(text.lines().count(), 2708);
                assert_eq!(text.lines().next().unwrap().split(',').count(), 16);
            }
            _ => {
                let ck = vgae_core::checkpoint::load(&out, &candle_core::Device::Cpu).unwrap();
                assert_eq!(ck.tensors["embedding"].dims(), &[2708, 16]);
            }
        }
    }
    let e = common::run_err(
        vgae(cache.path())
            .args(["embed"])
            .arg(&run)
            .args(["--out", "x.txt"]),
    );
    assert!(e.contains(".npy"), "{e}");
}
