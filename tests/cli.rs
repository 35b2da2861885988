//! The `vgae` binary end to end: data info, splits, training, reproduce, errors.

mod common;
use common::{data_dir, json, run_err, run_ok, vgae};

#[test]
fn data_info_matches_the_data_readme_and_cora_is_embedded() {
    let cache = tempfile::tempdir().unwrap();
    // No data dir, empty hub cache: Cora comes from the binary itself.
    let v = json(&run_ok(
        vgae(cache.path()).args(["data", "info", "cora", "--json"]),
    ));
    assert_eq!(
        (
            v["nodes"].as_u64(),
            v["edges"].as_u64(),
            v["features"].as_u64(),
            v["classes"].as_u64()
        ),
        (Some(2708), Some(5278), Some(1433), Some(7))
    );
    for (name, nodes, edges, feats, classes) in [
        ("citeseer", 3327, 4552, 3703, 6),
        ("pubmed", 19717, 44324, 500, 3),
    ] {
        let v = json(&run_ok(
            vgae(cache.path())
                .args(["data", "info", name, "--json"])
                .env("VGAE_DATA_DIR", data_dir()),
        ));
        assert_eq!(
            (
                v["nodes"].as_u64(),
                v["edges"].as_u64(),
                v["features"].as_u64(),
                v["classes"].as_u64()
            ),
            (Some(nodes), Some(edges), Some(feats), Some(classes)),
            "{name}"
        );
    }
    let text = String::from_utf8(run_ok(vgae(cache.path()).args(["data", "info", "cora"])).stdout)
        .unwrap();
    assert!(
        text.contains("label counts       [351, 217, 418, 818, 426, 298, 180]"),
        "{text}"
    );
}

#[test]
fn bad_names_and_missing_data_are_clear_errors() {
    let cache = tempfile::tempdir().unwrap();
    let e = run_err(vgae(cache.path()).args(["data", "info", "cora2"]));
    assert!(
        e.contains("unknown dataset 'cora2'") && e.contains("citeseer"),
        "{e}"
    );
    let e = run_err(vgae(cache.path()).args(["data", "info", "citeseer"]));
    assert!(
        e.contains("VGAE_DATA_DIR") && e.contains("vgae data pull citeseer"),
        "{e}"
    );
    let e = run_err(vgae(cache.path()).args([
        "train",
        "--dataset",
        "cora",
        "--epochs",
        "1",
        "--device",
        "cuda",
    ]));
    assert!(e.contains("--device cuda"), "{e}");
}

#[test]
fn split_make_and_audit() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.safetensors");
    run_ok(
        vgae(cache.path())
            .args(["split", "make", "cora", "--seed", "4", "--out"])
            .arg(&f),
    );
    let out = run_ok(
        vgae(cache.path())
            .args(["split", "audit"])
            .arg(&f)
            .args(["--dataset", "cora"]),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("OK"));
    // A Citeseer split audited against Cora fails and names the mismatch.
    let g = dir.path().join("c.safetensors");
    run_ok(
        vgae(cache.path())
            .env("VGAE_DATA_DIR", data_dir())
            .args(["split", "make", "citeseer", "--out"])
            .arg(&g),
    );
    let e = run_err(
        vgae(cache.path())
            .args(["split", "audit"])
            .arg(&g)
            .args(["--dataset", "cora"]),
    );
    assert!(
        e.contains("audit failed") && e.contains("fingerprint"),
        "{e}"
    );
    // A truncated split file is an error naming the file.
    let bytes = std::fs::read(&f).unwrap();
    std::fs::write(&f, &bytes[..bytes.len() / 2]).unwrap();
    let e = run_err(
        vgae(cache.path())
            .args(["split", "audit"])
            .arg(&f)
            .args(["--dataset", "cora"]),
    );
    assert!(e.contains("s.safetensors"), "{e}");
}

#[test]
fn train_writes_a_run_directory_and_json() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = run_ok(
        vgae(cache.path())
            .args([
                "train",
                "--dataset",
                "cora",
                "--model",
                "gae",
                "--epochs",
                "4",
                "--json",
                "--out",
            ])
            .arg(&run),
    );
    let v = json(&out);
    for k in [
        "test_auc",
        "test_ap",
        "val_auc",
        "val_ap",
        "epochs",
        "train_seconds",
        "best_test_auc",
    ] {
        assert!(v[k].is_number(), "missing {k} in {v}");
    }
    assert_eq!(v["epochs"].as_u64(), Some(4));
    for f in [
        "config.json",
        "metrics.jsonl",
        "curves.png",
        "model.safetensors",
        "split.safetensors",
        "result.json",
    ] {
        assert!(run.join(f).is_file(), "run dir lacks {f}");
    }
    let lines = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 4);
    let cfg: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["model"], "gae");
    // The saved split passes the audit.
    run_ok(
        vgae(cache.path())
            .args(["split", "audit"])
            .arg(run.join("split.safetensors"))
            .args(["--dataset", "cora"]),
    );

    // --verify-only checks every tensor's sha256 without the dataset; a flipped bit names the file.
    let ok = run_ok(vgae(cache.path()).args(["eval", "--verify-only"]).arg(&run));
    let ok = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.contains("every sha256 matches"), "{ok}");
    let ck = run.join("model.safetensors");
    let mut bytes = std::fs::read(&ck).unwrap();
    let last = bytes.len() - 2; // inside the last tensor's data
    bytes[last] ^= 0x01;
    std::fs::write(&ck, &bytes).unwrap();
    let e = run_err(vgae(cache.path()).args(["eval", "--verify-only"]).arg(&run));
    assert!(
        e.contains("model.safetensors") && e.contains("sha256"),
        "{e}"
    );
    let e = run_err(vgae(cache.path()).args(["eval"]).arg(&run));
    assert!(e.contains("does not match the sha256"), "{e}");
}

#[test]
fn reproduce_prints_rows_beside_the_paper() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = run_ok(
        vgae(cache.path())
            .args([
                "reproduce",
                "table1",
                "--datasets",
                "cora",
                "--models",
                "gae,vgae-x",
                "--seeds",
                "2",
                "--epochs",
                "3",
                "--json",
                "--out",
            ])
            .arg(dir.path()),
    );
    let rows = json(&out);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["model"], "GAE");
    assert_eq!(rows[1]["model"], "VGAE*");
    for k in ["auc_mean", "auc_std", "ap_mean", "ap_std"] {
        assert!(rows[0][k].is_number());
    }
    assert_eq!(rows[0]["seeds"], 2);
    assert_eq!(rows[0]["paper_auc"], 91.0);
    let md = std::fs::read_to_string(dir.path().join("table1.md")).unwrap();
    assert!(md.contains("| GAE | cora |"), "{md}");
    let all: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("table1.json")).unwrap())
            .unwrap();
    assert_eq!(all["runs"].as_array().unwrap().len(), 4);
}

#[test]
fn an_unwritable_output_directory_is_refused_before_training() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the run's parent directory should be: nothing can be created under it (and,
    // unlike a read-only mode, this holds for root too).
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let out = vgae(cache.path())
        .args(["train", "--model", "gae", "--epochs", "100000", "--out"])
        .arg(file.join("run"))
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.contains("not-a-dir/run") && e.contains("Not a directory"),
        "{e}"
    );
    // 100000 epochs would take minutes: the refusal came first.
    assert!(!e.contains("epoch"), "{e}");
}

#[test]
fn minibatch_writes_its_run_directory_and_resumes_a_finished_run_to_the_same_result() {
    let cache = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("mb");
    let args = [
        "minibatch",
        "--dataset",
        "sbm:600",
        "--batch-edges",
        "256",
        "--fanouts",
        "3,0",
        "--history",
        "--epochs",
        "2",
        "--json",
        "--out",
    ];
    let first = json(&run_ok(vgae(cache.path()).args(args).arg(&run)));
    let auc = first["test_auc"].as_f64().unwrap();
    assert!(auc > 0.5 && auc <= 1.0, "{first}");
    for f in [
        "run.json",
        "split.safetensors",
        "result.json",
        "final.safetensors",
    ] {
        assert!(run.join(f).is_file(), "{f} missing");
    }
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 2);
    let again = json(&run_ok(
        vgae(cache.path())
            .args(["minibatch", "--json", "--resume"])
            .arg(&run),
    ));
    assert_eq!(first["test_auc"], again["test_auc"]);
    assert_eq!(first["test_ap"], again["test_ap"]);
    // A history with a sampled last layer is refused, naming the flag.
    let err = run_err(
        vgae(cache.path())
            .args([
                "minibatch",
                "--dataset",
                "sbm:100",
                "--history",
                "--fanouts",
                "5,5",
                "--out",
            ])
            .arg(root.path().join("bad")),
    );
    assert!(
        err.contains("--history") && err.contains("fan-out"),
        "{err}"
    );
}

/// A launch of several MPI ranks (as `mpirun -np 2` announces it in the environment) of a build without
/// MPI is refused before any work, saying how to build; it never becomes two runs writing one directory.
#[test]
fn several_ranks_without_an_mpi_build_are_refused() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let out = vgae(cache.path())
        .env("OMPI_COMM_WORLD_SIZE", "2")
        .args(["train", "--model", "vgae", "--epochs", "100000", "--out"])
        .arg(&run)
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{e}");
    assert!(
        e.contains("2 MPI ranks") && e.contains("--features mpi"),
        "{e}"
    );
    assert!(!run.exists(), "a refused launch made {}", run.display());
}

#[test]
fn gpu_rank_launches_without_an_nccl_build_are_refused_and_world_size_1_runs() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let launch = |c: &mut std::process::Command, rank: &str, size: &str| {
        c.env("RANK", rank)
            .env("WORLD_SIZE", size)
            .env("LOCAL_RANK", rank);
    };
    let mut c = vgae(cache.path());
    launch(&mut c, "0", "2");
    let e = run_err(c.args(["train", "--epochs", "100000", "--out"]).arg(&run));
    assert!(
        e.contains("WORLD_SIZE=2") && e.contains("--features nccl"),
        "{e}"
    );
    assert!(!run.exists(), "a refused launch made {}", run.display());
    let mut c = vgae(cache.path());
    launch(&mut c, "1", "2");
    let e = run_err(
        c.args(["minibatch", "--dataset", "sbm:1000", "--out"])
            .arg(&run),
    );
    assert!(e.contains("mpirun"), "{e}");
    let mut c = vgae(cache.path());
    launch(&mut c, "x", "2");
    let e = run_err(c.args(["train", "--out"]).arg(&run));
    assert!(e.contains("RANK=\"x\""), "{e}");
    // One process, as many containers leave in the environment: an ordinary run.
    let mut c = vgae(cache.path());
    launch(&mut c, "0", "1");
    run_ok(
        c.args([
            "train", "--model", "gae", "--epochs", "2", "--json", "--out",
        ])
        .arg(&run),
    );
    assert!(run.join("model.safetensors").is_file());
}
