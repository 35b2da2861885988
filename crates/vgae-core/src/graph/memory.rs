//! A memory estimate of a GCN autoencoder run, checked before anything is allocated: a `--hidden 100000`
//! on Cora used to start and grow to ~14 GB before the machine ran out.
//!
//! The estimate counts what the run holds at its peak, in f32:
//! - each weight four times over (value, gradient, Adam's two moments) plus one temporary of the update;
//! - per layer of width `w`, [`ACTIVATIONS_PER_LAYER`] `[n_nodes, w]` tensors alive between the forward
//!   pass and the backward pass (ÂHW, ReLU, dropout mask, their gradients, Candle's saved inputs);
//! - the input features (dense `[n, f]`, or CSR values and indices).
//!
//! It is calibrated on measured runs (see [`ACTIVATIONS_PER_LAYER`]) and meant to refuse what cannot fit, not to
//! predict RSS to the megabyte.

use super::gcn::GcnConfig;
use crate::{Error, Result};

/// `[n_nodes, width]` f32 tensors per layer alive at the peak of a training step (forward values kept for
/// the backward pass, their gradients, and temporaries of the propagation). Calibrated on Cora, 3 epochs,
/// peak RSS (`/usr/bin/time -f %M`, 2-core AMD EPYC): VGAE `--hidden 4000` 613 MB (estimate 554 MB),
/// `--hidden 8192` 1238 MB (1131 MB), GAE* `--hidden 2000` 298 MB (327 MB); the binary itself adds ~60 MB.
pub const ACTIVATIONS_PER_LAYER: u64 = 10;
/// Copies of each weight: value, gradient, Adam's first and second moments, one update temporary.
pub const COPIES_PER_WEIGHT: u64 = 5;

/// What a run is expected to hold at its peak, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// Weights with their gradients and optimiser state.
    pub parameters: u64,
    /// Per-node activations of every layer and their gradients.
    pub activations: u64,
    /// The input features.
    pub features: u64,
}

impl MemoryEstimate {
    /// The GCN encoder `cfg` on `n_nodes` nodes with `feature_bytes` of input features.
    pub fn gcn(cfg: &GcnConfig, n_nodes: usize, feature_bytes: u64) -> Self {
        let heads = if cfg.variational { 2 } else { 1 };
        let mut widths = vec![cfg.in_dim as u64];
        widths.extend(cfg.hidden.iter().map(|&h| h as u64));
        let last = *widths.last().unwrap_or(&0);
        let weights: u64 =
            widths.windows(2).map(|w| w[0] * w[1]).sum::<u64>() + heads * last * cfg.latent as u64;
        // Every layer's output, the heads' outputs and (featureless) nothing for the identity input.
        let outputs: u64 =
            cfg.hidden.iter().map(|&h| h as u64).sum::<u64>() + heads * cfg.latent as u64;
        let n = n_nodes as u64;
        MemoryEstimate {
            parameters: 4 * COPIES_PER_WEIGHT * weights,
            activations: 4 * ACTIVATIONS_PER_LAYER * n * outputs,
            features: feature_bytes,
        }
    }

    /// The whole estimate in bytes.
    pub fn total(&self) -> u64 {
        self.parameters + self.activations + self.features
    }

    /// Refuses the run when it needs more than `available` bytes, with the breakdown and what to change.
    pub fn check(&self, available: Option<u64>) -> Result<()> {
        let Some(avail) = available else {
            return Ok(());
        };
        if self.total() <= avail {
            return Ok(());
        }
        Err(Error::msg(format!(
            "this run needs about {} (weights with gradients and Adam state {}, activations {}, features {}) \
             but {} of memory is available: lower --hidden / --layers / --latent, or train on a larger machine",
            gb(self.total()),
            gb(self.parameters),
            gb(self.activations),
            gb(self.features),
            gb(avail)
        )))
    }
}

fn gb(bytes: u64) -> String {
    format!("{:.2} GB", bytes as f64 / 1e9)
}

/// Memory available to a new allocation on this machine (Linux `MemAvailable`), or `None` where unknown.
pub fn available_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    parse_meminfo(&info)
}

/// `MemAvailable` from the text of `/proc/meminfo`, in bytes.
pub fn parse_meminfo(info: &str) -> Option<u64> {
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cora(hidden: Vec<usize>, variational: bool) -> GcnConfig {
        GcnConfig {
            in_dim: 1433,
            hidden,
            latent: 16,
            variational,
            featureless: false,
            dropout: 0.0,
            bias: false,
        }
    }

    #[test]
    fn the_estimate_counts_weights_heads_and_activations() {
        // VGAE 1433 → 32 → 2 × 16 on 2708 nodes: 1433·32 + 2·32·16 = 46 880 weights.
        let e = MemoryEstimate::gcn(&cora(vec![32], true), 2708, 1000);
        assert_eq!(e.parameters, 4 * COPIES_PER_WEIGHT * 46_880);
        assert_eq!(e.activations, 4 * ACTIVATIONS_PER_LAYER * 2708 * (32 + 32));
        assert_eq!(e.total(), e.parameters + e.activations + 1000);
        // The linear GAE: one 1433 × 16 layer, one output.
        let l = MemoryEstimate::gcn(&cora(vec![], false), 2708, 0);
        assert_eq!(l.parameters, 4 * COPIES_PER_WEIGHT * 1433 * 16);
        assert_eq!(l.activations, 4 * ACTIVATIONS_PER_LAYER * 2708 * 16);
    }

    #[test]
    fn a_run_that_cannot_fit_is_refused_with_the_flags_to_change() {
        // The case that used to take ~14 GB on Cora.
        let e = MemoryEstimate::gcn(&cora(vec![100_000], true), 2708, 0);
        assert!(e.total() > 10_000_000_000, "{e:?}");
        let msg = e.check(Some(4_000_000_000)).unwrap_err().to_string();
        assert!(msg.contains("--hidden") && msg.contains("4.00 GB"), "{msg}");
        assert!(e.check(Some(e.total())).is_ok());
        assert!(e.check(None).is_ok());
        // The paper's model fits in a few megabytes.
        assert!(MemoryEstimate::gcn(&cora(vec![32], true), 2708, 0).total() < 10_000_000);
    }

    #[test]
    fn meminfo_is_parsed_in_bytes() {
        let info = "MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   20000000 kB\n";
        assert_eq!(parse_meminfo(info), Some(20_000_000 * 1024));
        assert_eq!(parse_meminfo("MemTotal: 5 kB\n"), None);
    }
}
