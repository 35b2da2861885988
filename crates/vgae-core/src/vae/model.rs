//! The MLP VAE. Parameters are named as in the PyTorch reference (`encoder.fc1.weight`). In memory a weight
//! is kept as `[in, out]` (so the forward pass and its gradient are plain contiguous matmuls with no strided
//! transpose copies); checkpoints and [`Vae::export`] hold PyTorch's `[out, in]` layout.

use super::config::{Activation, Init, Likelihood, VaeConfig};
use super::loss;
use crate::optim::Params;
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::{Device, Tensor, Var};
use std::collections::HashMap;

/// A fully connected layer `y = x W + b`, `W: [in, out]` (the transpose of `torch.nn.Linear.weight`).
#[derive(Debug, Clone)]
pub struct Linear {
    /// `[in, out]`.
    pub weight: Var,
    /// `[out]`, broadcast over the rows.
    pub bias: Var,
}

impl Linear {
    fn new(
        fan_in: usize,
        fan_out: usize,
        init: Init,
        rng: &mut RunRng,
        dev: &Device,
    ) -> Result<Self> {
        let (w, b) = match init {
            Init::Torch => {
                let r = 1.0 / (fan_in as f32).sqrt();
                (
                    rng.uniform(-r, r, &[fan_out, fan_in], dev)?,
                    rng.uniform(-r, r, &[fan_out], dev)?,
                )
            }
            Init::Normal(s) => (
                (rng.normal(&[fan_out, fan_in], dev)? * s as f64)?,
                (rng.normal(&[fan_out], dev)? * s as f64)?,
            ),
        };
        // Drawn in PyTorch's [out, in] order, stored as [in, out].
        Ok(Linear {
            weight: Var::from_tensor(&w.t()?.contiguous()?)?,
            bias: Var::from_tensor(&b)?,
        })
    }

    /// `x W + b` for `x: [B, in]`, giving `[B, out]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.matmul(self.weight.as_tensor())?
            .broadcast_add(self.bias.as_tensor())?)
    }
}

/// What the decoder outputs for a batch.
pub struct Decoded {
    /// Bernoulli: logits. Gaussian: the mean in [0, 1].
    pub out: Tensor,
    /// Gaussian only: per-pixel log-variance.
    pub logvar: Option<Tensor>,
}

impl Decoded {
    /// The pixel means in [0, 1] (sigmoid of the logits for Bernoulli).
    pub fn mean(&self) -> Result<Tensor> {
        Ok(match self.logvar {
            None => candle_nn::ops::sigmoid(&self.out)?,
            Some(_) => self.out.clone(),
        })
    }

    /// −log p(x | z) per row, summed over pixels.
    pub fn nll(&self, x: &Tensor) -> Result<Tensor> {
        match &self.logvar {
            None => loss::bce_with_logits_sum(&self.out, x),
            Some(lv) => loss::gaussian_nll_sum(&self.out, lv, x),
        }
    }
}

/// Swaps the two dimensions of a 2-D tensor (a weight or its optimiser state); others are returned as is.
/// The map is its own inverse: in-memory `[in, out]` ⇄ PyTorch `[out, in]`.
pub fn to_torch_layout(t: &Tensor) -> Result<Tensor> {
    Ok(if t.rank() == 2 {
        t.t()?.contiguous()?
    } else {
        t.clone()
    })
}

/// The encoder q(z | x) and decoder p(x | z) MLPs of a VAE, built from a [`VaeConfig`]: hidden layers
/// `encoder.fc1…`, heads `encoder.fc_mu` / `encoder.fc_logvar`, hidden layers `decoder.fc1…` and the output
/// `decoder.fc_out` (plus `decoder.fc_out_logvar` for a Gaussian likelihood).
pub struct Vae {
    /// The configuration it was built from.
    pub cfg: VaeConfig,
    pub(super) enc: Vec<(String, Linear)>,
    pub(super) mu: Linear,
    pub(super) logvar: Linear,
    pub(super) dec: Vec<(String, Linear)>,
    pub(super) out: Linear,
    pub(super) out_logvar: Option<Linear>,
}

impl Vae {
    /// A freshly initialised model; every draw comes from `rng`.
    pub fn new(cfg: &VaeConfig, rng: &mut RunRng, dev: &Device) -> Result<Self> {
        if cfg.z == 0 || cfg.input_dim == 0 || cfg.hidden.contains(&0) {
            return Err(Error::msg(format!(
                "invalid VAE sizes: input {}, hidden {:?}, z {}",
                cfg.input_dim, cfg.hidden, cfg.z
            )));
        }
        let mut enc = Vec::new();
        let mut d = cfg.input_dim;
        for (i, &h) in cfg.hidden.iter().enumerate() {
            enc.push((
                format!("encoder.fc{}", i + 1),
                Linear::new(d, h, cfg.init, rng, dev)?,
            ));
            d = h;
        }
        let mu = Linear::new(d, cfg.z, cfg.init, rng, dev)?;
        let logvar = Linear::new(d, cfg.z, cfg.init, rng, dev)?;
        let mut dec = Vec::new();
        let mut d = cfg.z;
        for (i, &h) in cfg.hidden.iter().rev().enumerate() {
            dec.push((
                format!("decoder.fc{}", i + 1),
                Linear::new(d, h, cfg.init, rng, dev)?,
            ));
            d = h;
        }
        let out = Linear::new(d, cfg.input_dim, cfg.init, rng, dev)?;
        let out_logvar = match cfg.likelihood {
            Likelihood::Bernoulli => None,
            Likelihood::Gaussian => Some(Linear::new(d, cfg.input_dim, cfg.init, rng, dev)?),
        };
        Ok(Vae {
            cfg: cfg.clone(),
            enc,
            mu,
            logvar,
            dec,
            out,
            out_logvar,
        })
    }

    /// Every parameter's name and shape in PyTorch's layout (weights `[out, in]`), in [`Vae::params`] order,
    /// computed from the configuration alone: what a checkpoint of this model must hold.
    pub fn param_shapes(cfg: &VaeConfig) -> Vec<(String, Vec<usize>)> {
        let mut layers: Vec<(String, usize, usize)> = Vec::new(); // (name, in, out)
        let mut d = cfg.input_dim;
        for (i, &h) in cfg.hidden.iter().enumerate() {
            layers.push((format!("encoder.fc{}", i + 1), d, h));
            d = h;
        }
        layers.push(("encoder.fc_mu".into(), d, cfg.z));
        layers.push(("encoder.fc_logvar".into(), d, cfg.z));
        let mut d = cfg.z;
        for (i, &h) in cfg.hidden.iter().rev().enumerate() {
            layers.push((format!("decoder.fc{}", i + 1), d, h));
            d = h;
        }
        layers.push(("decoder.fc_out".into(), d, cfg.input_dim));
        if cfg.likelihood == Likelihood::Gaussian {
            layers.push(("decoder.fc_out_logvar".into(), d, cfg.input_dim));
        }
        layers
            .into_iter()
            .flat_map(|(n, i, o)| {
                [
                    (format!("{n}.weight"), vec![o, i]),
                    (format!("{n}.bias"), vec![o]),
                ]
            })
            .collect()
    }

    pub(super) fn layers(&self) -> Vec<(String, &Linear)> {
        let mut v: Vec<(String, &Linear)> = self.enc.iter().map(|(n, l)| (n.clone(), l)).collect();
        v.push(("encoder.fc_mu".into(), &self.mu));
        v.push(("encoder.fc_logvar".into(), &self.logvar));
        v.extend(self.dec.iter().map(|(n, l)| (n.clone(), l)));
        v.push(("decoder.fc_out".into(), &self.out));
        if let Some(l) = &self.out_logvar {
            v.push(("decoder.fc_out_logvar".into(), l));
        }
        v
    }

    /// Parameters in a fixed order, named like the PyTorch reference.
    pub fn params(&self) -> Params {
        self.layers()
            .into_iter()
            .flat_map(|(n, l)| {
                [
                    (format!("{n}.weight"), l.weight.clone()),
                    (format!("{n}.bias"), l.bias.clone()),
                ]
            })
            .collect()
    }

    /// Total number of scalar parameters (weights and biases).
    pub fn num_params(&self) -> usize {
        self.params().iter().map(|(_, v)| v.elem_count()).sum()
    }

    /// The parameters in PyTorch's layout (weights `[out, in]`), e.g. for a checkpoint.
    pub fn export(&self) -> Result<Vec<(String, Tensor)>> {
        self.params()
            .into_iter()
            .map(|(n, v)| Ok((n, to_torch_layout(v.as_tensor())?)))
            .collect()
    }

    /// Overwrites every parameter from named tensors in PyTorch's layout (e.g. a checkpoint); all must be
    /// present with the same shape.
    pub fn load(&self, tensors: &HashMap<String, Tensor>) -> Result<()> {
        for (n, v) in self.params() {
            let t = tensors
                .get(&n)
                .ok_or_else(|| Error::msg(format!("checkpoint lacks parameter '{n}'")))?;
            let t = to_torch_layout(t)?;
            if t.shape() != v.shape() {
                return Err(Error::msg(format!(
                    "parameter '{n}' has shape {:?} in the checkpoint, the model expects {:?}",
                    t.shape(),
                    v.shape()
                )));
            }
            v.set(&t.to_device(v.device())?.to_dtype(v.dtype())?)?;
        }
        Ok(())
    }

    fn act(&self, x: &Tensor) -> Result<Tensor> {
        Ok(match self.cfg.activation {
            Activation::Relu => x.relu()?,
            Activation::Tanh => x.tanh()?,
        })
    }

    /// q(z | x): returns (μ, log σ²), each `[B, z]`.
    pub fn encode(&self, x: &Tensor) -> Result<(Tensor, Tensor)> {
        let mut h = x.clone();
        for (_, l) in &self.enc {
            h = self.act(&l.forward(&h)?)?;
        }
        Ok((self.mu.forward(&h)?, self.logvar.forward(&h)?))
    }

    /// p(x | z) for `z: [B, z]`.
    pub fn decode(&self, z: &Tensor) -> Result<Decoded> {
        let mut h = z.clone();
        for (_, l) in &self.dec {
            h = self.act(&l.forward(&h)?)?;
        }
        Ok(Decoded {
            out: match self.out_logvar {
                None => self.out.forward(&h)?,
                Some(_) => candle_nn::ops::sigmoid(&self.out.forward(&h)?)?,
            },
            logvar: match &self.out_logvar {
                Some(l) => Some(l.forward(&h)?),
                None => None,
            },
        })
    }

    /// −ELBO per image `[B]` (reconstruction NLL + KL) for one reparameterised sample z = μ + σ·ε,
    /// with `eps: [B, z]` drawn by the caller from the run's RNG. Returns (−ELBO, NLL, KL).
    pub fn neg_elbo(&self, x: &Tensor, eps: &Tensor) -> Result<(Tensor, Tensor, Tensor)> {
        let (mu, logvar) = self.encode(x)?;
        let z = (&mu + ((&logvar * 0.5)?.exp()? * eps)?)?;
        let nll = self.decode(&z)?.nll(x)?;
        let kl = loss::kl_std_normal(&mu, &logvar)?;
        Ok(((&nll + &kl)?, nll, kl))
    }
}
