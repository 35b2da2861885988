//! The node-id table in graph checkpoints: written by `GraphTrainer::run`, restored with the graph, and
//! checkpoints from before ids were recorded still restore on the same edge list.

use candle_core::Device;
use vgae_core::graph::{resume, GraphTrainConfig, GraphTrainer};
use vgae_data::Graph;

fn ring(names: &str) -> Graph {
    let pairs: Vec<[u32; 2]> = (0..24u32)
        .flat_map(|i| [[i, (i + 1) % 24], [i, (i + 5) % 24]])
        .collect();
    let ids = (0..24).map(|i| format!("{names}{i}")).collect();
    Graph::from_edges(24, &pairs)
        .unwrap()
        .with_node_ids(ids)
        .unwrap()
}

fn cfg() -> GraphTrainConfig {
    GraphTrainConfig {
        features: false,
        epochs: 3,
        dataset: "ring".into(),
        ..GraphTrainConfig::default()
    }
}

#[test]
fn ids_are_recorded_and_checked() {
    let g = ring("n");
    let dir = tempfile::tempdir().unwrap();
    let split = vgae_core::graph::train::make_split(&g, &cfg()).unwrap();
    let mut t = GraphTrainer::new(cfg(), &g, split, &Device::Cpu).unwrap();
    t.run(Some(dir.path()), |_| {}).unwrap();
    let ck = dir.path().join("model.safetensors");
    let ids = resume::checkpoint_node_ids(&ck).unwrap().unwrap();
    assert_eq!(ids, g.node_ids.clone().unwrap());
    let r = resume::restore(&ck, &g, None, &Device::Cpu).unwrap();
    assert_eq!((r.epoch, r.node_ids.as_ref()), (3, Some(&ids)));
    // The same edges under other names are another dataset.
    let e = resume::restore(&ck, &ring("m"), None, &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("fingerprint"), "{e}");
}

#[test]
fn a_checkpoint_without_ids_restores_on_the_edge_list() {
    // Trained the old way: the graph without ids, saved without the table.
    let g = ring("n");
    let bare = Graph {
        node_ids: None,
        ..g.clone()
    };
    let dir = tempfile::tempdir().unwrap();
    let split = vgae_core::graph::train::make_split(&bare, &cfg()).unwrap();
    let mut t = GraphTrainer::new(cfg(), &bare, split, &Device::Cpu).unwrap();
    vgae_core::graph::run::run(&mut t, Some(dir.path()), |_| {}).unwrap();
    let ck = dir.path().join("model.safetensors");
    assert!(resume::checkpoint_node_ids(&ck).unwrap().is_none());
    let r = resume::restore(&ck, &g, None, &Device::Cpu).unwrap();
    assert_eq!((r.epoch, r.node_ids.is_none()), (3, true));
}
