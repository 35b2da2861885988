//! A researcher's own graph end to end (issue 23), on small graphs the tests write: edge lists read as
//! written (headers, quotes, weights kept), node ids through checkpoints, embeddings and `vgae score`,
//! checkpoints that find their dataset from anywhere, node features.

mod common;
#[path = "own_graph_helpers.rs"]
mod helpers;
use common::{json, run_err, run_ok, vgae};
use helpers::*;

#[test]
fn data_info_reports_what_the_reader_decided() {
    let cache = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    let plain = write_plain(d.path(), "person_a,person_b\n");
    let out = run_ok(vgae(cache.path()).args(["data", "info"]).arg(&plain));
    let text = stdout(&out);
    assert!(text.contains("nodes              34"), "{text}");
    assert!(text.contains("undirected edges   78"), "{text}");
    assert!(
        text.contains("header             yes: person_a, person_b"),
        "{text}"
    );
    assert!(text.contains("delimiter          comma (auto)"), "{text}");
    assert!(text.contains("id type            integer"), "{text}");
    assert!(text.contains("weight column      none"), "{text}");
    let named = write_named(d.path());
    let v = json(&run_ok(
        vgae(cache.path())
            .args(["data", "info", "--json"])
            .arg(&named),
    ));
    assert_eq!(
        (v["nodes"].as_u64(), v["edges"].as_u64()),
        (Some(34), Some(78))
    );
    assert_eq!(v["format"]["id_type"], "string");
    assert_eq!(v["format"]["weight_column"], "strength");
    assert_eq!(v["format"]["header"], true);
    // --header no reads the header row as an edge.
    let v = json(&run_ok(
        vgae(cache.path())
            .args(["data", "info", "--json", "--header", "no"])
            .arg(&plain),
    ));
    assert_eq!(v["nodes"].as_u64(), Some(36));
    let e = run_err(vgae(cache.path()).args(["data", "info", "missing/lesmis.csv"]));
    assert!(e.contains("file not found"), "{e}");
}

#[test]
fn node_ids_travel_through_checkpoint_embeddings_and_score() {
    let cache = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    let named = write_named(d.path());
    let run = d.path().join("run");
    let out = run_ok(
        vgae(cache.path())
            .args(["train", "--epochs", "30", "--json", "--out"])
            .arg(&run)
            .arg("--dataset")
            .arg(&named),
    );
    let err = stderr(&out);
    assert!(
        err.contains("column 'strength'") && err.contains("without --weighted"),
        "{err}"
    );
    assert!(err.contains("X = I"), "{err}");
    assert!(
        err.contains("warning: the validation set has only 3"),
        "{err}"
    );
    assert_eq!(json(&out)["label"], "VGAE*");
    let meta = vgae_core::checkpoint::load_metadata(&run.join("model.safetensors")).unwrap();
    let ids: Vec<String> = serde_json::from_str(&meta["node_ids"]).unwrap();
    assert_eq!((ids.len(), ids[0].as_str()), (34, "Smith, M0"));
    let csv = d.path().join("z.csv");
    run_ok(
        vgae(cache.path())
            .arg("embed")
            .arg(&run)
            .arg("--out")
            .arg(&csv),
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 35);
    assert!(
        lines[0].starts_with("id,z0,z1,") && lines[0].ends_with(",z15"),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with("\"Smith, M0\","), "{}", lines[1]);
    let npy = d.path().join("z.npy");
    run_ok(
        vgae(cache.path())
            .arg("embed")
            .arg(&run)
            .arg("--out")
            .arg(&npy),
    );
    let side = std::fs::read_to_string(d.path().join("z.ids.txt")).unwrap();
    assert_eq!(side.lines().collect::<Vec<_>>(), ids);
    let pairs = d.path().join("pairs.csv");
    std::fs::write(&pairs, "u,v\n\"Smith, M0\",member1\nmember1,member2\n").unwrap();
    let v = json(&run_ok(
        vgae(cache.path())
            .args(["score", "--json", "--pairs"])
            .arg(&pairs)
            .arg(&run),
    ));
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["source"], "Smith, M0");
    let p = rows[0]["probability"].as_f64().unwrap();
    assert!(p > 0.0 && p < 1.0, "{p}");
    let text = stdout(&run_ok(
        vgae(cache.path())
            .args(["score", "--pairs"])
            .arg(&pairs)
            .arg(&run),
    ));
    assert!(
        text.starts_with("source,target,probability\n\"Smith, M0\",member1,0."),
        "{text}"
    );
    std::fs::write(&pairs, "member1,nobody\n").unwrap();
    let e = run_err(
        vgae(cache.path())
            .args(["score", "--pairs"])
            .arg(&pairs)
            .arg(&run),
    );
    assert!(
        e.contains("line 1") && e.contains("'nobody' is not a node"),
        "{e}"
    );
}

#[test]
fn checkpoints_find_their_dataset_from_anywhere_and_refuse_another() {
    let cache = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    write_plain(d.path(), "");
    // Trained from d with a relative dataset path.
    let out = run_ok(vgae(cache.path()).current_dir(d.path()).args([
        "train",
        "--dataset",
        "karate.csv",
        "--epochs",
        "5",
        "--json",
        "--out",
        "run",
    ]));
    let trained = json(&out);
    let run = d.path().join("run");
    let ev = json(&run_ok(
        vgae(cache.path())
            .current_dir(elsewhere.path())
            .args(["eval", "--json"])
            .arg(&run),
    ));
    assert_eq!(ev["test_auc"], trained["test_auc"]);
    // Moved: "file not found", pointing at --dataset; --dataset finds it.
    let moved = elsewhere.path().join("k.csv");
    std::fs::rename(d.path().join("karate.csv"), &moved).unwrap();
    let e = run_err(vgae(cache.path()).args(["eval"]).arg(&run));
    assert!(
        e.contains("file not found") && e.contains("--dataset"),
        "{e}"
    );
    let ev = json(&run_ok(
        vgae(cache.path())
            .args(["eval", "--json", "--dataset"])
            .arg(&moved)
            .arg(&run),
    ));
    assert_eq!(ev["test_auc"], trained["test_auc"]);
    // Another graph is refused by its fingerprint.
    let other = elsewhere.path().join("other.csv");
    std::fs::write(&other, "0,1\n1,2\n2,3\n3,0\n").unwrap();
    let e = run_err(
        vgae(cache.path())
            .args(["embed", "--out", "z.csv", "--dataset"])
            .arg(&other)
            .arg(&run),
    );
    assert!(e.contains("--dataset") && e.contains("fingerprint"), "{e}");
}

#[test]
fn node_features_train_and_reload() {
    let cache = tempfile::tempdir().unwrap();
    let d = tempfile::tempdir().unwrap();
    let edges = write_plain(d.path(), "");
    let mut f = String::from("id,degree_bucket,odd\n");
    for i in 0..34 {
        f.push_str(&format!("{i},{},{}\n", i % 4, i % 2));
    }
    let feats = d.path().join("x.csv");
    std::fs::write(&feats, f).unwrap();
    let run = d.path().join("run");
    let v = json(&run_ok(
        vgae(cache.path())
            .args(["train", "--epochs", "5", "--json", "--dataset"])
            .arg(&edges)
            .arg("--node-features")
            .arg(&feats)
            .arg("--out")
            .arg(&run),
    ));
    assert_eq!(v["label"], "VGAE");
    run_ok(vgae(cache.path()).args(["eval"]).arg(&run));
    let e = run_err(
        vgae(cache.path())
            .args(["train", "--node-features"])
            .arg(&feats),
    );
    assert!(
        e.contains("--node-features") && e.contains("edge-list"),
        "{e}"
    );
}
