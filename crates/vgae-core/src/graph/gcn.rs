//! The GCN encoder of Kipf & Welling (2016): two graph convolutions, ReLU between, no biases.
//! For VGAE the second layer has a mean head and a log-std head sharing the first layer.

use super::encoder::{Encoded, Encoder, GraphInput};
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::Tensor;
use candle_nn::{Init, VarBuilder};
use serde::{Deserialize, Serialize};
use vgae_data::Graph;

/// The GCN's sizes and input mode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GcnConfig {
    /// Columns of the first layer's input: the number of features, or of nodes when `featureless`.
    pub in_dim: usize,
    /// Width of the first layer (the paper: 32).
    pub hidden: usize,
    /// Embedding size (the paper: 16).
    pub latent: usize,
    /// A log-std head beside the mean head (VGAE).
    pub variational: bool,
    /// X = I (GAE* / VGAE*): the first layer is a learned `[n_nodes, hidden]` matrix, never multiplied.
    pub featureless: bool,
    /// Dropout on the hidden layer in training (the paper: 0).
    pub dropout: f32,
}

impl GcnConfig {
    /// The paper's sizes on `graph`: its features if `use_features` (else X = I), 32 hidden, 16 latent.
    pub fn paper(graph: &Graph, use_features: bool, variational: bool) -> Self {
        GcnConfig {
            in_dim: if use_features {
                graph.features.as_ref().map_or(0, |x| x.cols)
            } else {
                graph.num_nodes
            },
            hidden: 32,
            latent: 16,
            variational,
            featureless: !use_features,
            dropout: 0.0,
        }
    }
}

/// Two-layer GCN: Z = Â · ReLU(Â X W₁) · W₂.
pub struct GcnEncoder {
    /// `[in_dim, hidden]`.
    pub conv1: Tensor,
    /// `[hidden, latent]`: the mean head (VGAE) or the second layer (GAE).
    pub conv_mu: Tensor,
    /// `[hidden, latent]`, VGAE only.
    pub conv_logstd: Option<Tensor>,
    /// The configuration it was built with.
    pub cfg: GcnConfig,
}

/// Glorot / Xavier-uniform bound for a `[fan_in, fan_out]` weight, as in the reference GCN.
fn glorot(fan_in: usize, fan_out: usize) -> Init {
    let r = (6.0 / (fan_in + fan_out) as f32).sqrt();
    Init::Uniform {
        lo: -r as f64,
        up: r as f64,
    }
}

impl GcnEncoder {
    /// Creates `conv1.weight`, then `conv_mu.weight` and `conv_logstd.weight` (VGAE) or `conv2.weight`
    /// (GAE), Glorot-uniform, under `vb`'s prefix (PyTorch Geometric's names with `vb.pp("encoder")`).
    pub fn new(vb: VarBuilder, cfg: GcnConfig) -> Result<Self> {
        if cfg.in_dim == 0 || cfg.hidden == 0 || cfg.latent == 0 {
            return Err(Error::msg(format!(
                "GCN sizes must be positive: in {} hidden {} latent {} (a graph without features needs X = I)",
                cfg.in_dim, cfg.hidden, cfg.latent
            )));
        }
        if !(0.0..1.0).contains(&cfg.dropout) {
            return Err(Error::msg(format!(
                "dropout {} is outside [0, 1)",
                cfg.dropout
            )));
        }
        let (h, l) = (cfg.hidden, cfg.latent);
        let conv1 = vb.get_with_hints((cfg.in_dim, h), "conv1.weight", glorot(cfg.in_dim, h))?;
        let mu_name = if cfg.variational {
            "conv_mu.weight"
        } else {
            "conv2.weight"
        };
        let conv_mu = vb.get_with_hints((h, l), mu_name, glorot(h, l))?;
        let conv_logstd = match cfg.variational {
            true => Some(vb.get_with_hints((h, l), "conv_logstd.weight", glorot(h, l))?),
            false => None,
        };
        Ok(GcnEncoder {
            conv1,
            conv_mu,
            conv_logstd,
            cfg,
        })
    }

    fn dropout(&self, x: Tensor, rng: Option<&mut RunRng>) -> Result<Tensor> {
        match rng {
            Some(rng) if self.cfg.dropout > 0.0 => {
                let keep = 1.0 - self.cfg.dropout;
                let mask = rng
                    .uniform(0.0, 1.0, x.dims(), x.device())?
                    .lt(keep)?
                    .to_dtype(x.dtype())?;
                Ok((x * mask)?.affine(1.0 / keep as f64, 0.0)?)
            }
            _ => Ok(x),
        }
    }
}

impl Encoder for GcnEncoder {
    fn encode(&self, input: &GraphInput, rng: Option<&mut RunRng>) -> Result<Encoded> {
        let adj = &input.adj;
        let xw = if self.cfg.featureless {
            if input.num_nodes != self.cfg.in_dim {
                return Err(Error::msg(format!(
                    "the graph has {} nodes, the featureless encoder was built for {}",
                    input.num_nodes, self.cfg.in_dim
                )));
            }
            self.conv1.clone() // I · W = W
        } else {
            let x = input.require_features()?;
            if x.a.cols != self.cfg.in_dim {
                return Err(Error::msg(format!(
                    "the graph has {} features, the encoder was built for {}",
                    x.a.cols, self.cfg.in_dim
                )));
            }
            x.matmul(&self.conv1)? // [n_nodes, hidden]
        };
        let h = adj.matmul(&xw)?.relu()?; // [n_nodes, hidden]
        let h = self.dropout(h, rng)?;
        let mu = adj.matmul(&h.matmul(&self.conv_mu)?)?; // [n_nodes, latent]
        let logstd = match &self.conv_logstd {
            Some(w) => Some(adj.matmul(&h.matmul(w)?)?), // [n_nodes, latent]
            None => None,
        };
        Ok(Encoded { mu, logstd })
    }
}
