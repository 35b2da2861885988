//! Kill safety without timing: `vgae train` is aborted at moments the test names (`VGAE_FAULT`: before,
//! during and after the write and rename of a checkpoint, the `latest` pointer and the final files, and
//! mid-epoch) or has a write fail with ENOSPC / EIO; every checkpoint left on disk must load, and `vgae
//! resume` must end exactly where an uninterrupted run ends.

mod common;
use common::{
    checkpoints_all_load, crash_then_resume, json, metrics, periodic_checkpoints, run_ok, tensors,
    vgae,
};

#[test]
fn a_crash_at_each_named_moment_then_resume_equals_an_uninterrupted_run() {
    let cache = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let a = root.path().join("a");
    let args = [
        "train",
        "--dataset",
        "cora",
        "--model",
        "vgae",
        "--epochs",
        "12",
        "--checkpoint-every",
        "1",
        "--keep-last",
        "2",
        "--json",
        "--out",
    ];
    let straight = json(&run_ok(vgae(cache.path()).args(args).arg(&a)));
    let encoder = |d: &std::path::Path| -> Vec<_> {
        tensors(&d.join("model.safetensors"))
            .into_iter()
            .filter(|(k, _, _)| k.starts_with("encoder."))
            .collect()
    };
    for (i, fault) in [
        "before-write@epoch-000005",
        "mid-write@epoch-000005",
        "before-rename@epoch-000005",
        "after-rename@epoch-000005",
        "mid-write@latest#3",
        "after-rename@latest#3",
        "mid-epoch@7",
        "mid-write@model.safetensors",
        "after-rename@model.safetensors",
        "mid-write@result.json",
        "enospc@epoch-000006",
        "eio@model.safetensors",
    ]
    .iter()
    .enumerate()
    {
        let b = root.path().join(format!("b{i}"));
        let train = || {
            let mut c = vgae(cache.path());
            c.args(args).arg(&b);
            c
        };
        let resume = || {
            let mut c = vgae(cache.path());
            c.args(["resume"]).arg(&b);
            c
        };
        crash_then_resume(fault, train, resume, |d| {
            checkpoints_all_load(d, |p| {
                vgae_core::checkpoint::load(p, &candle_core::Device::Cpu).map(|_| ())
            })
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
            assert_eq!(straight[k], resumed[k], "{fault}: {k} differs");
        }
        assert!(encoder(&a) == encoder(&b), "{fault}: encoder differs");
        assert_eq!(metrics(&a), metrics(&b), "{fault}: metrics.jsonl");
        // Only the last two periodic checkpoints are kept.
        let n = periodic_checkpoints(&b);
        assert!(n <= 2, "{fault}: {n} periodic checkpoints kept");
    }
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

#[test]
fn sigint_finishes_the_epoch_checkpoints_exits_130_and_resume_completes_the_run() {
    let cache = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        root.path().join("a"),
        root.path().join("b"),
        root.path().join("c"),
    );
    let args = [
        "train", "--model", "vgae", "--epochs", "30", "--json", "--out",
    ];
    let straight = json(&run_ok(vgae(cache.path()).args(args).arg(&a)));

    // SIGINT after epoch 5 (raised by the process itself, so the moment is the test's, not the clock's).
    let o = vgae(cache.path())
        .args(args)
        .arg(&b)
        .env("VGAE_FAULT", "sigint@5")
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{e}");
    assert!(
        e.contains("interrupted after epoch 5")
            && e.contains(&format!("vgae resume {}", b.display())),
        "{e}"
    );
    let ck = b.join("checkpoints/epoch-000005.safetensors");
    vgae_core::checkpoint::load(&ck, &candle_core::Device::Cpu).unwrap();
    assert_eq!(
        std::fs::read_to_string(b.join("checkpoints/latest")).unwrap(),
        "epoch-000005.safetensors"
    );
    let resumed = json(&run_ok(
        vgae(cache.path()).args(["resume", "--json"]).arg(&b),
    ));
    for k in ["test_auc", "test_ap", "val_auc", "best_epoch", "epochs"] {
        assert_eq!(straight[k], resumed[k], "{k}");
    }
    assert_eq!(metrics(&a), metrics(&b));
    assert!(tensors(&a.join("model.safetensors")) == tensors(&b.join("model.safetensors")));

    // A second SIGINT exits at once, still 130, and leaves no file half-written.
    let o = vgae(cache.path())
        .args(args)
        .arg(&c)
        .env("VGAE_FAULT", "sigint-twice@5")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(130));
    assert!(!c.join("model.safetensors").exists());
    checkpoints_all_load(&c, |p| {
        vgae_core::checkpoint::load(p, &candle_core::Device::Cpu).map(|_| ())
    });
}
