//! Every shipped checkpoint loads and reproduces the metric its README states, to 4 decimals, on CPU.

mod common;
use common::{json, run_ok, vgae};

fn read_me() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../weights/README.md"
    ))
    .unwrap()
}

/// The README row of `file` must state these numbers (rounded to 4 decimals).
fn stated(file: &str, pairs: &[(&str, f64)]) {
    let row = read_me()
        .lines()
        .find(|l| l.contains(file))
        .unwrap_or_else(|| panic!("weights/README.md has no row for {file}"))
        .to_string();
    for (name, v) in pairs {
        let want = format!("{name} {v:.4}");
        assert!(
            row.contains(&want),
            "weights/README.md row for {file} does not say '{want}': {row}"
        );
    }
}

#[test]
fn shipped_graph_checkpoints_reproduce_their_metrics() {
    let cache = tempfile::tempdir().unwrap();
    for file in ["cora-gae.safetensors", "cora-vgae.safetensors"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../weights")
            .join(file);
        let v = json(&run_ok(
            vgae(cache.path())
                .args(["eval", "--device", "cpu", "--json"])
                .arg(&path),
        ));
        let auc = v["test_auc"].as_f64().unwrap();
        let ap = v["test_ap"].as_f64().unwrap();
        stated(file, &[("AUC", auc), ("AP", ap)]);
        assert!(
            std::fs::metadata(&path).unwrap().len() < 4 << 20,
            "{file} is larger than 4 MB"
        );
    }
}

#[test]
fn shipped_vae_checkpoints_reproduce_their_test_neg_elbo() {
    // The test set comes from VGAE_DATA_DIR (this fails, never skips, when it is unset).
    let data = common::data_dir();
    assert!(
        data.join("mnist").is_dir(),
        "VGAE_DATA_DIR={} has no mnist/ folder",
        data.display()
    );
    let cache = tempfile::tempdir().unwrap();
    for (file, z) in [
        ("mnist-vae-z20.safetensors", 20),
        ("mnist-vae-z2.safetensors", 2),
    ] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../weights")
            .join(file);
        let v = json(&run_ok(
            vgae(cache.path())
                .args(["eval", "--device", "cpu", "--json", "--data-dir"])
                .arg(&data)
                .arg(&path),
        ));
        assert_eq!(v["z"], z, "{file}");
        let ne = v["test_neg_elbo"].as_f64().unwrap();
        stated(file, &[("test -ELBO", ne)]);
        assert!(
            std::fs::metadata(&path).unwrap().len() < 5 << 20,
            "{file} is larger than 5 MB"
        );
    }
}
