//! Mini-batch GAE*: exact receptive fields give the full-graph embeddings, sampled ones estimate them without
//! bias, lazy Adam is Adam on the rows it touches, a run learns, and a run resumed after any batch continues
//! bit for bit.

mod common;

use candle_core::{Device, Tensor, Var};
use vgae_core::graph::minibatch::{
    AdamSettings, EmbeddingTable, MiniBatchConfig, MiniBatchTrainer, NeighbourSampler,
};
use vgae_core::graph::norm::normalized_adjacency;
use vgae_core::graph::sparse::csr_matmul;
use vgae_core::optim::{Adam, Optimizer};
use vgae_core::rng::RunRng;
use vgae_data::{EdgeSplit, Graph};

use common::sbm_split as graph;

fn trainer(g: &Graph, split: &EdgeSplit, cfg: MiniBatchConfig) -> MiniBatchTrainer {
    MiniBatchTrainer::new(g.num_nodes, split.clone(), cfg, RunRng::stream(1, 1)).unwrap()
}

#[test]
fn exact_receptive_fields_give_the_full_graph_embeddings() {
    let (g, split) = graph(400, 3);
    let mut t = trainer(&g, &split, MiniBatchConfig::paper(64, vec![0, 0], 1));
    let all = t.embed_all().unwrap();
    let targets = [17u32, 3, 250, 399, 0];
    let got = t.embed_targets(&targets).unwrap();
    let d = t.cfg.latent;
    for (i, &u) in targets.iter().enumerate() {
        let want = &all[u as usize * d..(u as usize + 1) * d];
        for (a, b) in got[i * d..(i + 1) * d].iter().zip(want) {
            assert!(
                (a - b).abs() <= 1e-6 * b.abs().max(1e-3),
                "node {u}: {a} vs {b}"
            );
        }
    }
}

/// Sampling `fanout` of a row's neighbours and scaling by deg / fanout estimates (Â·H)_u without bias: over
/// 4000 seeded draws the mean is within 4 standard errors (from the draws' own spread) of the exact row.
#[test]
fn sampled_blocks_estimate_the_product_without_bias() {
    let (g, split) = graph(300, 5);
    let adj = normalized_adjacency(g.num_nodes, &split.train_pos);
    let mut rng = RunRng::new(9);
    let h: Vec<f32> = rng
        .normal(&[g.num_nodes, 4], &Device::Cpu)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    let exact = csr_matmul(&adj, &h, 4);
    // The node with the most neighbours, so that a fan-out of 3 really samples.
    let u = (0..g.num_nodes)
        .max_by_key(|&r| adj.indptr[r + 1] - adj.indptr[r])
        .unwrap() as u32;
    assert!(adj.indptr[u as usize + 1] - adj.indptr[u as usize] > 6);
    let mut sampler = NeighbourSampler::new(g.num_nodes, vec![3]);
    let draws = 4000;
    let (mut sum, mut sq) = ([0f64; 4], [0f64; 4]);
    for _ in 0..draws {
        let b = sampler.sample(&adj, &[u], &mut rng).remove(0);
        assert_eq!(b.sources[0], u);
        assert_eq!(b.csr.nnz(), 4, "the self-loop and 3 neighbours");
        let gathered: Vec<f32> = b
            .sources
            .iter()
            .flat_map(|&s| h[s as usize * 4..(s as usize + 1) * 4].to_vec())
            .collect();
        let y = csr_matmul(&b.csr, &gathered, 4);
        for k in 0..4 {
            sum[k] += y[k] as f64;
            sq[k] += (y[k] as f64).powi(2);
        }
    }
    let want = &exact[u as usize * 4..(u as usize + 1) * 4];
    let n = draws as f64;
    for k in 0..4 {
        let mean = sum[k] / n;
        let se = ((sq[k] / n - mean * mean).max(0.0) / (n - 1.0)).sqrt();
        assert!(se > 0.0, "column {k}: the draws do not vary");
        assert!(
            (mean - want[k] as f64).abs() < 4.0 * se,
            "column {k}: mean {mean} vs exact {} (standard error {se})",
            want[k]
        );
    }
}

/// Lazy Adam: a row updated at every step moves exactly as Adam moves it; a row never touched stays put.
#[test]
fn lazy_adam_is_adam_on_the_rows_it_touches() {
    let w0 = vec![0.5f32, -0.25, 1.0, 2.0, -1.5, 0.75];
    let mut table = EmbeddingTable::new(w0.clone(), 3, 2).unwrap();
    let rows = Var::from_tensor(
        &Tensor::from_vec(vec![0.5f32, -0.25, -1.5, 0.75], (2, 2), &Device::Cpu).unwrap(),
    )
    .unwrap();
    let mut adam = Adam::new(vec![("w".into(), rows.clone())], 0.01).unwrap();
    let grads = [[0.3f32, -0.1, 2.0, 0.05], [-0.7, 0.2, 0.0, 1.5]];
    for (t, g) in grads.iter().enumerate() {
        table.step(&[0, 2], g, t as u64 + 1, &AdamSettings::new(0.01));
        let gt = Tensor::from_vec(g.to_vec(), (2, 2), &Device::Cpu).unwrap();
        adam.step_each(&[Some(gt)]).unwrap();
    }
    let want = rows
        .as_tensor()
        .flatten_all()
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert_eq!(&table.w[0..2], &want[0..2]);
    assert_eq!(&table.w[4..6], &want[2..4]);
    assert_eq!(&table.w[2..4], &w0[2..4], "row 1 was never in a batch");
    assert_eq!(adam.steps(), 2);
}

#[test]
fn minibatch_gae_learns_an_sbm_graph() {
    let (g, split) = graph(1000, 7);
    let mut t = trainer(&g, &split, MiniBatchConfig::paper(256, vec![5, 5], 30));
    let done = t.train(&mut |_| Ok(false), &mut |_, _| Ok(())).unwrap();
    assert!(done && t.records.len() == 30);
    let r = t.result().unwrap();
    eprintln!("test AUC {} AP {}", r.test_auc, r.test_ap);
    assert!(r.test_auc > 0.75 && r.test_ap > 0.7, "{r:?}");
    let first = t.records[0].loss;
    let last = t.records.last().unwrap().loss;
    assert!(last < first, "loss {first} -> {last}");
}

#[test]
fn a_run_resumed_after_any_batch_continues_bit_for_bit() {
    let (g, split) = graph(500, 11);
    let cfg = MiniBatchConfig {
        eval_every: 2,
        ..MiniBatchConfig::paper(300, vec![4, 3], 3)
    };
    let mut straight = trainer(&g, &split, cfg.clone());
    straight
        .train(&mut |_| Ok(false), &mut |_, _| Ok(()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let batches = straight.batches();
    assert!(batches >= 3, "{batches} batches per epoch");
    // Stop mid-epoch 2 and at the end of epoch 1, save, and finish in a fresh trainer.
    for stop_at in [(1, 2), (1, 0)] {
        let path = dir
            .path()
            .join(format!("ck-{}-{}.safetensors", stop_at.0, stop_at.1));
        let mut first = trainer(&g, &split, cfg.clone());
        let mut stop = |t: &MiniBatchTrainer| Ok((t.epoch, t.cursor) == stop_at);
        assert!(!first.train(&mut stop, &mut |_, _| Ok(())).unwrap());
        first.save(&path).unwrap();
        let mut resumed = trainer(&g, &split, cfg.clone());
        resumed.load(&path).unwrap();
        assert!(resumed
            .train(&mut |_| Ok(false), &mut |_, _| Ok(()))
            .unwrap());
        let bits = |t: &MiniBatchTrainer| t.table.w.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&straight), bits(&resumed), "stopped at {stop_at:?}");
        let losses = |t: &MiniBatchTrainer| {
            t.records
                .iter()
                .map(|r| r.loss.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            losses(&straight),
            losses(&resumed),
            "stopped at {stop_at:?}"
        );
        assert_eq!(straight.steps, resumed.steps);
    }
    // Another run's settings, and a damaged file, are refused with the file named.
    let path = dir.path().join("ck-1-2.safetensors");
    let other = MiniBatchConfig {
        lr: 0.02,
        ..cfg.clone()
    };
    let err = trainer(&g, &split, other)
        .load(&path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ck-1-2") && err.contains("settings"), "{err}");
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 5;
    bytes[at] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let err = trainer(&g, &split, cfg)
        .load(&path)
        .unwrap_err()
        .to_string();
    assert!(err.contains("ck-1-2") && err.contains("sha256"), "{err}");
}
