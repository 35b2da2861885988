//! The GCN encoder of Kipf & Welling (2016): two graph convolutions, ReLU between, no biases.
//! For VGAE the second layer has a mean head and a log-std head sharing the first layer.

use super::sparse::SparseMatrix;
use crate::rng::RunRng;
use crate::Result;
use candle_core::{Device, Tensor, Var};
use std::sync::Arc;

/// What the first layer multiplies: sparse node features, or nothing (X = I, the featureless GAE* / VGAE*).
pub enum Input {
    Features(Arc<SparseMatrix>), // [n_nodes, n_features]
    Identity,
}

/// Encoder output: the mean (or the embedding, for GAE) and, for VGAE, the log standard deviation.
pub struct Encoded {
    pub mu: Tensor,             // [n_nodes, latent]
    pub logstd: Option<Tensor>, // [n_nodes, latent]
}

pub struct GcnEncoder {
    pub conv1: Var,               // [n_features (or n_nodes), hidden]
    pub conv_mu: Var,             // [hidden, latent]
    pub conv_logstd: Option<Var>, // [hidden, latent], VGAE only
    input: Input,
    pub dropout: f32,
}

impl GcnEncoder {
    /// Glorot-uniform weights from the run's RNG, in the order conv1, conv_mu, conv_logstd.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        input: Input,
        n_nodes: usize,
        hidden: usize,
        latent: usize,
        variational: bool,
        dropout: f32,
        rng: &mut RunRng,
        dev: &Device,
    ) -> Result<Self> {
        let fan_in = match &input {
            Input::Features(x) => x.a.cols,
            Input::Identity => n_nodes,
        };
        let conv1 = Var::from_tensor(&rng.glorot(fan_in, hidden, dev)?)?;
        let conv_mu = Var::from_tensor(&rng.glorot(hidden, latent, dev)?)?;
        let conv_logstd = if variational {
            Some(Var::from_tensor(&rng.glorot(hidden, latent, dev)?)?)
        } else {
            None
        };
        Ok(GcnEncoder {
            conv1,
            conv_mu,
            conv_logstd,
            input,
            dropout,
        })
    }

    /// Named parameters, PyTorch-Geometric style (`conv_mu` is `conv2` for a plain GAE).
    pub fn params(&self) -> Vec<(String, Var)> {
        let mut p = vec![("encoder.conv1.weight".to_string(), self.conv1.clone())];
        match &self.conv_logstd {
            Some(ls) => {
                p.push(("encoder.conv_mu.weight".into(), self.conv_mu.clone()));
                p.push(("encoder.conv_logstd.weight".into(), ls.clone()));
            }
            None => p.push(("encoder.conv2.weight".into(), self.conv_mu.clone())),
        }
        p
    }

    fn drop(&self, x: Tensor, rng: Option<&mut RunRng>) -> Result<Tensor> {
        match rng {
            Some(rng) if self.dropout > 0.0 => {
                let keep = 1.0 - self.dropout;
                let mask = rng
                    .uniform(0.0, 1.0, x.dims(), x.device())?
                    .lt(keep)?
                    .to_dtype(x.dtype())?;
                Ok((x * mask)?.affine(1.0 / keep as f64, 0.0)?)
            }
            _ => Ok(x),
        }
    }

    /// Encodes with propagation matrix `adj` (Â of the training graph). `rng` = Some enables dropout.
    pub fn forward(&self, adj: &Arc<SparseMatrix>, rng: Option<&mut RunRng>) -> Result<Encoded> {
        let xw = match &self.input {
            Input::Features(x) => x.matmul(self.conv1.as_tensor())?, // [n_nodes, hidden]
            Input::Identity => self.conv1.as_tensor().clone(),       // I · W = W
        };
        let h = adj.matmul(&xw)?.relu()?; // [n_nodes, hidden]
        let h = self.drop(h, rng)?;
        let mu = adj.matmul(&h.matmul(self.conv_mu.as_tensor())?)?; // [n_nodes, latent]
        let logstd = match &self.conv_logstd {
            Some(w) => Some(adj.matmul(&h.matmul(w.as_tensor())?)?),
            None => None,
        };
        Ok(Encoded { mu, logstd })
    }
}
