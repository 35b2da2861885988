//! Helpers shared by vgae-core's integration tests.

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
