//! `vgae data pull` through hf-hub against a mock hub on 127.0.0.1 serving ../shared/data.

mod common;
use common::mock_hub::MockHub;
use common::{data_dir, run_err, run_ok, vgae};

#[test]
fn pull_cora_through_the_mock_hub_then_offline() {
    let cache = tempfile::tempdir().unwrap();
    let hub = MockHub::start(&data_dir(), &[]);
    let out = run_ok(
        vgae(cache.path())
            .env("HF_ENDPOINT", &hub.url)
            .args(["data", "pull", "cora"]),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2708 nodes"));
    // The cached copy is the same graph as the local files.
    let snapshot = std::fs::read_dir(cache.path().join("datasets--vgae-rs--planetoid/snapshots"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let pulled = vgae_data::planetoid::load_dir("cora", &snapshot.join("data")).unwrap();
    let local = vgae_data::planetoid::load_dir("cora", &data_dir().join("planetoid")).unwrap();
    assert_eq!(pulled.edges, local.edges);
    assert_eq!(pulled.features, local.features);
    assert_eq!(pulled.labels, local.labels);
    // Hub gone: the pull answers from the cache.
    drop(hub);
    let out = run_ok(
        vgae(cache.path())
            .env("HF_ENDPOINT", "http://127.0.0.1:9")
            .args(["data", "pull", "cora"]),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("verified"));
}

#[test]
fn pulled_citeseer_is_found_without_a_data_dir() {
    let cache = tempfile::tempdir().unwrap();
    let hub = MockHub::start(&data_dir(), &[]);
    run_ok(vgae(cache.path()).env("HF_ENDPOINT", &hub.url).args([
        "data",
        "pull",
        "citeseer",
        "--revision",
        "main",
    ]));
    drop(hub);
    let out = run_ok(vgae(cache.path()).args(["data", "info", "citeseer", "--json"]));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["nodes"], 3327);
    assert_eq!(v["edges"], 4552);
}

#[test]
fn a_corrupt_download_is_rejected_and_evicted() {
    let cache = tempfile::tempdir().unwrap();
    let hub = MockHub::start(&data_dir(), &["--corrupt", "ind.cora.graph"]);
    let e = run_err(
        vgae(cache.path())
            .env("HF_ENDPOINT", &hub.url)
            .args(["data", "pull", "cora"]),
    );
    assert!(e.contains("sha256") && e.contains("ind.cora.graph"), "{e}");
    // Nothing corrupt stays behind to be served later.
    drop(hub);
    let e = run_err(
        vgae(cache.path())
            .env("HF_ENDPOINT", "http://127.0.0.1:9")
            .args(["data", "pull", "cora"]),
    );
    assert!(e.contains("not in the cache"), "{e}");
    // Unknown names and malformed repos are refused before any network use.
    let e = run_err(vgae(cache.path()).args(["data", "pull", "mnist2"]));
    assert!(e.contains("unknown dataset"), "{e}");
    let e = run_err(vgae(cache.path()).args(["data", "pull", "cora", "--repo", "noslash"]));
    assert!(e.contains("OWNER/NAME"), "{e}");
}
