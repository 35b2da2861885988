//! Helpers shared by vgae-core's integration tests.
#![allow(dead_code)]

use vgae_core::graph::GraphTrainer;

/// Everything each epoch computed (loss, val AUC / AP), without its wall-clock time, as exact bits.
pub fn numbers(t: &GraphTrainer) -> Vec<(usize, u64, u64, u64)> {
    t.records
        .iter()
        .map(|r| {
            (
                r.epoch,
                r.loss.to_bits(),
                r.val_auc.to_bits(),
                r.val_ap.to_bits(),
            )
        })
        .collect()
}

/// Every parameter's values as exact bits, in order.
pub fn param_bits(params: &vgae_core::optim::Params) -> Vec<Vec<u32>> {
    params
        .iter()
        .map(|(_, v)| {
            let h = v
                .as_tensor()
                .flatten_all()
                .unwrap()
                .to_vec1::<f32>()
                .unwrap();
            h.iter().map(|x| x.to_bits()).collect()
        })
        .collect()
}
pub mod fixtures;

/// A seeded 4-block SBM graph of `nodes` nodes (average degree 8) and its default split, for the mini-batch
/// tests.
pub fn sbm_split(nodes: usize, seed: u64) -> (vgae_data::Graph, vgae_data::EdgeSplit) {
    use vgae_core::rng::RunRng;
    let cfg = vgae_data::synth::SbmConfig {
        nodes,
        degree: 8.0,
        blocks: 4,
        p_in: 0.9,
    };
    let g = vgae_data::synth::sbm(&cfg, &mut RunRng::new(seed).0);
    let split =
        vgae_data::EdgeSplit::new(&g, &Default::default(), seed, &mut RunRng::stream(seed, 0))
            .unwrap();
    (g, split)
}
