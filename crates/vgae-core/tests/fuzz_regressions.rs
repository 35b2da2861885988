//! The fuzz targets (`vgae_core::fuzz_targets`, run by AFL++ in `scripts/fuzz.sh`) on the inputs they must
//! accept, on every input that ever crashed or hung one of them (`fuzz/regressions/<target>/`, replayed here
//! so a fixed bug stays fixed), and on byte-level mutations of the good inputs.

use candle_core::Device;
use rand::{Rng, SeedableRng};
use std::path::Path;
use vgae_core::fuzz_targets::{run, targets};
use vgae_core::graph::{train::make_split, GraphTrainConfig, GraphTrainer};
use vgae_data::planetoid::embedded_cora;

/// One valid input per target, made from the embedded Cora and the shipped grids.
fn good_inputs(dir: &Path) -> Vec<(&'static str, Vec<u8>)> {
    let cora = |p: &str| embedded_cora(p).unwrap().to_vec();
    let g = vgae_data::planetoid::load_embedded_cora().unwrap();
    let cfg = GraphTrainConfig {
        epochs: 1,
        hidden: 4,
        latent: 2,
        ..GraphTrainConfig::default()
    };
    let split = make_split(&g, &cfg).unwrap();
    split.save(&dir.join("split.safetensors")).unwrap();
    let mut t = GraphTrainer::new(cfg, &g, split, &Device::Cpu).unwrap();
    t.run(Some(&dir.join("run")), |_| {}).unwrap();
    let grid = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../grids/table1.toml");
    let px: Vec<f64> = (0..560 * 2).map(|i| (i % 256) as f64).collect();
    let mut idx = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2];
    idx.extend([7u8; 8]);
    vec![
        ("pickle_csr", cora("x")),
        ("pickle_onehot", cora("y")),
        ("pickle_graph", cora("graph")),
        ("test_index", cora("test.index")),
        ("idx", idx),
        (
            "mat",
            vgae_data::mat::write(&[("ff", 9, &[560, 2], &px)], true),
        ),
        (
            "edge_list",
            b"source,target,weight\n0,1,1.5\n\"a, b\",2,1\n".to_vec(),
        ),
        (
            "split",
            std::fs::read(dir.join("split.safetensors")).unwrap(),
        ),
        (
            "checkpoint",
            std::fs::read(dir.join("run/model.safetensors")).unwrap(),
        ),
        (
            "run_config",
            std::fs::read(dir.join("run/config.json")).unwrap(),
        ),
        ("grid", std::fs::read(grid).unwrap()),
    ]
}

#[test]
fn every_target_accepts_a_valid_input() {
    let dir = tempfile::tempdir().unwrap();
    let good = good_inputs(dir.path());
    let names: Vec<&str> = good.iter().map(|g| g.0).collect();
    assert_eq!(names, targets(), "one good input per target, in order");
    for (t, data) in &good {
        assert_eq!(run(t, data), Some(true), "{t} rejects its valid input");
    }
    assert_eq!(run("no_such_target", b""), None);
}

#[test]
fn recorded_crashes_and_hangs_stay_fixed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut n = 0;
    for t in targets() {
        let Ok(dir) = std::fs::read_dir(root.join(t)) else {
            continue;
        };
        for f in dir.flatten() {
            let data = std::fs::read(f.path()).unwrap();
            // Must return (accepting or refusing), not panic.
            assert!(run(t, &data).is_some());
            n += 1;
        }
    }
    // The empty-dtype pickle that used to panic is among them.
    assert!(n >= 1, "no regression inputs under {}", root.display());
}

#[test]
fn byte_mutations_of_valid_inputs_never_panic() {
    // A cheap, seeded stand-in for the AFL campaign in CI: flips, truncations and splices.
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    for (t, good) in good_inputs(dir.path()) {
        for _ in 0..1000 {
            let mut d = good.clone();
            match rng.random_range(0..3) {
                0 => {
                    for _ in 0..rng.random_range(1..8) {
                        let i = rng.random_range(0..d.len());
                        d[i] = rng.random();
                    }
                }
                1 => d.truncate(rng.random_range(0..d.len())),
                _ => {
                    let i = rng.random_range(0..d.len());
                    let j = rng.random_range(0..d.len());
                    let chunk = d[i.min(j)..i.max(j)].to_vec();
                    d.splice(i..i, chunk);
                }
            }
            assert!(run(t, &d).is_some(), "{t}");
        }
    }
}
