//! Adversarially regularised graph autoencoders, ARGA and ARGVA (Pan et al., IJCAI 2018; PyTorch Geometric's
//! `ARGA` / `ARGVA`): an MLP discriminator learns to tell the embeddings from draws of the prior N(0, I), and
//! the encoder is trained to fool it beside its reconstruction loss.
//!
//! One training step, as PyG's example runs it: encode once; `steps` discriminator updates on the detached
//! embedding against fresh prior draws (its own Adam); then the encoder's loss recon + reg (+ KL for ARGVA)
//! with reg = −log σ(D(z)), updated by the trainer's optimiser.

use super::decoder::Decoder;
use super::discriminator_grad::{mlp_bce, HostLayer, MlpGrads, Wanted};
use super::encoder::{Encoder, GraphInput};
use super::loss::{softplus, ReconLoss};
use super::model::{GraphAutoencoder, LinkModel, VariationalGraphAutoencoder};
use crate::metrics::LinkScores;
use crate::optim::{detached, Adam, Optimizer, Params};
use crate::params::ParamStore;
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::Linear;
use std::collections::HashMap;
use std::sync::Mutex;

/// The discriminator's sizes and training.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DiscriminatorConfig {
    /// Input width: the embedding size.
    pub latent: usize,
    /// Widths of the hidden ReLU layers (PyG's example and the ARGA paper: 64, 64).
    pub hidden: Vec<usize>,
    /// Discriminator updates per encoder update (PyG's example: 5).
    pub steps: usize,
    /// The discriminator's Adam learning rate (PyG's example: 0.001).
    pub lr: f64,
}

impl DiscriminatorConfig {
    /// PyG's example settings for embeddings of size `latent`, with one output logit.
    pub fn pyg(latent: usize) -> Self {
        DiscriminatorConfig {
            latent,
            hidden: vec![64, 64],
            steps: 5,
            lr: 0.001,
        }
    }
}

/// An MLP from an embedding row to one logit: "drawn from the prior" (high) or "an embedding" (low).
pub struct Discriminator {
    layers: Vec<Linear>,
}

impl Discriminator {
    /// `lin1` … `linK` (`torch.nn.Linear`'s layout), under `vb`'s prefix, with `torch.nn.Linear`'s default
    /// init as PyG's ARGA has it: weights and biases U(±1 / √fan_in). (`candle_nn::linear`'s N(0, 2 / fan_in)
    /// weights, 2.45× the spread, cost Citeseer ARGA 1.2 points of AP against PyG.)
    pub fn new(vb: candle_nn::VarBuilder, cfg: &DiscriminatorConfig) -> Result<Self> {
        let mut widths = vec![cfg.latent];
        widths.extend(&cfg.hidden);
        widths.push(1);
        if widths.contains(&0) {
            return Err(Error::msg(format!(
                "discriminator sizes must be positive: {widths:?}"
            )));
        }
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| torch_linear(w[0], w[1], vb.pp(format!("lin{}", i + 1))))
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Discriminator { layers })
    }
}

/// A `Linear` initialised as `torch.nn.Linear` (kaiming-uniform with a = √5, i.e. U(±1 / √fan_in), for the
/// weight and the bias).
fn torch_linear(
    fan_in: usize,
    fan_out: usize,
    vb: candle_nn::VarBuilder,
) -> candle_core::Result<Linear> {
    let bound = 1.0 / (fan_in as f64).sqrt();
    let init = candle_nn::Init::Uniform {
        lo: -bound,
        up: bound,
    };
    let w = vb.get_with_hints((fan_out, fan_in), "weight", init)?;
    let b = vb.get_with_hints(fan_out, "bias", init)?;
    Ok(Linear::new(w, Some(b)))
}

impl Discriminator {
    /// The layers copied to the host, for [`mlp_bce`].
    pub fn host_layers(&self) -> Result<Vec<HostLayer>> {
        self.layers
            .iter()
            .map(|l| {
                let (fan_out, fan_in) = l.weight().dims2()?;
                let b = match l.bias() {
                    Some(b) => b.to_vec1::<f32>()?,
                    None => vec![0.0; fan_out],
                };
                Ok(HostLayer {
                    w: l.weight().flatten_all()?.to_vec1::<f32>()?,
                    b,
                    fan_in,
                    fan_out,
                })
            })
            .collect()
    }

    /// [`mlp_bce`]'s layer gradients as tensors, one per parameter of `params` in its order.
    fn param_grads(
        &self,
        params: &Params,
        grads: MlpGrads,
        device: &Device,
    ) -> Result<Vec<Option<Tensor>>> {
        let mut by_id = HashMap::new();
        for (l, (dw, db)) in self.layers.iter().zip(grads.layers) {
            by_id.insert(
                l.weight().id(),
                Tensor::from_vec(dw, l.weight().shape(), device)?,
            );
            if let Some(b) = l.bias() {
                by_id.insert(b.id(), Tensor::from_vec(db, b.shape(), device)?);
            }
        }
        Ok(params
            .iter()
            .map(|(_, v)| by_id.remove(&v.as_tensor().id()))
            .collect())
    }
}

impl Module for Discriminator {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut h = x.clone(); // [n_nodes, latent]
        for (i, l) in self.layers.iter().enumerate() {
            h = l.forward(&h)?;
            if i + 1 < self.layers.len() {
                h = h.relu()?;
            }
        }
        h.squeeze(1) // [n_nodes]
    }
}

/// The discriminator with its optimiser, trained inside each encoder step.
pub struct AdversarialRegulariser {
    discriminator: Discriminator,
    optimizer: Mutex<Adam>,
    steps: usize,
}

impl AdversarialRegulariser {
    /// A discriminator whose weights are drawn from `rng` (its own stream, so the encoder's draws do not move).
    pub fn new(cfg: &DiscriminatorConfig, rng: RunRng, device: &Device) -> Result<Self> {
        let store = ParamStore::new(rng);
        let discriminator = Discriminator::new(store.var_builder(device).pp("discriminator"), cfg)?;
        Ok(AdversarialRegulariser {
            discriminator,
            optimizer: Mutex::new(Adam::new(store.params(), cfg.lr)?),
            steps: cfg.steps,
        })
    }

    /// The discriminator.
    pub fn discriminator(&self) -> &Discriminator {
        &self.discriminator
    }

    /// The discriminator's named parameters.
    pub fn params(&self) -> Params {
        self.with_optimizer(|o| o.params().clone())
    }

    /// The discriminator's loss: −log σ(D(prior)) − log(1 − σ(D(z))), each a mean over rows.
    pub fn discriminator_loss(&self, z: &Tensor, prior: &Tensor) -> Result<Tensor> {
        let real = self.discriminator.forward(prior)?;
        let fake = self.discriminator.forward(z)?;
        Ok((softplus(&real.neg()?)?.mean_all()? + softplus(&fake)?.mean_all()?)?)
    }

    /// The encoder's regulariser −log σ(D(z)), a mean over rows.
    pub fn reg_loss(&self, z: &Tensor) -> Result<Tensor> {
        Ok(softplus(&self.discriminator.forward(z)?.neg()?)?.mean_all()?)
    }

    /// `steps` discriminator updates on `z` (detached) against prior draws from `rng`, then the regulariser.
    /// On the CPU the updates and the regulariser's gradient are derived by hand ([`mlp_bce`]); elsewhere
    /// they go through autograd. Both draw the same priors.
    pub fn train_and_regularise(&self, z: &Tensor, rng: &mut RunRng) -> Result<Tensor> {
        if z.device().is_cpu() && z.dtype() == DType::F32 {
            return self.train_and_regularise_host(z, rng);
        }
        let fixed = z.detach();
        let mut opt = self.optimizer.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..self.steps {
            let prior = rng.normal(fixed.dims(), fixed.device())?;
            let loss = self.discriminator_loss(&fixed, &prior)?;
            let grads = detached(loss.backward()?, opt.params());
            opt.step(&grads)?;
        }
        self.reg_loss(z)
    }

    fn train_and_regularise_host(&self, z: &Tensor, rng: &mut RunRng) -> Result<Tensor> {
        let (n, width) = z.dims2()?;
        let mean = 1.0 / n as f32;
        // Rows 0..n: this step's prior draws (label 1); rows n..2n: the embedding (label 0).
        let mut x = vec![0f32; 2 * n * width];
        x[n * width..].copy_from_slice(&z.flatten_all()?.to_vec1::<f32>()?);
        let both = |r: usize| (if r < n { 1.0 } else { 0.0 }, mean);
        let all = Wanted {
            weights: true,
            input: false,
        };
        let mut opt = self.optimizer.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..self.steps {
            rng.fill_normal(&mut x[..n * width]);
            let grads = mlp_bce(&self.discriminator.host_layers()?, &x, both, all);
            let per_param = self
                .discriminator
                .param_grads(opt.params(), grads, z.device())?;
            opt.step_each(&per_param)?;
        }
        // −log σ(D(z)): label 1 for every row, its gradient in z attached as in `softplus_gram`.
        let input = Wanted {
            weights: false,
            input: true,
        };
        let reg = mlp_bce(
            &self.discriminator.host_layers()?,
            &x[n * width..],
            |_| (1.0, mean),
            input,
        );
        let grad = Tensor::from_vec(reg.input, (n, width), z.device())?;
        let surrogate = (z * grad)?.sum_all()?;
        let value = Tensor::new(reg.loss as f32, z.device())?;
        Ok(((surrogate.clone() - surrogate.detach())? + value)?)
    }

    fn with_optimizer<T>(&self, f: impl FnOnce(&mut Adam) -> T) -> T {
        f(&mut self.optimizer.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// ARGA: a graph autoencoder regularised by a discriminator.
pub struct Arga<E, D> {
    /// Encoder and decoder.
    pub autoencoder: GraphAutoencoder<E, D>,
    /// The discriminator and its optimiser.
    pub regulariser: AdversarialRegulariser,
}

/// ARGVA: a variational graph autoencoder regularised by a discriminator (on z = μ + σ·ε).
pub struct Argva<E, D> {
    /// Encoder and decoder.
    pub autoencoder: VariationalGraphAutoencoder<E, D>,
    /// The discriminator and its optimiser.
    pub regulariser: AdversarialRegulariser,
}

/// The parts every adversarial model shares with the trainer: the discriminator's parameters and state.
macro_rules! adversarial_link_model {
    ($model:ident, $loss:expr) => {
        impl<E: Encoder, D: Decoder> LinkModel for $model<E, D> {
            fn train_loss(
                &self,
                input: &GraphInput,
                recon: &ReconLoss,
                rng: &mut RunRng,
            ) -> Result<Tensor> {
                $loss(self, input, recon, rng)
            }
            fn embed(&self, input: &GraphInput) -> Result<Tensor> {
                self.autoencoder.embed(input)
            }
            fn test(&self, z: &Tensor, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<LinkScores> {
                self.autoencoder.test(z, pos, neg)
            }
            fn own_params(&self) -> Params {
                self.regulariser.params()
            }
            fn own_optimizer_state(&self) -> (Vec<(String, Tensor)>, u64) {
                self.regulariser.with_optimizer(|o| (o.state(), o.steps()))
            }
            fn load_own_optimizer_state(
                &self,
                tensors: &HashMap<String, Tensor>,
                steps: u64,
            ) -> Result<()> {
                self.regulariser
                    .with_optimizer(|o| o.load_state(tensors, steps))
            }
        }
    };
}

fn arga_loss<E: Encoder, D: Decoder>(
    m: &Arga<E, D>,
    input: &GraphInput,
    recon: &ReconLoss,
    rng: &mut RunRng,
) -> Result<Tensor> {
    let z = m.autoencoder.encode(input, Some(rng))?;
    let reg = m.regulariser.train_and_regularise(&z, rng)?;
    Ok((m.autoencoder.recon_loss(&z, recon, rng)? + reg)?)
}

fn argva_loss<E: Encoder, D: Decoder>(
    m: &Argva<E, D>,
    input: &GraphInput,
    recon: &ReconLoss,
    rng: &mut RunRng,
) -> Result<Tensor> {
    let ae = &m.autoencoder;
    let enc = ae.encode(input, Some(rng))?;
    let z = ae.reparametrize(&enc, rng)?;
    let reg = m.regulariser.train_and_regularise(&z, rng)?;
    Ok(((ae.recon_loss(&z, recon, rng)? + reg)? + ae.kl_loss(&enc)?)?)
}

adversarial_link_model!(Arga, arga_loss);
adversarial_link_model!(Argva, argva_loss);
