//! Properties of the link-prediction splits on the real graphs and on random small graphs.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::PathBuf;
use vgae_data::source::DataSource;
use vgae_data::split::SplitMethod;
use vgae_data::{EdgeSplit, Graph, SplitConfig};

fn data_dir() -> PathBuf {
    std::env::var_os("VGAE_DATA_DIR")
        .map(PathBuf::from)
        .expect("VGAE_DATA_DIR is not set: these tests need the real Planetoid files (set it to ../shared/data)")
}

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

#[test]
fn planetoid_splits_pass_the_audit_for_several_seeds() {
    let src = DataSource::new(Some(data_dir()));
    for name in ["cora", "citeseer", "pubmed"] {
        let g = src.load_graph(name).unwrap();
        for seed in 0..3 {
            for method in [SplitMethod::Kipf, SplitMethod::Pyg] {
                let cfg = SplitConfig {
                    method,
                    ..SplitConfig::default()
                };
                let s = EdgeSplit::new(&g, &cfg, seed, &mut rng(seed)).unwrap();
                s.audit(&g)
                    .unwrap_or_else(|v| panic!("{name} seed {seed} {method:?}: {v}"));
                let e = g.edges.len();
                assert_eq!(s.test_pos.len(), e / 10);
                assert_eq!(s.val_pos.len(), e * 5 / 100);
            }
        }
    }
}

fn random_graph(n: u32, m: usize, seed: u64) -> Graph {
    let mut r = rng(seed);
    let pairs = (0..m).map(|_| (r.random_range(0..n), r.random_range(0..n)));
    let (edges, loops) = Graph::canonical_edges(pairs);
    Graph {
        name: format!("random-{seed}"),
        num_nodes: n as usize,
        edges,
        directed: false,
        features: None,
        labels: None,
        num_classes: 0,
        edge_weights: None,
        node_ids: None,
        self_loops_dropped: loops,
        note: None,
    }
}

#[test]
fn random_small_graphs_split_cleanly() {
    for seed in 0..25 {
        let g = random_graph(20 + seed as u32, 40 + 3 * seed as usize, seed);
        let s = EdgeSplit::new(&g, &SplitConfig::default(), seed, &mut rng(seed)).unwrap();
        s.audit(&g).unwrap();
    }
    // A complete graph has no non-edges: refused with an error, not an endless loop.
    let n = 8u32;
    let pairs = (0..n).flat_map(|u| (0..n).map(move |v| (u, v)));
    let (edges, _) = Graph::canonical_edges(pairs);
    let g = Graph {
        edges,
        ..random_graph(n, 0, 0)
    };
    assert!(EdgeSplit::new(
        &g,
        &SplitConfig {
            val_frac: 0.2,
            test_frac: 0.2,
            ..Default::default()
        },
        0,
        &mut rng(0)
    )
    .is_err());
}

#[test]
fn splits_are_seeded_and_roundtrip_through_safetensors() {
    let g = DataSource::new(Some(data_dir()))
        .load_graph("cora")
        .unwrap();
    let a = EdgeSplit::new(&g, &SplitConfig::default(), 5, &mut rng(5)).unwrap();
    let b = EdgeSplit::new(&g, &SplitConfig::default(), 5, &mut rng(5)).unwrap();
    let c = EdgeSplit::new(&g, &SplitConfig::default(), 6, &mut rng(6)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.test_pos, c.test_pos);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("split.safetensors");
    a.save(&p).unwrap();
    let back = EdgeSplit::load(&p).unwrap();
    assert_eq!(a, back);
    // Truncated or foreign files are errors naming the file.
    let bytes = std::fs::read(&p).unwrap();
    for cut in [0, 8, bytes.len() / 2, bytes.len() - 1] {
        let msg = EdgeSplit::from_bytes(&p, &bytes[..cut])
            .unwrap_err()
            .to_string();
        assert!(msg.contains("split.safetensors"), "{msg}");
    }
}

#[test]
fn the_audit_catches_each_kind_of_leak() {
    let g = DataSource::new(Some(data_dir()))
        .load_graph("cora")
        .unwrap();
    let s = EdgeSplit::new(&g, &SplitConfig::default(), 1, &mut rng(1)).unwrap();
    let mut leak = s.clone();
    leak.train_pos.push(leak.test_pos[0]);
    assert!(leak.audit(&g).unwrap_err().contains("also appears"));
    let mut neg_is_edge = s.clone();
    neg_is_edge.test_neg[0] = g.edges[0];
    assert!(neg_is_edge.audit(&g).unwrap_err().contains("is an edge"));
    let mut overlap = s.clone();
    overlap.val_neg[0] = overlap.test_neg[0];
    assert!(overlap.audit(&g).unwrap_err().contains("also appears"));
    let mut lost = s.clone();
    lost.train_pos.pop();
    assert!(lost.audit(&g).unwrap_err().contains("edges"));
    let mut lopsided = s.clone();
    lopsided.val_neg.pop();
    assert!(lopsided.audit(&g).is_err());
    let other = DataSource::new(Some(data_dir()))
        .load_graph("citeseer")
        .unwrap();
    assert!(s.audit(&other).unwrap_err().contains("fingerprint"));
}
