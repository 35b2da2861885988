//! `vgae hub push`, `hf://` checkpoints and `vgae data publish` against the mock hub (tests/mock_hub.py),
//! which records every request: one commit per push, nothing applied from an interrupted upload, and a
//! tampered download refused and evicted.

mod common;
use common::mock_hub::MockHub;
use common::{data_dir, json, run_err, run_ok, vgae};
use std::path::Path;

/// Trains a small VGAE on the embedded Cora into `dir`; returns its `--json` result.
fn train(cache: &Path, dir: &Path, epochs: &str) -> serde_json::Value {
    json(&run_ok(
        vgae(cache)
            .args([
                "--quiet",
                "train",
                "--dataset",
                "cora",
                "--epochs",
                epochs,
                "--json",
                "--out",
            ])
            .arg(dir),
    ))
}

/// `vgae` talking to the hub at `url`.
fn via(cache: &Path, url: &str) -> std::process::Command {
    let mut c = vgae(cache);
    c.env("HF_ENDPOINT", url);
    c
}

fn push(cache: &Path, hub: &MockHub, run: &Path, repo: &str) -> std::process::Command {
    let mut c = vgae(cache);
    c.env("HF_ENDPOINT", &hub.url)
        .env("HF_TOKEN", "hf_test")
        .args(["hub", "push"])
        .arg(run)
        .args(["--repo", repo]);
    c
}

#[test]
fn a_pushed_run_loads_from_hf_and_its_card_reproduces_it() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let run = tmp.path().join("run");
    let trained = train(&cache, &run, "30");
    let hub = MockHub::start(&data_dir(), &[]);
    run_ok(&mut push(&cache, &hub, &run, "lab/vgae-cora"));
    // One repository creation, one commit, everything in it.
    let writes: Vec<String> = hub
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("POST"))
        .collect();
    assert_eq!(
        writes,
        [
            "POST /api/repos/create",
            "POST /api/models/lab/vgae-cora/preupload/main",
            "POST /api/models/lab/vgae-cora/commit/main"
        ]
    );
    // Evaluated from the hub: the run's own numbers.
    let hf = |args: &[&str]| {
        let mut c = vgae(&cache);
        c.env("HF_ENDPOINT", &hub.url).args(args);
        c
    };
    let ev = json(&run_ok(&mut hf(&["eval", "hf://lab/vgae-cora", "--json"])));
    assert_eq!(ev["test_auc"], trained["test_auc"]);
    let z = tmp.path().join("z.npy");
    run_ok(hf(&["embed", "hf://lab/vgae-cora@main", "--out"]).arg(&z));
    assert!(std::fs::metadata(&z).unwrap().len() > 2708 * 16 * 4);
    // The card names the metrics and the command; running that command gives them again.
    let snapshot = common::files_under(&cache)
        .into_iter()
        .find(|p| p.ends_with("README.md"))
        .unwrap();
    let card = std::fs::read_to_string(snapshot).unwrap();
    assert!(
        card.contains(&format!(
            "| test AUC | {:.4} |",
            trained["test_auc"].as_f64().unwrap()
        )),
        "{card}"
    );
    assert!(
        card.contains("vgae_checkpoint_sha256: ")
            && card.contains("vgae.load(\"hf://lab/vgae-cora\")")
    );
    let cmd = card.lines().find(|l| l.starts_with("vgae train ")).unwrap();
    let args: Vec<&str> = cmd.split_whitespace().skip(1).collect();
    let again = tmp.path().join("again");
    let out = run_ok(
        vgae(&cache)
            .arg("--quiet")
            .args(&args)
            .args(["--json", "--out"])
            .arg(&again),
    );
    assert_eq!(json(&out)["test_auc"], trained["test_auc"]);
    // Resuming from the hub continues in a local copy: 30 + 10 epochs equal 40 straight.
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let resumed = run_ok(
        hf(&[
            "--quiet",
            "resume",
            "hf://lab/vgae-cora",
            "--epochs",
            "40",
            "--json",
        ])
        .current_dir(&work),
    );
    assert!(work
        .join("runs/hub/lab--vgae-cora/model.safetensors")
        .is_file());
    let straight = train(&cache, &tmp.path().join("straight"), "40");
    assert_eq!(json(&resumed)["test_auc"], straight["test_auc"]);
    // Offline, the verified copy in the cache still loads.
    drop(hub);
    let mut off = vgae(&cache);
    off.env("HF_ENDPOINT", "http://127.0.0.1:9")
        .args(["eval", "hf://lab/vgae-cora", "--json"]);
    assert_eq!(json(&run_ok(&mut off))["test_auc"], trained["test_auc"]);
}

#[test]
fn push_needs_a_token_and_an_interrupted_upload_leaves_nothing_half_done() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let run = tmp.path().join("run");
    train(&cache, &run, "5");
    let hub = MockHub::start(&data_dir(), &["--drop-commits", "1"]);
    let e = run_err(push(&cache, &hub, &run, "lab/m").env_remove("HF_TOKEN"));
    assert!(e.contains("HF_TOKEN"), "{e}");
    // The first commit is cut off: the push fails, and the repository holds no file.
    let e = run_err(&mut push(&cache, &hub, &run, "lab/m"));
    assert!(e.contains("hub lab/m: commit"), "{e}");
    let e = run_err(via(&cache, &hub.url).args(["eval", "hf://lab/m"]));
    assert!(e.contains("README.md"), "{e}");
    // Pushing again (the repository exists now) completes it.
    run_ok(&mut push(&cache, &hub, &run, "lab/m"));
    run_ok(via(&cache, &hub.url).args(["eval", "hf://lab/m"]));
    let e = run_err(
        vgae(&cache)
            .args(["hub", "push"])
            .arg(&run)
            .args(["--repo", "no-slash"]),
    );
    assert!(e.contains("expected OWNER/NAME"), "{e}");
    let e = run_err(vgae(&cache).args(["eval", "hf://just-a-name"]));
    assert!(e.contains("expected hf://OWNER/NAME"), "{e}");
}

#[test]
fn a_tampered_checkpoint_is_refused_and_evicted() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let run = tmp.path().join("run");
    train(&cache, &run, "5");
    let hub = MockHub::start(&data_dir(), &["--tamper", "model.safetensors"]);
    run_ok(&mut push(&cache, &hub, &run, "lab/t"));
    let e = run_err(via(&cache, &hub.url).args(["eval", "hf://lab/t"]));
    assert!(
        e.contains("tampered") && e.contains("model.safetensors"),
        "{e}"
    );
    drop(hub);
    // Nothing bad stays in the cache to be used offline.
    let e = run_err(via(&cache, "http://127.0.0.1:9").args(["eval", "hf://lab/t"]));
    assert!(e.contains("not in the cache"), "{e}");
}

#[test]
fn a_vae_pushed_to_the_hub_samples_from_hf() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let run = tmp.path().join("vae");
    run_ok(
        vgae(&cache)
            .env("VGAE_DATA_DIR", data_dir())
            .args([
                "--quiet",
                "vae",
                "train",
                "--dataset",
                "mnist",
                "--z",
                "2",
                "--epochs",
                "1",
                "--train-limit",
                "500",
                "--iwae-k",
                "0",
                "--out",
            ])
            .arg(&run),
    );
    let hub = MockHub::start(&data_dir(), &[]);
    run_ok(&mut push(&cache, &hub, &run, "lab/vae"));
    let png = tmp.path().join("s.png");
    run_ok(
        via(&cache, &hub.url)
            .args(["sample", "hf://lab/vae", "--n", "4", "--out"])
            .arg(&png),
    );
    assert!(png.is_file());
    let card = common::files_under(&cache)
        .into_iter()
        .find(|p| p.ends_with("README.md"))
        .unwrap();
    let card = std::fs::read_to_string(card).unwrap();
    assert!(
        card.contains("vgae vae train --dataset mnist --z 2 --arch lecture --hidden 500,250"),
        "{card}"
    );
}

#[test]
fn published_planetoid_files_pull_back_verified() {
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    // A hub that serves nothing but what is pushed to it.
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(empty.join("planetoid")).unwrap();
    let hub = MockHub::start(&empty, &[]);
    let publish = |datasets: &str| {
        let mut c = via(&cache, &hub.url);
        c.env("HF_TOKEN", "t")
            .env("VGAE_DATA_DIR", data_dir())
            .args([
                "data",
                "publish",
                "planetoid",
                "--repo",
                "lab/planetoid",
                "--datasets",
                datasets,
            ]);
        c
    };
    let out = run_ok(&mut publish("cora,citeseer"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("published 16 verified files"));
    let out =
        run_ok(via(&cache, &hub.url).args(["data", "pull", "citeseer", "--repo", "lab/planetoid"]));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3327 nodes"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Pubmed's allx is not in the shared data: publishing it is refused, naming the file.
    let e = run_err(&mut publish("pubmed"));
    assert!(e.contains("ind.pubmed.allx"), "{e}");
}
