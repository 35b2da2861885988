//! Directed graphs: edge lists read with their orientation, the seeded directed block model, and the
//! splits of the gravity paper's three tasks with their audit.

use rand::SeedableRng;
use std::collections::HashSet;
use vgae_data::edgelist::{self, EdgeListOptions};
use vgae_data::synth::{directed_sbm, DirectedSbmConfig};
use vgae_data::{DirectedTask, EdgeSplit, Graph, SplitConfig};

fn rng(seed: u64) -> rand_chacha::ChaCha8Rng {
    rand_chacha::ChaCha8Rng::seed_from_u64(seed)
}

fn graph(seed: u64) -> Graph {
    let cfg = DirectedSbmConfig {
        nodes: 300,
        ..Default::default()
    };
    directed_sbm(&cfg, &mut rng(seed))
}

fn split(g: &Graph, task: DirectedTask, seed: u64) -> EdgeSplit {
    let cfg = SplitConfig {
        directed: Some(task),
        ..SplitConfig::default()
    };
    EdgeSplit::new(g, &cfg, seed, &mut rng(seed)).unwrap()
}

fn set(p: &[[u32; 2]]) -> HashSet<[u32; 2]> {
    p.iter().copied().collect()
}

#[test]
fn edge_lists_keep_their_orientation_when_read_directed() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("arcs.csv");
    std::fs::write(&f, "a,b\nb,a\nb,c\nc,c\nb,c\n").unwrap();
    let opts = EdgeListOptions {
        directed: true,
        ..Default::default()
    };
    let d = edgelist::load(&f, &opts).unwrap();
    let u = edgelist::load(&f, &Default::default()).unwrap();
    // Ids in order of appearance: a = 0, b = 1, c = 2.
    assert_eq!(d.edges, vec![[0, 1], [1, 0], [1, 2]]);
    assert_eq!((d.self_loops_dropped, d.reciprocal_arcs()), (1, 2));
    assert_eq!(u.edges, vec![[0, 1], [1, 2]]);
    assert_ne!(d.fingerprint(), u.fingerprint());
    let info = serde_json::to_value(d.info()).unwrap();
    assert_eq!(
        (info["directed"].as_bool(), info["reciprocal_arcs"].as_u64()),
        (Some(true), Some(2))
    );
    assert!(serde_json::to_value(u.info())
        .unwrap()
        .get("directed")
        .is_none());
}

#[test]
fn the_directed_block_model_is_seeded_and_points_up_its_ranking() {
    let (a, b) = (graph(1), graph(1));
    assert_eq!(a.edges, b.edges);
    assert_ne!(a.edges, graph(2).edges);
    let rank = |i: u32| a.labels.as_ref().unwrap()[i as usize].unwrap();
    let arcs = set(&a.edges);
    let mut cross = 0;
    for &[u, v] in &a.edges {
        assert!(rank(u) <= rank(v), "arc {u} → {v} points down");
        if rank(u) < rank(v) {
            cross += 1;
            assert!(!arcs.contains(&[v, u]));
        }
    }
    assert!(cross > 0 && a.reciprocal_arcs() > 0);
}

#[test]
fn general_task_holds_out_random_arcs_against_ordered_non_arcs() {
    let g = graph(3);
    let s = split(&g, DirectedTask::General, 3);
    s.audit(&g).unwrap();
    let e = g.edges.len();
    assert_eq!((s.val_pos.len(), s.test_pos.len()), (e * 5 / 100, e / 10));
    assert_eq!(s.train_pos.len(), e - s.val_pos.len() - s.test_pos.len());
    let arcs = set(&g.edges);
    assert!(s
        .test_neg
        .iter()
        .chain(&s.val_neg)
        .all(|p| !arcs.contains(p) && p[0] != p[1]));
    assert_eq!(s, split(&g, DirectedTask::General, 3), "seeded");
}

#[test]
fn biased_task_pairs_each_unidirectional_arc_with_its_reverse() {
    let g = graph(4);
    let s = split(&g, DirectedTask::Biased, 4);
    s.audit(&g).unwrap();
    let arcs = set(&g.edges);
    let uni = g
        .edges
        .iter()
        .filter(|&&[u, v]| !arcs.contains(&[v, u]))
        .count();
    assert_eq!(
        (s.val_pos.len(), s.test_pos.len()),
        (uni * 5 / 100, uni / 10)
    );
    for (p, n) in s.test_pos.iter().zip(&s.test_neg) {
        assert!(arcs.contains(p) && !arcs.contains(&[p[1], p[0]]));
        assert_eq!(*n, [p[1], p[0]]);
    }
    // Tampering is caught: a negative that is not the reverse of its positive.
    let mut bad = s.clone();
    bad.test_neg.swap(0, 1);
    assert!(bad.audit(&g).unwrap_err().contains("reversed"));
}

#[test]
fn bidirectional_task_keeps_one_direction_of_each_held_out_pair() {
    let g = graph(5);
    let s = split(&g, DirectedTask::Bidirectional, 5);
    s.audit(&g).unwrap();
    let arcs = set(&g.edges);
    let train = set(&s.train_pos);
    let pairs = g.reciprocal_arcs() / 2;
    let uni = g.edges.len() - g.reciprocal_arcs();
    let k = pairs.min(uni);
    assert_eq!(s.val_pos.len() + s.test_pos.len(), k);
    assert_eq!(s.val_pos.len(), k / 3, "val share 0.05 / (0.05 + 0.10)");
    for (p, n) in s.test_pos.iter().zip(&s.test_neg) {
        assert!(arcs.contains(p) && train.contains(&[p[1], p[0]]));
        assert!(!arcs.contains(n) && train.contains(&[n[1], n[0]]));
    }
    // Both orientations are held out (a direction is drawn per pair).
    assert!(s.test_pos.iter().any(|p| p[0] < p[1]) && s.test_pos.iter().any(|p| p[0] > p[1]));
    // A held-out arc put back into training is caught.
    let mut bad = s.clone();
    bad.train_pos.push(s.test_pos[0]);
    assert!(bad.audit(&g).is_err());
}

#[test]
fn directed_splits_roundtrip_and_refuse_the_wrong_kind_of_graph() {
    let g = graph(6);
    let s = split(&g, DirectedTask::Biased, 6);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("s.safetensors");
    s.save(&f).unwrap();
    let back = EdgeSplit::load(&f).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.config.directed, Some(DirectedTask::Biased));
    back.audit(&g).unwrap();
    // The same arcs read as an undirected graph: another fingerprint, and a task split is refused.
    let undirected = Graph::from_edges(g.num_nodes, &g.edges).unwrap();
    assert!(s.audit(&undirected).is_err());
    let cfg = SplitConfig {
        directed: Some(DirectedTask::General),
        ..SplitConfig::default()
    };
    let e = EdgeSplit::new(&undirected, &cfg, 0, &mut rng(0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("--directed"), "{e}");
    // A graph with no pair linked both ways has nothing for the bidirectional task.
    let chain = Graph::from_arcs(5, &[[0, 1], [1, 2], [2, 3], [3, 4]]).unwrap();
    let cfg = SplitConfig {
        directed: Some(DirectedTask::Bidirectional),
        ..SplitConfig::default()
    };
    let e = EdgeSplit::new(&chain, &cfg, 0, &mut rng(0))
        .unwrap_err()
        .to_string();
    assert!(e.contains("both ways"), "{e}");
    // An undirected split keeps its file format: no `directed` key in its config.
    let u = EdgeSplit::new(&undirected, &SplitConfig::default(), 0, &mut rng(0)).unwrap();
    assert!(!serde_json::to_string(&u.config)
        .unwrap()
        .contains("directed"));
}
