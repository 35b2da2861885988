//! `vgae train` on a user's graph (issue 23): run directories that are never clobbered, numeric flags
//! checked before any work, progress lines and `--quiet`, `--keep-best` and `--patience`.

mod common;
#[path = "own_graph_helpers.rs"]
mod helpers;
use common::{json, run_err, run_ok, vgae};
use helpers::*;

#[test]
fn run_directories_are_not_clobbered() {
    let cache = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    write_plain(d.path(), "");
    let train = |extra: &[&str]| {
        let mut c = vgae(cache.path());
        c.current_dir(d.path())
            .args([
                "train",
                "--dataset",
                "karate.csv",
                "--epochs",
                "2",
                "--json",
            ])
            .args(extra);
        c
    };
    let a = json(&run_ok(&mut train(&[])));
    let b = json(&run_ok(&mut train(&[])));
    assert_eq!(a["run_dir"], "runs/karate-vgae-x-s0");
    assert_eq!(b["run_dir"], "runs/karate-vgae-x-s0-2");
    let e = run_err(&mut train(&["--out", "runs/karate-vgae-x-s0"]));
    assert!(
        e.contains("--overwrite") && e.contains("vgae resume"),
        "{e}"
    );
    run_ok(&mut train(&[
        "--out",
        "runs/karate-vgae-x-s0",
        "--overwrite",
    ]));
}

#[test]
fn numeric_flags_are_checked_before_any_work() {
    let cache = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    for (args, want) in [
        (&["--latent", "0"][..], "1..=4096"),
        (&["--hidden", "0"], "1..=8192"),
        (&["--dropout", "1.5"], "[0, 1)"),
        (&["--dropout=-0.5"], "[0, 1)"),
        (&["--lr", "0"], "(0, 1]"),
        (&["--lr", "-1"], "(0, 1]"),
        (&["--lr=100"], "(0, 1]"),
        (&["--epochs", "0"], "1..=1000000"),
        (&["--val-frac", "0.6", "--test-frac", "0.5"], "sum below 1"),
    ] {
        let e = run_err(
            vgae(cache.path())
                .current_dir(d.path())
                .arg("train")
                .args(args),
        );
        assert!(e.contains(want), "{args:?}: {e}");
        assert!(
            !d.path().join("runs").exists(),
            "{args:?} did work before failing"
        );
    }
    // Too few edges for a validation pair.
    let tiny = d.path().join("tiny.csv");
    std::fs::write(&tiny, "0,1\n1,2\n2,3\n3,4\n4,5\n5,0\n0,3\n1,4\n2,5\n").unwrap();
    let e = run_err(vgae(cache.path()).arg("train").arg("--dataset").arg(&tiny));
    assert!(
        e.contains("validation set is empty") && e.contains("--val-frac"),
        "{e}"
    );
}

#[test]
fn progress_lines_without_a_terminal_and_quiet() {
    let cache = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    let edges = write_plain(d.path(), "");
    let out = run_ok(
        vgae(cache.path())
            .args(["train", "--epochs", "4", "--log-every", "2", "--dataset"])
            .arg(&edges)
            .arg("--out")
            .arg(d.path().join("a")),
    );
    let err = stderr(&out);
    assert!(
        err.contains("epoch 2/4: loss") && err.contains("epoch 4/4: loss"),
        "{err}"
    );
    assert_eq!(err.matches("device:").count(), 1, "{err}");
    assert!(stdout(&out).contains("(4 epochs, "), "{}", stdout(&out));
    let out = run_ok(
        vgae(cache.path())
            .args([
                "train",
                "--quiet",
                "--epochs",
                "4",
                "--val-frac",
                "0.3",
                "--test-frac",
                "0.3",
            ])
            .arg("--dataset")
            .arg(&edges)
            .arg("--out")
            .arg(d.path().join("b")),
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn keep_best_and_early_stopping() {
    let cache = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    let edges = write_plain(d.path(), "");
    let run = d.path().join("run");
    let out = run_ok(
        vgae(cache.path())
            .args([
                "train",
                "--epochs",
                "300",
                "--patience",
                "5",
                "--keep-best",
                "--json",
            ])
            .arg("--dataset")
            .arg(&edges)
            .arg("--out")
            .arg(&run),
    );
    let v = json(&out);
    let (epochs, best) = (
        v["epochs"].as_u64().unwrap(),
        v["best_epoch"].as_u64().unwrap(),
    );
    assert!(epochs < 300 && epochs == best + 5, "{v}");
    assert!(stderr(&out).contains("stopped early"), "{}", stderr(&out));
    let ev = json(&run_ok(
        vgae(cache.path())
            .args(["eval", "--json"])
            .arg(run.join("best.safetensors")),
    ));
    assert_eq!(ev["epoch"].as_u64(), Some(best));
    assert_eq!(ev["test_auc"], v["best_test_auc"]);
}
