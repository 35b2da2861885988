//! The decoder a run is configured with, by name, and one type that is any of them.

use super::decoder::{Decoder, InnerProduct};
use super::directed_decoder::{Gravity, SourceTarget};
use crate::Result;
use candle_core::Tensor;
use serde::{Deserialize, Serialize};

/// Which decoder a run uses (`--decoder`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecoderKind {
    /// z_i · z_j: symmetric, the paper's.
    #[default]
    InnerProduct,
    /// s_i · t_j on the two halves of the embedding ([`SourceTarget`]).
    SourceTarget,
    /// m_j − λ log(‖x_i − x_j‖² + ε) ([`Gravity`]).
    Gravity,
}

impl DecoderKind {
    /// The prefix of a model's label: "" for the inner product, else "SourceTarget-" or "Gravity-".
    pub fn label_prefix(self) -> &'static str {
        match self {
            DecoderKind::InnerProduct => "",
            DecoderKind::SourceTarget => "SourceTarget-",
            DecoderKind::Gravity => "Gravity-",
        }
    }

    /// Whether logit(i → j) may differ from logit(j → i).
    pub fn is_asymmetric(self) -> bool {
        self != DecoderKind::InnerProduct
    }

    /// Fails, naming `--latent`, when the embedding size does not suit the decoder (source/target: even;
    /// gravity: at least 2).
    pub fn check_latent(self, latent: usize) -> Result<()> {
        let ok = match self {
            DecoderKind::InnerProduct => true,
            DecoderKind::SourceTarget => latent.is_multiple_of(2),
            DecoderKind::Gravity => latent >= 2,
        };
        match ok {
            true => Ok(()),
            false => Err(crate::Error::msg(format!(
                "--latent {latent} does not suit the {} decoder: {}",
                self.name(),
                match self {
                    DecoderKind::SourceTarget =>
                        "it splits the embedding into two halves, so it must be even",
                    _ => "its last coordinate is the mass, so it needs at least 2",
                }
            ))),
        }
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            DecoderKind::InnerProduct => "inner-product",
            DecoderKind::SourceTarget => "source-target",
            DecoderKind::Gravity => "gravity",
        }
    }

    /// The decoder, with `lambda` and `normalize` for the gravity one.
    pub fn build(self, lambda: f64, normalize: bool) -> AnyDecoder {
        match self {
            DecoderKind::InnerProduct => AnyDecoder::InnerProduct(InnerProduct),
            DecoderKind::SourceTarget => AnyDecoder::SourceTarget(SourceTarget),
            DecoderKind::Gravity => AnyDecoder::Gravity(Gravity {
                lambda,
                normalize,
                ..Gravity::default()
            }),
        }
    }
}

/// One of the built-in decoders, chosen at run time.
#[derive(Debug, Clone, Copy)]
pub enum AnyDecoder {
    /// [`InnerProduct`].
    InnerProduct(InnerProduct),
    /// [`SourceTarget`].
    SourceTarget(SourceTarget),
    /// [`Gravity`].
    Gravity(Gravity),
}

impl AnyDecoder {
    fn get(&self) -> &dyn Decoder {
        match self {
            AnyDecoder::InnerProduct(d) => d,
            AnyDecoder::SourceTarget(d) => d,
            AnyDecoder::Gravity(d) => d,
        }
    }
}

impl Decoder for AnyDecoder {
    fn logits(&self, z: &Tensor, pairs: &[[u32; 2]]) -> Result<Tensor> {
        self.get().logits(z, pairs)
    }
    fn softplus_all_pairs(&self, z: &Tensor, block: usize) -> Result<Tensor> {
        self.get().softplus_all_pairs(z, block)
    }
    fn softplus_all_pairs_sharded(
        &self,
        z: &Tensor,
        block: usize,
        comm: &dyn crate::collective::Collective,
    ) -> Result<Tensor> {
        self.get().softplus_all_pairs_sharded(z, block, comm)
    }
    fn score(&self, z: &Tensor, pairs: &[[u32; 2]]) -> Result<Vec<f32>> {
        self.get().score(z, pairs)
    }
}
