//! VAE checkpoints end to end: `vgae resume` (2 epochs + resume to 4 equals 4 straight, bit for bit), kill
//! safety (aborted at named moments of checkpoint writes and mid-epoch, or a disk-full write, then resume), and `vgae eval` / `vgae sample` from a
//! checkpoint alone. The errors for mismatched, newer-format and truncated checkpoints are in
//! `vae_checkpoints.rs`. MNIST comes from `VGAE_DATA_DIR` (these tests fail, never skip, when it is missing).

mod common;
use common::{
    checkpoints_all_load, crash_then_resume, json, metrics, mnist_vgae as v, periodic_checkpoints,
    run_ok, temporary_files, tensors, VAE_SMALL,
};
use std::path::Path;

fn checkpoints_all_load_vae(dir: &Path) {
    checkpoints_all_load(dir, |p| {
        vgae_core::vae::train::Checkpoint::read(p, &candle_core::Device::Cpu).map(|_| ())
    });
}

fn assert_same_run(a: &Path, b: &Path, what: &str) {
    let (ta, tb) = (
        tensors(&a.join("model.safetensors")),
        tensors(&b.join("model.safetensors")),
    );
    assert!(ta.iter().any(|(k, _, _)| k == "encoder.fc1.weight"));
    assert!(ta
        .iter()
        .any(|(k, _, _)| k == "optimizer.encoder.fc1.weight.sum"));
    assert_eq!(ta.len(), tb.len(), "{what}: tensor count");
    for (x, y) in ta.iter().zip(&tb) {
        assert!(x == y, "{what}: tensor {} differs", x.0);
    }
    assert_eq!(metrics(a), metrics(b), "{what}: metrics.jsonl");
    let meta =
        |d: &Path| vgae_core::checkpoint::load_metadata(&d.join("model.safetensors")).unwrap();
    let (ma, mb) = (meta(a), meta(b));
    for k in ["epoch", "optimizer_steps", "rng", "dataset_fingerprint"] {
        assert_eq!(ma[k], mb[k], "{what}: metadata '{k}'");
    }
}

#[test]
fn two_epochs_then_resume_equals_four_straight() {
    let cache = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    let straight = json(&run_ok(
        v(cache.path())
            .args(VAE_SMALL)
            .args(["--epochs", "4", "--out"])
            .arg(&a),
    ));
    let half = json(&run_ok(
        v(cache.path())
            .args(VAE_SMALL)
            .args(["--epochs", "2", "--checkpoint-every", "1", "--out"])
            .arg(&b),
    ));
    assert_eq!(half["epochs"], 2);
    // The run directory resumes from its newest checkpoint (the final one, epoch 2, not checkpoints/ epoch 1).
    let resumed = json(&run_ok(
        v(cache.path())
            .args(["resume", "--epochs", "4", "--json"])
            .arg(&b),
    ));
    for k in ["test_neg_elbo", "train_neg_elbo", "epochs", "z", "dataset"] {
        assert_eq!(straight[k], resumed[k], "{k}");
    }
    assert_eq!(resumed["epochs"], 4);
    assert_same_run(&a, &b, "2 + resume to 4 vs 4 straight");
    checkpoints_all_load_vae(&b);

    // eval recomputes the last epoch's test −ELBO exactly, from the file, the run dir or a periodic one.
    for target in [a.join("model.safetensors"), a.clone()] {
        let e = json(&run_ok(
            v(cache.path()).args(["eval", "--json"]).arg(&target),
        ));
        assert_eq!(
            e["test_neg_elbo"],
            straight["test_neg_elbo"],
            "{}",
            target.display()
        );
        assert_eq!(e["epoch"], 4);
    }
    let third = b.join("checkpoints/epoch-000003.safetensors");
    let e = json(&run_ok(
        v(cache.path()).args(["eval", "--json"]).arg(&third),
    ));
    assert_eq!(e["epoch"], 3);
    assert_eq!(e["test_neg_elbo"], metrics(&a)[2]["test_neg_elbo"]);

    // A checkpoint file (not its directory) resumes too, into its run directory.
    let resumed5 = json(&run_ok(
        v(cache.path())
            .args(["resume", "--epochs", "5", "--json"])
            .arg(b.join("model.safetensors")),
    ));
    assert_eq!(resumed5["epochs"], 5);
    assert_eq!(metrics(&b).len(), 5);

    // sample works from any VAE checkpoint: final, periodic, run directory.
    for (i, src) in [a.join("model.safetensors"), third, b.clone()]
        .iter()
        .enumerate()
    {
        let png = root.path().join(format!("grid{i}.png"));
        run_ok(
            v(cache.path())
                .arg("sample")
                .arg(src)
                .args(["--n", "64", "--out"])
                .arg(&png),
        );
        let bytes = std::fs::read(&png).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{}", png.display());
    }
}

#[test]
fn a_crash_at_each_named_moment_then_resume_equals_an_uninterrupted_vae_run() {
    let cache = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let a = root.path().join("a");
    let train = |out: &Path| {
        let mut c = v(cache.path());
        c.args(VAE_SMALL)
            .args([
                "--epochs",
                "6",
                "--checkpoint-every",
                "1",
                "--keep-last",
                "2",
                "--out",
            ])
            .arg(out);
        c
    };
    let straight = json(&run_ok(&mut train(&a)));
    for (i, fault) in [
        "mid-write@epoch-000003",
        "before-rename@epoch-000003",
        "after-rename@latest#2",
        "mid-epoch@4",
        "mid-write@model.safetensors",
        "enospc@epoch-000004",
    ]
    .iter()
    .enumerate()
    {
        let b = root.path().join(format!("b{i}"));
        crash_then_resume(
            fault,
            || train(&b),
            || {
                let mut c = v(cache.path());
                c.args(["resume", "--json"]).arg(&b);
                c
            },
            checkpoints_all_load_vae,
        );
        assert_same_run(&a, &b, fault);
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(b.join("result.json")).unwrap()).unwrap();
        assert_eq!(
            summary["test_neg_elbo"], straight["test_neg_elbo"],
            "{fault}"
        );
        assert_eq!(
            summary["train_neg_elbo"], straight["train_neg_elbo"],
            "{fault}"
        );
        let kept = periodic_checkpoints(&b);
        assert!(kept <= 2, "{fault}: {kept} periodic checkpoints kept");
        let leftovers = temporary_files(&b);
        assert!(
            leftovers.is_empty(),
            "{fault}: temporary files left: {leftovers:?}"
        );
    }
}

#[test]
fn a_wake_sleep_run_resumes_like_every_other_run() {
    let cache = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    let ws = [
        "--algorithm",
        "wake-sleep",
        "--weight-decay",
        "0.05",
        "--arch",
        "paper",
    ];
    let straight = json(&run_ok(
        v(cache.path())
            .args(VAE_SMALL)
            .args(ws)
            .args(["--epochs", "2", "--out"])
            .arg(&a),
    ));
    run_ok(
        v(cache.path())
            .args(VAE_SMALL)
            .args(ws)
            .args(["--epochs", "1", "--out"])
            .arg(&b),
    );
    let resumed = json(&run_ok(
        v(cache.path())
            .args(["resume", "--epochs", "2", "--json"])
            .arg(&b),
    ));
    assert_eq!(straight["test_neg_elbo"], resumed["test_neg_elbo"]);
    assert_same_run(&a, &b, "wake-sleep 1 + resume to 2 vs 2 straight");
    let cfg = vgae_core::checkpoint::load_metadata(&a.join("model.safetensors")).unwrap();
    assert!(
        cfg["config"].contains("\"algorithm\":\"wake-sleep\""),
        "{}",
        cfg["config"]
    );
    // And it differs from the AEVB run of the same settings.
    let aevb = json(&run_ok(
        v(cache.path())
            .args(VAE_SMALL)
            .args([
                "--arch",
                "paper",
                "--weight-decay",
                "0.05",
                "--epochs",
                "2",
                "--out",
            ])
            .arg(root.path().join("c")),
    ));
    assert_ne!(aevb["test_neg_elbo"], straight["test_neg_elbo"]);
}
