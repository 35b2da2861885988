//! Mini-batch GAE* with a history of hidden rows (GNNAutoScale): the split of Â's rows into fresh and stored
//! parts sums to the exact product, an up-to-date history gives the full-graph embeddings, a run learns, and
//! a run resumed mid-epoch continues bit for bit, history included.

mod common;

use vgae_core::graph::minibatch::{History, MiniBatchConfig, MiniBatchTrainer};
use vgae_core::graph::norm::normalized_adjacency;
use vgae_core::graph::sparse::csr_matmul;
use vgae_core::rng::RunRng;
use vgae_data::{EdgeSplit, Graph};

use common::sbm_split as graph;

fn history(batch: usize, fanout: usize, epochs: usize) -> MiniBatchConfig {
    MiniBatchConfig {
        history: true,
        ..MiniBatchConfig::paper(batch, vec![fanout, 0], epochs)
    }
}

fn trainer(g: &Graph, split: &EdgeSplit, cfg: MiniBatchConfig) -> MiniBatchTrainer {
    MiniBatchTrainer::new(g.num_nodes, split.clone(), cfg, RunRng::stream(1, 1)).unwrap()
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-5 * b.abs().max(1e-2)
}

/// Â[T, T]·H[T] + Σ_{c ∉ T} Â_tc·h_c is (Â·H)[T] for any H, over more targets than one parallel chunk.
#[test]
fn fresh_and_stored_parts_sum_to_the_exact_product() {
    let (g, split) = graph(3000, 5);
    let adj = normalized_adjacency(g.num_nodes, &split.train_pos);
    let w = 3;
    let h: Vec<f32> = (0..g.num_nodes * w)
        .map(|i| ((i * 7919) % 113) as f32 / 50.0 - 1.0)
        .collect();
    let exact = csr_matmul(&adj, &h, w);
    let hist = History {
        width: w,
        h: h.clone(),
    };
    let targets: Vec<u32> = (0..g.num_nodes as u32).step_by(2).rev().collect();
    let mut local = vec![0u32; g.num_nodes];
    let s = hist.split(&adj, &targets, &mut local);
    assert!(local.iter().all(|&x| x == 0), "local map left clean");
    assert_eq!((s.fresh.rows, s.fresh.cols), (targets.len(), targets.len()));
    let ht: Vec<f32> = targets
        .iter()
        .flat_map(|&t| h[t as usize * w..(t as usize + 1) * w].to_vec())
        .collect();
    let fresh = csr_matmul(&s.fresh, &ht, w);
    for (i, &t) in targets.iter().enumerate() {
        for k in 0..w {
            let got = fresh[i * w + k] + s.stale[i * w + k];
            let want = exact[t as usize * w + k];
            assert!(close(got, want), "node {t} col {k}: {got} vs {want}");
        }
    }
}

#[test]
fn an_up_to_date_history_gives_the_full_graph_embeddings() {
    let (g, split) = graph(400, 3);
    let mut t = trainer(&g, &split, history(64, 0, 1));
    let all = t.embed_all().unwrap();
    let targets = [17u32, 3, 250, 399, 0, 18];
    let got = t.embed_targets(&targets).unwrap();
    let d = t.cfg.latent;
    for (i, &u) in targets.iter().enumerate() {
        let want = &all[u as usize * d..(u as usize + 1) * d];
        for (a, b) in got[i * d..(i + 1) * d].iter().zip(want) {
            assert!(close(*a, *b), "node {u}: {a} vs {b}");
        }
    }
}

#[test]
fn minibatch_gae_with_a_history_learns_an_sbm_graph() {
    let (g, split) = graph(1000, 7);
    let mut t = trainer(&g, &split, history(256, 5, 30));
    assert!(t.train(&mut |_| Ok(false), &mut |_, _| Ok(())).unwrap());
    let r = t.result().unwrap();
    eprintln!("test AUC {} AP {}", r.test_auc, r.test_ap);
    assert!(r.test_auc > 0.75 && r.test_ap > 0.7, "{r:?}");
    let (first, last) = (t.records[0].loss, t.records.last().unwrap().loss);
    assert!(last < first, "loss {first} -> {last}");
}

#[test]
fn a_run_with_a_history_resumed_mid_epoch_continues_bit_for_bit() {
    let (g, split) = graph(500, 11);
    let cfg = history(300, 4, 3);
    let mut straight = trainer(&g, &split, cfg.clone());
    straight
        .train(&mut |_| Ok(false), &mut |_, _| Ok(()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ck.safetensors");
    let mut first = trainer(&g, &split, cfg.clone());
    let mut stop = |t: &MiniBatchTrainer| Ok((t.epoch, t.cursor) == (1, 2));
    assert!(!first.train(&mut stop, &mut |_, _| Ok(())).unwrap());
    first.save(&path).unwrap();
    let mut resumed = trainer(&g, &split, cfg);
    resumed.load(&path).unwrap();
    assert!(resumed
        .train(&mut |_| Ok(false), &mut |_, _| Ok(()))
        .unwrap());
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&straight.table.w), bits(&resumed.table.w));
    let stored = |t: &MiniBatchTrainer| bits(&t.history.as_ref().unwrap().h);
    assert_eq!(stored(&straight), stored(&resumed));
    assert_ne!(
        stored(&straight),
        bits(
            &History::exact(
                &normalized_adjacency(500, &split.train_pos),
                &straight.table.w,
                32
            )
            .h
        ),
        "the history lags the weights, so it must be the saved one, not recomputed"
    );
}

#[test]
fn a_history_needs_one_hidden_layer_and_an_exact_last_layer() {
    let (g, split) = graph(100, 1);
    for cfg in [
        MiniBatchConfig {
            history: true,
            ..MiniBatchConfig::paper(64, vec![5, 5], 1)
        },
        MiniBatchConfig {
            history: true,
            hidden: vec![32, 32],
            ..MiniBatchConfig::paper(64, vec![5, 5, 0], 1)
        },
    ] {
        let err = MiniBatchTrainer::new(g.num_nodes, split.clone(), cfg, RunRng::new(0))
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("--history"), "{err}");
    }
}
