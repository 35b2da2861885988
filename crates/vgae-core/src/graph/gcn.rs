//! The GCN encoder of Kipf & Welling (2016) and its family: any number of graph convolutions with ReLU between,
//! no biases (optionally a zero-initialised bias after each, as PyTorch Geometric's `GCNConv`). The paper's has one hidden layer of 32; none is the linear model Z = ÂXW of Salha et al.,
//! "Simple and effective graph autoencoders with one-hop linear models" (2020); more are the deeper encoders of
//! the same authors' code. For VGAE the last layer is a mean head and a log-std head sharing the layers before.

use super::encoder::{Encoded, Encoder, GraphInput};
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::Tensor;
use candle_nn::{Init, VarBuilder};
use serde::{Deserialize, Serialize};
use vgae_data::Graph;

/// The GCN's sizes and input mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GcnConfig {
    /// Columns of the first layer's input: the number of features, or of nodes when `featureless`.
    pub in_dim: usize,
    /// Widths of the hidden layers, in order (the paper: `[32]`; empty: the linear model Z = ÂXW).
    pub hidden: Vec<usize>,
    /// Embedding size (the paper: 16).
    pub latent: usize,
    /// A log-std head beside the mean head (VGAE).
    pub variational: bool,
    /// X = I (GAE* / VGAE*): the first layer is a learned `[n_nodes, width]` matrix, never multiplied.
    pub featureless: bool,
    /// Dropout on every hidden layer's output in training (the paper: 0).
    pub dropout: f32,
    /// A bias after every convolution, zero-initialised: PyG's `GCNConv` default (the paper's has none).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bias: bool,
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
            hidden: vec![32],
            latent: 16,
            variational,
            featureless: !use_features,
            dropout: 0.0,
            bias: false,
        }
    }

    /// The linear model (no hidden layer) with the paper's latent size, on `graph`.
    pub fn linear(graph: &Graph, use_features: bool, variational: bool) -> Self {
        GcnConfig {
            hidden: Vec::new(),
            ..GcnConfig::paper(graph, use_features, variational)
        }
    }
}

/// GCN: H₀ = X, H_l = ReLU(Â H_(l−1) W_l) for each hidden layer, Z = Â H_L W_out.
pub struct GcnEncoder {
    /// Hidden layers' weights: `[in_dim, h₁]`, `[h₁, h₂]`, …
    pub layers: Vec<Tensor>,
    /// `[h_L (or in_dim), latent]`: the mean head (VGAE) or the output layer (GAE).
    pub conv_mu: Tensor,
    /// `[h_L (or in_dim), latent]`, VGAE only.
    pub conv_logstd: Option<Tensor>,
    /// With `cfg.bias`: one `[width]` bias per hidden layer, then the mean head's and the log-std head's.
    pub biases: Vec<Tensor>,
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
    /// Creates `conv1.weight` … `convL.weight` for the L hidden layers, then `conv_mu.weight` and
    /// `conv_logstd.weight` (VGAE) or `conv{L+1}.weight` (GAE), Glorot-uniform, under `vb`'s prefix: with
    /// `vb.pp("encoder")` and one hidden layer these are PyTorch Geometric's names for the paper's model.
    /// With `cfg.bias`, `….bias` beside each, zeros.
    pub fn new(vb: VarBuilder, cfg: GcnConfig) -> Result<Self> {
        if cfg.in_dim == 0 || cfg.latent == 0 || cfg.hidden.contains(&0) {
            return Err(Error::msg(format!(
                "GCN sizes must be positive: in {} hidden {:?} latent {} (a graph without features needs X = I)",
                cfg.in_dim, cfg.hidden, cfg.latent
            )));
        }
        if !(0.0..1.0).contains(&cfg.dropout) {
            return Err(Error::msg(format!(
                "dropout {} is outside [0, 1)",
                cfg.dropout
            )));
        }
        let mut fan_in = cfg.in_dim;
        let mut layers = Vec::with_capacity(cfg.hidden.len());
        for (i, &h) in cfg.hidden.iter().enumerate() {
            let name = format!("conv{}.weight", i + 1);
            layers.push(vb.get_with_hints((fan_in, h), &name, glorot(fan_in, h))?);
            fan_in = h;
        }
        let l = cfg.latent;
        let mu_name = match cfg.variational {
            true => "conv_mu.weight".to_string(),
            false => format!("conv{}.weight", cfg.hidden.len() + 1),
        };
        let conv_mu = vb.get_with_hints((fan_in, l), &mu_name, glorot(fan_in, l))?;
        let conv_logstd = match cfg.variational {
            true => {
                Some(vb.get_with_hints((fan_in, l), "conv_logstd.weight", glorot(fan_in, l))?)
            }
            false => None,
        };
        // Biases after every weight, so that a run without them draws exactly what it always drew.
        let mut biases = Vec::new();
        if cfg.bias {
            let widths = cfg.hidden.iter().copied().chain(std::iter::once(l));
            let mut names: Vec<String> = (1..=cfg.hidden.len())
                .map(|i| format!("conv{i}.bias"))
                .collect();
            names.push(mu_name.replace(".weight", ".bias"));
            for (name, w) in names.iter().zip(widths) {
                biases.push(vb.get_with_hints(w, name, Init::Const(0.0))?);
            }
            if cfg.variational {
                biases.push(vb.get_with_hints(l, "conv_logstd.bias", Init::Const(0.0))?);
            }
        }
        Ok(GcnEncoder {
            layers,
            conv_mu,
            conv_logstd,
            biases,
            cfg,
        })
    }

    /// X · W for the first layer: W itself when X = I, else the sparse product (checking the sizes).
    fn input_times(&self, input: &GraphInput, w: &Tensor) -> Result<Tensor> {
        if self.cfg.featureless {
            if input.num_nodes != self.cfg.in_dim {
                return Err(Error::msg(format!(
                    "the graph has {} nodes, the featureless encoder was built for {}",
                    input.num_nodes, self.cfg.in_dim
                )));
            }
            return Ok(w.clone()); // I · W = W
        }
        let x = input.require_features()?;
        if x.a.cols != self.cfg.in_dim {
            return Err(Error::msg(format!(
                "the graph has {} features, the encoder was built for {}",
                x.a.cols, self.cfg.in_dim
            )));
        }
        Ok(x.matmul(w)?) // [n_nodes, width]
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
    fn encode(&self, input: &GraphInput, mut rng: Option<&mut RunRng>) -> Result<Encoded> {
        let adj = &input.adj;
        let bias = |k: usize, x: Tensor| -> Result<Tensor> {
            match self.biases.get(k) {
                Some(b) => Ok(x.broadcast_add(b)?),
                None => Ok(x),
            }
        };
        let mut h: Option<Tensor> = None; // H_l, [n_nodes, h_l]; None while it is still X
        for (k, w) in self.layers.iter().enumerate() {
            let hw = match &h {
                None => self.input_times(input, w)?,
                Some(h) => h.matmul(w)?,
            };
            let out = bias(k, adj.matmul(&hw)?)?.relu()?; // [n_nodes, h_l]
            h = Some(self.dropout(out, rng.as_deref_mut())?);
        }
        let head = |w: &Tensor, k: usize| -> Result<Tensor> {
            let hw = match &h {
                None => self.input_times(input, w)?,
                Some(h) => h.matmul(w)?,
            };
            bias(k, adj.matmul(&hw)?) // [n_nodes, latent]
        };
        let n_layers = self.layers.len();
        let mu = head(&self.conv_mu, n_layers)?;
        let logstd = match &self.conv_logstd {
            Some(w) => Some(head(w, n_layers + 1)?),
            None => None,
        };
        Ok(Encoded { mu, logstd })
    }
}
