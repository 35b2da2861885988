//! GAE and VGAE, generic over an injected encoder and decoder (as PyTorch Geometric's `GAE` / `VGAE`), with
//! small separate `encode`, `recon_loss`, `kl_loss` and `test` methods, and the [`LinkModel`] trait that the
//! trainer drives.

use super::decoder::Decoder;
use super::encoder::{Encoded, Encoder, GraphInput};
use super::loss::{kl_loss, ReconLoss};
use crate::metrics::{link_scores, LinkScores};
use crate::optim::Params;
use crate::rng::RunRng;
use crate::{Error, Result};
use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The paper's two autoencoders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Graph autoencoder: z = μ.
    Gae,
    /// Variational graph autoencoder: z = μ + σ·ε and a KL term.
    Vgae,
}

/// Which reconstruction loss a run trains with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    /// Weighted BCE over all N² entries, as the reference implementation (paper-faithful).
    Dense,
    /// Training edges plus as many fresh uniform negatives each epoch (PyG style).
    Sampled,
}

/// A link-prediction model the trainer can fit: a training loss, and an embedding to score pairs with.
pub trait LinkModel {
    /// The loss of one training step; all noise (dropout, reparametrisation, negatives) from `rng`.
    fn train_loss(&self, input: &GraphInput, recon: &ReconLoss, rng: &mut RunRng)
        -> Result<Tensor>;
    /// The embedding used for scoring (μ for a variational model), without training noise.
    fn embed(&self, input: &GraphInput) -> Result<Tensor>;
    /// ROC-AUC and AP of positive against negative pairs, scored from embedding `z`.
    fn test(&self, z: &Tensor, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<LinkScores>;
    /// Parameters the model trains itself inside [`LinkModel::train_loss`], with an optimiser of its own
    /// (ARGA's discriminator); checkpoints hold them beside the trainer's. None by default.
    fn own_params(&self) -> Params {
        Vec::new()
    }
    /// The state of the model's own optimiser (`<param>.<slot>` tensors) and its step count.
    fn own_optimizer_state(&self) -> (Vec<(String, Tensor)>, u64) {
        (Vec::new(), 0)
    }
    /// Restores what [`LinkModel::own_optimizer_state`] returned.
    fn load_own_optimizer_state(
        &self,
        _tensors: &HashMap<String, Tensor>,
        _steps: u64,
    ) -> Result<()> {
        Ok(())
    }
}

impl<M: LinkModel + ?Sized> LinkModel for Box<M> {
    fn train_loss(
        &self,
        input: &GraphInput,
        recon: &ReconLoss,
        rng: &mut RunRng,
    ) -> Result<Tensor> {
        (**self).train_loss(input, recon, rng)
    }
    fn embed(&self, input: &GraphInput) -> Result<Tensor> {
        (**self).embed(input)
    }
    fn test(&self, z: &Tensor, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<LinkScores> {
        (**self).test(z, pos, neg)
    }
    fn own_params(&self) -> Params {
        (**self).own_params()
    }
    fn own_optimizer_state(&self) -> (Vec<(String, Tensor)>, u64) {
        (**self).own_optimizer_state()
    }
    fn load_own_optimizer_state(
        &self,
        tensors: &HashMap<String, Tensor>,
        steps: u64,
    ) -> Result<()> {
        (**self).load_own_optimizer_state(tensors, steps)
    }
}

fn scores<D: Decoder>(d: &D, z: &Tensor, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<LinkScores> {
    Ok(link_scores(&d.score(z, pos)?, &d.score(z, neg)?))
}

/// GAE: z = encoder's μ, decoded by `decoder`.
pub struct GraphAutoencoder<E, D> {
    /// Any [`Encoder`]; a log-std head, if it has one, is ignored.
    pub encoder: E,
    /// Any [`Decoder`].
    pub decoder: D,
}

impl<E: Encoder, D: Decoder> GraphAutoencoder<E, D> {
    /// Pairs an encoder with a decoder.
    pub fn new(encoder: E, decoder: D) -> Self {
        GraphAutoencoder { encoder, decoder }
    }

    /// The embedding of every node `[n_nodes, latent]`; `rng` = `Some` in training.
    pub fn encode(&self, input: &GraphInput, rng: Option<&mut RunRng>) -> Result<Tensor> {
        Ok(self.encoder.encode(input, rng)?.mu)
    }

    /// The reconstruction loss of `z` (dense or sampled, as `recon` was built).
    pub fn recon_loss(&self, z: &Tensor, recon: &ReconLoss, rng: &mut RunRng) -> Result<Tensor> {
        recon.compute(&self.decoder, z, rng)
    }

    /// ROC-AUC / AP of the pairs, from an embedding.
    pub fn test(&self, z: &Tensor, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<LinkScores> {
        scores(&self.decoder, z, pos, neg)
    }
}

impl<E: Encoder, D: Decoder> LinkModel for GraphAutoencoder<E, D> {
    fn train_loss(
        &self,
        input: &GraphInput,
        recon: &ReconLoss,
        rng: &mut RunRng,
    ) -> Result<Tensor> {
        let z = self.encode(input, Some(rng))?;
        self.recon_loss(&z, recon, rng)
    }
    fn embed(&self, input: &GraphInput) -> Result<Tensor> {
        self.encode(input, None)
    }
    fn test(&self, z: &Tensor, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<LinkScores> {
        GraphAutoencoder::test(self, z, pos, neg)
    }
}

/// VGAE: z = μ + σ·ε from a variational encoder, the reconstruction loss plus the KL term.
pub struct VariationalGraphAutoencoder<E, D> {
    /// An [`Encoder`] that returns a log-std (e.g. [`super::GcnEncoder`] with `variational: true`).
    pub encoder: E,
    /// Any [`Decoder`].
    pub decoder: D,
}

impl<E: Encoder, D: Decoder> VariationalGraphAutoencoder<E, D> {
    /// Pairs a variational encoder with a decoder.
    pub fn new(encoder: E, decoder: D) -> Self {
        VariationalGraphAutoencoder { encoder, decoder }
    }

    /// μ and log σ of every node; an error if the encoder has no log-std head.
    pub fn encode(&self, input: &GraphInput, rng: Option<&mut RunRng>) -> Result<Encoded> {
        let enc = self.encoder.encode(input, rng)?;
        if enc.logstd.is_none() {
            return Err(Error::msg(
                "a variational autoencoder needs an encoder with a log-std head (GcnConfig::variational)",
            ));
        }
        Ok(enc)
    }

    /// z = μ + σ·ε with ε drawn from `rng`.
    pub fn reparametrize(&self, enc: &Encoded, rng: &mut RunRng) -> Result<Tensor> {
        match &enc.logstd {
            Some(logstd) => {
                let eps = rng.normal(enc.mu.dims(), enc.mu.device())?;
                Ok((&enc.mu + (logstd.exp()? * eps)?)?)
            }
            None => Ok(enc.mu.clone()),
        }
    }

    /// The reconstruction loss of `z` (dense or sampled, as `recon` was built).
    pub fn recon_loss(&self, z: &Tensor, recon: &ReconLoss, rng: &mut RunRng) -> Result<Tensor> {
        recon.compute(&self.decoder, z, rng)
    }

    /// The KL term as the reference implementations add it: −(0.5 / N) · mean_i Σ_d (1 + 2 log σ − μ² − σ²).
    pub fn kl_loss(&self, enc: &Encoded) -> Result<Tensor> {
        match &enc.logstd {
            Some(logstd) => Ok(kl_loss(&enc.mu, logstd)?),
            None => Err(Error::msg("kl_loss needs a log-std")),
        }
    }

    /// ROC-AUC / AP of the pairs, from an embedding (μ).
    pub fn test(&self, z: &Tensor, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<LinkScores> {
        scores(&self.decoder, z, pos, neg)
    }
}

impl<E: Encoder, D: Decoder> LinkModel for VariationalGraphAutoencoder<E, D> {
    fn train_loss(
        &self,
        input: &GraphInput,
        recon: &ReconLoss,
        rng: &mut RunRng,
    ) -> Result<Tensor> {
        let enc = self.encode(input, Some(rng))?;
        let z = self.reparametrize(&enc, rng)?;
        let recon = self.recon_loss(&z, recon, rng)?;
        Ok((recon + self.kl_loss(&enc)?)?)
    }
    fn embed(&self, input: &GraphInput) -> Result<Tensor> {
        Ok(self.encode(input, None)?.mu)
    }
    fn test(&self, z: &Tensor, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<LinkScores> {
        VariationalGraphAutoencoder::test(self, z, pos, neg)
    }
}
