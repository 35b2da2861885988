//! The model family from the command line: `vgae train --model arga|argva|linear-gae|linear-vgae`, `--layers`,
//! `--weighted`, each named in the result and evaluated again from its checkpoint.

mod common;
use common::{json, run_err, run_ok, vgae};

#[test]
fn every_model_trains_and_evaluates_from_its_checkpoint() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (&["--model", "arga"], "ARGA"),
        (&["--model", "argva", "--features", "none"], "ARGVA*"),
        (&["--model", "linear-gae"], "LinearGAE"),
        (&["--model", "linear-vgae"], "LinearVGAE"),
        (&["--model", "gae", "--layers", "32,24"], "GAE-32-24"),
    ];
    for (i, (flags, label)) in cases.iter().enumerate() {
        let run = dir.path().join(format!("r{i}"));
        let trained = json(&run_ok(
            vgae(cache.path())
                .args([
                    "train",
                    "--dataset",
                    "cora",
                    "--loss",
                    "sampled",
                    "--epochs",
                    "5",
                    "--json",
                ])
                .args(*flags)
                .arg("--out")
                .arg(&run),
        ));
        assert_eq!(trained["label"], *label, "{flags:?}");
        let evaluated = json(&run_ok(
            vgae(cache.path()).args(["eval", "--json"]).arg(&run),
        ));
        assert_eq!(
            evaluated["test_auc"], trained["test_auc"],
            "{label}: eval differs from training"
        );
        assert_eq!(evaluated["model"], *label);
    }
    let e = run_err(vgae(cache.path()).args([
        "train",
        "--model",
        "linear-gae",
        "--layers",
        "32",
        "--epochs",
        "1",
    ]));
    assert!(e.contains("--layers") && e.contains("linear"), "{e}");
    // Cora has no edge weights: --weighted says so instead of training unweighted.
    let e = run_err(
        vgae(cache.path())
            .args(["train", "--weighted", "--epochs", "1", "--out"])
            .arg(dir.path().join("w")),
    );
    assert!(e.contains("no edge weights"), "{e}");
}

/// A weighted edge list trains with --weighted, and the weights change the run (same seed, same split).
#[test]
fn weights_change_a_weighted_run() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let karate = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vgae-core/examples/data/karate.csv"
    );
    let text = std::fs::read_to_string(karate).unwrap();
    let mut weighted = String::from("source,target,weight\n");
    for (i, line) in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("source"))
        .enumerate()
    {
        weighted.push_str(&format!("{line},{}\n", 1 + (i % 5) * 3));
    }
    let file = dir.path().join("karate-w.csv");
    std::fs::write(&file, weighted).unwrap();
    let train = |extra: &[&str], out: &str| {
        json(&run_ok(
            vgae(cache.path())
                .arg("train")
                .arg("--dataset")
                .arg(&file)
                .args([
                    "--epochs",
                    "30",
                    "--val-frac",
                    "0.15",
                    "--test-frac",
                    "0.3",
                    "--json",
                ])
                .args(extra)
                .arg("--out")
                .arg(dir.path().join(out)),
        ))
    };
    let plain = train(&[], "plain");
    let w = train(&["--weighted"], "weighted");
    assert_ne!(
        plain["val_auc"], w["val_auc"],
        "weights in Â must change the run"
    );
}

/// A directed graph from `vgae data synth --directed`: trained with --directed, a gravity decoder and the
/// biased-negatives task, scored in both directions, evaluated again from its checkpoint; the flags that
/// do not fit are refused by name.
#[test]
fn a_directed_graph_trains_with_an_asymmetric_decoder() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("arcs.csv");
    let made = run_ok(
        vgae(cache.path())
            .args(["data", "synth", "--directed", "--nodes", "300", "--out"])
            .arg(&file),
    );
    assert!(String::from_utf8_lossy(&made.stdout).contains("reciprocated"));
    let run = dir.path().join("g");
    let trained = json(&run_ok(
        vgae(cache.path())
            .arg("train")
            .arg("--dataset")
            .arg(&file)
            .args([
                "--directed",
                "--decoder",
                "gravity",
                "--task",
                "biased",
                "--model",
                "gae",
            ])
            .args(["--epochs", "5", "--json", "--out"])
            .arg(&run),
    ));
    assert_eq!(trained["label"], "Gravity-GAE*");
    let evaluated = json(&run_ok(
        vgae(cache.path()).args(["eval", "--json"]).arg(&run),
    ));
    assert_eq!(evaluated["test_auc"], trained["test_auc"]);
    // The first arc of the file, both ways: an asymmetric decoder scores them apart.
    let text = std::fs::read_to_string(&file).unwrap();
    let first = text.lines().nth(1).unwrap();
    let (u, v) = first.split_once(',').unwrap();
    let pairs = dir.path().join("pairs.csv");
    std::fs::write(&pairs, format!("{u},{v}\n{v},{u}\n")).unwrap();
    let scored = json(&run_ok(
        vgae(cache.path())
            .args(["score", "--json", "--pairs"])
            .arg(&pairs)
            .arg(run.join("model.safetensors")),
    ));
    assert_ne!(scored[0]["probability"], scored[1]["probability"]);
    // --task without --directed, and an odd embedding for the source/target decoder.
    let e = run_err(
        vgae(cache.path())
            .arg("train")
            .arg("--dataset")
            .arg(&file)
            .args(["--task", "biased", "--epochs", "1"]),
    );
    assert!(e.contains("--directed"), "{e}");
    let e = run_err(
        vgae(cache.path())
            .arg("train")
            .arg("--dataset")
            .arg(&file)
            .args([
                "--directed",
                "--decoder",
                "source-target",
                "--latent",
                "15",
                "--epochs",
                "1",
            ])
            .arg("--out")
            .arg(dir.path().join("odd")),
    );
    assert!(e.contains("--latent 15"), "{e}");
}
