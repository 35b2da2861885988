//! The settings of a mini-batch run, saved beside its outputs and in its checkpoints.

use crate::{Error, Result};

/// Mini-batch training of the featureless GAE (GAE*): edge batches, neighbour-sampled receptive fields.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MiniBatchConfig {
    /// Positive training edges per batch; each batch also draws as many uniform negative pairs.
    pub batch_edges: usize,
    /// Neighbours sampled per node for each GCN layer, input layer first; 0 takes every neighbour (exact).
    pub fanouts: Vec<usize>,
    /// Widths of the hidden layers (the paper: `[32]`); one fan-out per layer, so `fanouts.len()` is
    /// `hidden.len() + 1`.
    pub hidden: Vec<usize>,
    /// Embedding size (the paper: 16).
    pub latent: usize,
    /// Passes over the training edges.
    pub epochs: usize,
    /// Adam's learning rate, for the embedding table (lazy Adam) and the dense weights alike.
    pub lr: f64,
    /// Validation scoring every this many epochs (and after the last); 0: only after the last.
    pub eval_every: usize,
    /// The last layer reads the hidden rows of out-of-batch neighbours from a history of stored rows
    /// (GNNAutoScale) instead of computing them: a one-hop receptive field. Needs one hidden layer and a
    /// last fan-out of 0.
    #[serde(default)]
    pub history: bool,
}

impl MiniBatchConfig {
    /// The paper's GAE* sizes (32 hidden, 16 latent, lr 0.01) with batches of `batch_edges` edges and
    /// fan-outs `fanouts` (input layer first).
    pub fn paper(batch_edges: usize, fanouts: Vec<usize>, epochs: usize) -> Self {
        MiniBatchConfig {
            batch_edges,
            fanouts,
            hidden: vec![32],
            latent: 16,
            epochs,
            lr: 0.01,
            eval_every: 1,
            history: false,
        }
    }

    /// Checks the sizes, naming the setting that is wrong.
    pub fn validate(&self) -> Result<()> {
        if self.batch_edges == 0 {
            return Err(Error::msg("mini-batch: --batch-edges must be at least 1"));
        }
        if self.fanouts.len() != self.hidden.len() + 1 {
            return Err(Error::msg(format!(
                "mini-batch: --fanouts has {} entries, the encoder has {} GCN layers (one fan-out each, \
                 input layer first; 0 = every neighbour)",
                self.fanouts.len(),
                self.hidden.len() + 1
            )));
        }
        if self.latent == 0 || self.hidden.contains(&0) {
            return Err(Error::msg("mini-batch: layer widths must be positive"));
        }
        if self.history && (self.hidden.len() != 1 || self.fanouts.last() != Some(&0)) {
            return Err(Error::msg(format!(
                "mini-batch: --history needs one hidden layer (got {}) and a last fan-out of 0, since the \
                 last layer reads every neighbour, fresh or stored (got --fanouts {:?})",
                self.hidden.len(),
                self.fanouts
            )));
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::msg(format!(
                "mini-batch: learning rate {} must be positive",
                self.lr
            )));
        }
        Ok(())
    }

    /// Widths of every layer's output, input layer first: hidden, then latent.
    pub fn widths(&self) -> Vec<usize> {
        self.hidden.iter().copied().chain([self.latent]).collect()
    }
}
