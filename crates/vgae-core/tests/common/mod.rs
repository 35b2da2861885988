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
