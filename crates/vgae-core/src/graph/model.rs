//! GAE / VGAE: an injected encoder, the inner-product decoder, and small separate loss / test functions.

use super::decoder::{pair_logits, InnerProductDecoder};
use super::encoder::{Encoded, GcnEncoder};
use super::sparse::SparseMatrix;
use crate::metrics::{link_scores, LinkScores};
use crate::rng::RunRng;
use crate::Result;
use candle_core::Tensor;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    Gae,
    Vgae,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LossKind {
    /// Weighted BCE over all N² entries, as the reference implementation (paper-faithful).
    Dense,
    /// Training edges plus as many fresh uniform negatives each epoch (PyG style).
    Sampled,
}

pub struct GraphAutoencoder {
    pub encoder: GcnEncoder,
    pub decoder: InnerProductDecoder,
    pub kind: ModelKind,
}

impl GraphAutoencoder {
    pub fn new(encoder: GcnEncoder, kind: ModelKind) -> Self {
        GraphAutoencoder {
            encoder,
            decoder: InnerProductDecoder,
            kind,
        }
    }

    pub fn encode(&self, adj: &Arc<SparseMatrix>, rng: Option<&mut RunRng>) -> Result<Encoded> {
        self.encoder.forward(adj, rng)
    }

    /// z = μ + σ·ε with ε from the run's RNG (VGAE); z = μ for GAE.
    pub fn reparametrize(&self, enc: &Encoded, rng: &mut RunRng) -> Result<Tensor> {
        match &enc.logstd {
            Some(logstd) => {
                let eps = rng.normal(enc.mu.dims(), enc.mu.device())?;
                Ok((&enc.mu + (logstd.exp()? * eps)?)?)
            }
            None => Ok(enc.mu.clone()),
        }
    }

    /// ROC-AUC / AP of the pairs, from an embedding (μ for VGAE).
    pub fn test(&self, z: &Tensor, pos: &[[u32; 2]], neg: &[[u32; 2]]) -> Result<LinkScores> {
        let d = z.dim(1)?;
        let host = z.flatten_all()?.to_vec1::<f32>()?;
        Ok(link_scores(
            &pair_logits(&host, d, pos),
            &pair_logits(&host, d, neg),
        ))
    }
}
