//! VAE checkpoints that cannot be used as they are: errors (never panics) for mismatched, newer-format and
//! truncated checkpoints; the older formats still evaluating; a parameters-only export that evaluates and
//! samples but cannot be resumed. MNIST comes from `VGAE_DATA_DIR` (these tests fail, never skip, when it is
//! missing).

mod common;
use common::{files_under, json, mnist_vgae as v, run_err, run_ok, VAE_SMALL};
use std::path::Path;

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

#[test]
fn a_diverging_run_names_epoch_and_step_and_writes_no_checkpoint() {
    let cache = tempfile::tempdir().unwrap();
    let root = tempfile::tempdir().unwrap();
    let out = root.path().join("nan");
    // Adam at lr 1 on the VAE overflows within the first epoch.
    let e = run_err(
        v(cache.path())
            .args(VAE_SMALL)
            .args(["--epochs", "3", "--optimizer", "adam", "--lr", "1"])
            .args(["--checkpoint-every", "1", "--out"])
            .arg(&out),
    );
    no_panic(&e);
    assert!(
        e.contains("diverged at epoch 1") && e.contains("at step") && e.contains("NaN"),
        "{e}"
    );
    let written: Vec<_> = files_under(&out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "safetensors"))
        .collect();
    assert!(written.is_empty(), "{written:?}");
}
