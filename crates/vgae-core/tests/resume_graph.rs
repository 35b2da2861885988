//! Exact resume of GAE / VGAE runs, and checkpoints that do not fit.

mod common;
use common::numbers;

use candle_core::Device;
use std::collections::HashMap;
use vgae_core::checkpoint::{self, check_params};
use vgae_core::graph::{
    resume, run, train::make_split, GraphTrainConfig, GraphTrainer, LossKind, ModelKind,
};
use vgae_core::optim::Optimizer;
use vgae_data::planetoid;
use vgae_data::source::DataSource;

fn params(t: &GraphTrainer) -> Vec<Vec<u32>> {
    common::param_bits(t.optimizer.params())
}

fn straight_vs_resumed(cfg: GraphTrainConfig) {
    let g = planetoid::load_embedded_cora().unwrap();
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut a = GraphTrainer::new(
        GraphTrainConfig {
            epochs: 20,
            ..cfg.clone()
        },
        &g,
        make_split(&g, &cfg).unwrap(),
        &Device::Cpu,
    )
    .unwrap();
    let ra = run::run(&mut a, Some(dirs.0.path()), |_| {}).unwrap();

    let mut b = GraphTrainer::new(
        GraphTrainConfig {
            epochs: 10,
            ..cfg.clone()
        },
        &g,
        make_split(&g, &cfg).unwrap(),
        &Device::Cpu,
    )
    .unwrap();
    run::run(&mut b, Some(dirs.1.path()), |_| {}).unwrap();
    drop(b);
    let ck = run::find_checkpoint(dirs.1.path()).unwrap();
    let mut c = resume::restore_from(&ck, &DataSource::default(), None, &Device::Cpu).unwrap();
    assert_eq!(c.epoch, 10);
    c.cfg.epochs = 20;
    let rc = run::run(&mut c, Some(dirs.1.path()), |_| {}).unwrap();

    assert_eq!(
        numbers(&a),
        numbers(&c),
        "{}: per-epoch losses and metrics differ",
        cfg.label()
    );
    assert_eq!(params(&a), params(&c), "{}: parameters differ", cfg.label());
    assert_eq!(
        (ra.test_auc.to_bits(), ra.best_epoch),
        (rc.test_auc.to_bits(), rc.best_epoch)
    );
    let lines = std::fs::read_to_string(dirs.1.path().join("metrics.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 20);
}

#[test]
fn resume_is_bit_identical_for_gae_dense() {
    straight_vs_resumed(GraphTrainConfig {
        model: ModelKind::Gae,
        seed: 11,
        ..GraphTrainConfig::default()
    });
}

#[test]
fn resume_is_bit_identical_for_vgae_sampled() {
    // Exercises the saved RNG state: reparametrisation noise and fresh negatives every epoch.
    straight_vs_resumed(GraphTrainConfig {
        model: ModelKind::Vgae,
        loss: LossKind::Sampled,
        seed: 12,
        ..GraphTrainConfig::default()
    });
}

#[test]
fn mismatched_newer_and_corrupt_checkpoints_are_errors() {
    let g = planetoid::load_embedded_cora().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = GraphTrainConfig {
        model: ModelKind::Gae,
        epochs: 2,
        ..GraphTrainConfig::default()
    };
    let mut t =
        GraphTrainer::new(cfg.clone(), &g, make_split(&g, &cfg).unwrap(), &Device::Cpu).unwrap();
    run::run(&mut t, Some(dir.path()), |_| {}).unwrap();
    let p = dir.path().join(run::FINAL);

    // A GAE checkpoint checked against a VGAE's parameters, and against a featureless GAE's shapes.
    let ck = checkpoint::load(&p, &Device::Cpu).unwrap();
    let vgae = vec![
        ("encoder.conv1.weight".to_string(), vec![1433, 32]),
        ("encoder.conv_mu.weight".to_string(), vec![32, 16]),
        ("encoder.conv_logstd.weight".to_string(), vec![32, 16]),
    ];
    let e = check_params(&p, &ck, &vgae, "optimizer.")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("missing tensor 'encoder.conv_mu.weight'")
            && e.contains("unexpected tensor 'encoder.conv2.weight'"),
        "{e}"
    );
    let featureless = vec![
        ("encoder.conv1.weight".to_string(), vec![2708, 32]),
        ("encoder.conv2.weight".to_string(), vec![32, 16]),
    ];
    let e = check_params(&p, &ck, &featureless, "optimizer.")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'encoder.conv1.weight' has shape [1433, 32], expected [2708, 32]"),
        "{e}"
    );

    // A newer format version.
    let mut meta = ck.metadata.clone();
    meta.insert("format".into(), "vgae-checkpoint/99".into());
    let tensors: Vec<_> = ck
        .tensors
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let newer = dir.path().join("newer.safetensors");
    checkpoint::save(&newer, &tensors, &meta).unwrap();
    let e = resume::restore_from(&newer, &DataSource::default(), None, &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("vgae-checkpoint/99") && e.contains("newer.safetensors"),
        "{e}"
    );

    // Trained on other data.
    let mut meta = ck.metadata.clone();
    meta.insert("dataset_fingerprint".into(), "0000000000000000".into());
    let other = dir.path().join("other.safetensors");
    checkpoint::save(&other, &tensors, &meta).unwrap();
    let e = resume::restore_from(&other, &DataSource::default(), None, &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("fingerprint"), "{e}");

    // Truncated anywhere: an error naming the file, never a panic.
    let bytes = std::fs::read(&p).unwrap();
    let cut = dir.path().join("cut.safetensors");
    for n in [0, 7, 8, 100, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&cut, &bytes[..n]).unwrap();
        let e = resume::restore_from(&cut, &DataSource::default(), None, &Device::Cpu)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("cut.safetensors"), "{e}");
    }
    let _: HashMap<String, String> = checkpoint::load_metadata(&p).unwrap();
}
