//! VAE checkpoints end to end: `vgae resume` (2 epochs + resume to 4 equals 4 straight, bit for bit), kill
//! safety (SIGKILL mid-run, also mid-checkpoint-write, then resume), `vgae eval` / `vgae sample` from a
//! checkpoint alone, and errors (never panics) for mismatched, newer-format and truncated checkpoints.
//! MNIST comes from `VGAE_DATA_DIR` (these tests fail, never skip, when it is missing).

mod common;
use common::{checkpoints_all_load, json, metrics, run_err, run_ok, tensors, vgae};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn mnist_dir() -> PathBuf {
    let d = common::data_dir();
    assert!(
        d.join("mnist").is_dir(),
        "VGAE_DATA_DIR={} has no mnist/ folder",
        d.display()
    );
    d
}

/// `vgae` on CPU with the shared data directory.
fn v(cache: &Path) -> Command {
    let mut c = vgae(cache);
    c.arg("--device")
        .arg("cpu")
        .arg("--data-dir")
        .arg(mnist_dir());
    c
}

/// A small, quick run: 2000 training images, no IWAE.
const SMALL: [&str; 9] = [
    "vae",
    "train",
    "--dataset",
    "mnist",
    "--train-limit",
    "2000",
    "--iwae-k",
    "0",
    "--json",
];

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
            .args(SMALL)
            .args(["--epochs", "4", "--out"])
            .arg(&a),
    ));
    let half = json(&run_ok(
        v(cache.path())
            .args(SMALL)
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
fn sigkill_then_resume_equals_an_uninterrupted_vae_run() {
    let cache = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let (a, b) = (root.path().join("a"), root.path().join("b"));
    let train = |out: &Path| {
        let mut c = v(cache.path());
        c.args(SMALL)
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
    let t0 = std::time::Instant::now();
    let straight = json(&run_ok(&mut train(&a)));
    // Kill points as fractions of an uninterrupted run, so a faster build still gets killed mid-run.
    let total = t0.elapsed().as_secs_f64();
    let quiet = |mut c: Command| {
        c.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut child = quiet(train(&b));
    let mut kills = 0;
    for frac in [0.45, 0.2, 0.3, 0.15, 0.25] {
        std::thread::sleep(Duration::from_secs_f64(total * frac));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            kills += 1;
        }
        child.wait().unwrap();
        checkpoints_all_load_vae(&b);
        if b.join("result.json").exists() {
            break;
        }
        child = if b.join("checkpoints/latest").exists() {
            let mut c = v(cache.path());
            c.args(["resume", "--json"]).arg(&b);
            quiet(c)
        } else {
            quiet(train(&b)) // killed before the first checkpoint: start over
        };
    }
    child.wait().unwrap();
    if !b.join("result.json").exists() {
        run_ok(v(cache.path()).args(["resume", "--json"]).arg(&b));
    }
    assert!(
        kills >= 1,
        "the run finished before it could be killed: make it longer"
    );
    checkpoints_all_load_vae(&b);
    assert_same_run(&a, &b, &format!("after {kills} kills"));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.join("result.json")).unwrap()).unwrap();
    assert_eq!(summary["test_neg_elbo"], straight["test_neg_elbo"]);
    assert_eq!(summary["train_neg_elbo"], straight["train_neg_elbo"]);
    let kept = std::fs::read_dir(b.join("checkpoints"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".safetensors"))
        .count();
    assert!(
        kept <= 2,
        "{kept} periodic checkpoints kept (--keep-last 2)"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&b)
        .unwrap()
        .chain(std::fs::read_dir(b.join("checkpoints")).unwrap())
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

/// Rewrites a checkpoint with one metadata field changed.
fn with_meta(src: &Path, dst: &Path, key: &str, f: impl Fn(&str) -> String) {
    let ck = vgae_core::checkpoint::load(src, &candle_core::Device::Cpu).unwrap();
    let mut meta = ck.metadata.clone();
    let old = meta.get(key).cloned().unwrap_or_default();
    meta.insert(key.into(), f(&old));
    let mut tensors: Vec<_> = ck.tensors.into_iter().collect();
    tensors.sort_by(|x, y| x.0.cmp(&y.0));
    vgae_core::checkpoint::save(dst, &tensors, &meta).unwrap();
}

fn no_panic(e: &str) {
    assert!(!e.contains("panicked"), "a panic, not an error: {e}");
}

#[test]
fn mismatched_newer_truncated_and_params_only_vae_checkpoints() {
    let cache = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("r");
    let trained = json(&run_ok(
        v(cache.path())
            .args([
                "vae",
                "train",
                "--dataset",
                "mnist",
                "--iwae-k",
                "0",
                "--json",
            ])
            .args(["--train-limit", "500", "--epochs", "1", "--out"])
            .arg(&run),
    ));
    let ck = run.join("model.safetensors");
    let meta = vgae_core::checkpoint::load_metadata(&ck).unwrap();
    assert_eq!(meta["kind"], "vae");
    assert_eq!(meta["format"], "vgae-checkpoint/2");
    assert!(meta.contains_key("dataset_fingerprint") && meta.contains_key("config"));
    let dir = root.path();
    let eval_err = |p: &Path| {
        let e = run_err(v(cache.path()).args(["eval", "--json"]).arg(p));
        no_panic(&e);
        e
    };

    // Another z: every tensor touching z is mis-shaped.
    let p = dir.join("z2.safetensors");
    with_meta(&ck, &p, "config", |s| s.replace("\"z\":20", "\"z\":2"));
    let e = eval_err(&p);
    assert!(
        e.contains("z2.safetensors")
            && e.contains("tensor 'encoder.fc_mu.weight' has shape [20, 250], expected [2, 250]")
            && e.contains("tensor 'decoder.fc1.weight' has shape [250, 20], expected [250, 2]"),
        "{e}"
    );
    // Another architecture (the paper's single hidden layer): unexpected and mis-shaped tensors.
    let p = dir.join("paper.safetensors");
    with_meta(&ck, &p, "config", |s| s.replace("[500,250]", "[500]"));
    let e = eval_err(&p);
    assert!(
        e.contains("unexpected tensor 'encoder.fc2.weight'")
            && e.contains("unexpected tensor 'decoder.fc2.bias'")
            && e.contains("tensor 'encoder.fc_mu.weight' has shape [20, 250], expected [20, 500]"),
        "{e}"
    );
    // A Gaussian decoder needs a tensor this file lacks.
    let p = dir.join("gauss.safetensors");
    with_meta(&ck, &p, "config", |s| s.replace("bernoulli", "gaussian"));
    let e = eval_err(&p);
    assert!(
        e.contains("missing tensor 'decoder.fc_out_logvar.weight' [784, 500]"),
        "{e}"
    );
    // The core API says the same when loading into a given model.
    let c = vgae_core::vae::train::Checkpoint::read(&ck, &candle_core::Device::Cpu).unwrap();
    let mut other = c.vae_cfg.clone();
    other.hidden = vec![400, 200];
    let e = c
        .model_as(&other, &candle_core::Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("tensor 'encoder.fc1.weight' has shape [500, 784], expected [400, 784]"),
        "{e}"
    );

    // Other data: another dataset, or the same one with other images.
    let p = dir.join("fashion.safetensors");
    with_meta(&ck, &p, "config", |s| {
        s.replace("\"mnist\"", "\"fashion-mnist\"")
    });
    let e = eval_err(&p);
    assert!(
        e.contains("fingerprint") && e.contains("fashion-mnist"),
        "{e}"
    );
    let p = dir.join("data.safetensors");
    with_meta(&ck, &p, "dataset_fingerprint", |_| {
        "0123456789abcdef".into()
    });
    let e = eval_err(&p);
    assert!(e.contains("fingerprint 0123456789abcdef"), "{e}");
    let e = run_err(v(cache.path()).args(["resume", "--epochs", "2"]).arg(&p));
    assert!(e.contains("fingerprint 0123456789abcdef"), "{e}");

    // A newer format.
    let p = dir.join("newer.safetensors");
    with_meta(&ck, &p, "format", |_| "vgae-vae/99".into());
    let e = eval_err(&p);
    assert!(
        e.contains("vgae-vae/99") && e.contains("newer.safetensors"),
        "{e}"
    );
    let e = run_err(
        v(cache.path())
            .arg("sample")
            .arg(&p)
            .args(["--out"])
            .arg(dir.join("x.png")),
    );
    assert!(e.contains("vgae-vae/99"), "{e}");

    // The formats written before graph and VAE checkpoints were unified still evaluate to the same numbers.
    let c = vgae_core::checkpoint::load(&ck, &candle_core::Device::Cpu).unwrap();
    let config: serde_json::Value = serde_json::from_str(&c.metadata["config"]).unwrap();
    let mut legacy = c.metadata.clone();
    for k in ["config", "rng"] {
        legacy.remove(k);
    }
    legacy.insert("format".into(), "vgae-vae/2".into());
    legacy.insert("vae_config".into(), config["model"].to_string());
    legacy.insert("train_config".into(), config["train"].to_string());
    legacy.insert("rng_state".into(), c.metadata["rng"].clone());
    let mut tensors: Vec<_> = c.tensors.into_iter().collect();
    tensors.sort_by(|x, y| x.0.cmp(&y.0));
    let p = dir.join("legacy-v2.safetensors");
    vgae_core::checkpoint::save(&p, &tensors, &legacy).unwrap();
    let e = json(&run_ok(v(cache.path()).args(["eval", "--json"]).arg(&p)));
    assert_eq!(e["test_neg_elbo"], trained["test_neg_elbo"]);
    for k in ["kind", "dataset_fingerprint", "records"] {
        legacy.remove(k);
    }
    legacy.insert("format".into(), "vgae-vae/1".into());
    let p = dir.join("legacy-v1.safetensors");
    vgae_core::checkpoint::save(&p, &tensors, &legacy).unwrap();
    let e = json(&run_ok(v(cache.path()).args(["eval", "--json"]).arg(&p)));
    assert_eq!(e["test_neg_elbo"], trained["test_neg_elbo"]);

    // Truncated or garbage files: errors naming the file, for eval, resume and sample.
    let bytes = std::fs::read(&ck).unwrap();
    for (i, cut) in [0usize, 5, 8, 100, bytes.len() / 2, bytes.len() - 1]
        .into_iter()
        .enumerate()
    {
        let p = dir.join(format!("cut{i}.safetensors"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let e = eval_err(&p);
        assert!(e.contains(&format!("cut{i}.safetensors")), "{e}");
        let e = run_err(v(cache.path()).arg("resume").arg(&p));
        no_panic(&e);
        let e = run_err(
            v(cache.path())
                .arg("sample")
                .arg(&p)
                .args(["--out"])
                .arg(dir.join("x.png")),
        );
        no_panic(&e);
        assert!(e.contains(&format!("cut{i}.safetensors")), "{e}");
    }
    let p = dir.join("garbage.safetensors");
    let mut g = bytes.clone();
    g[8..40].copy_from_slice(&[b'x'; 32]);
    std::fs::write(&p, &g).unwrap();
    eval_err(&p);

    // A parameters-only copy: half the size, evaluates and samples the same, cannot be resumed.
    let p = dir.join("params.safetensors");
    run_ok(
        v(cache.path())
            .args(["vae", "export"])
            .arg(&run)
            .arg("--out")
            .arg(&p),
    );
    let (full, small) = (
        std::fs::metadata(&ck).unwrap().len(),
        std::fs::metadata(&p).unwrap().len(),
    );
    assert!(small < full / 2 + 4096, "{small} vs {full}");
    let e = json(&run_ok(v(cache.path()).args(["eval", "--json"]).arg(&p)));
    assert_eq!(e["test_neg_elbo"], trained["test_neg_elbo"]);
    run_ok(
        v(cache.path())
            .arg("sample")
            .arg(&p)
            .args(["--out"])
            .arg(dir.join("p.png")),
    );
    let e = run_err(v(cache.path()).args(["resume", "--epochs", "2"]).arg(&p));
    assert!(e.contains("parameters only"), "{e}");
}
