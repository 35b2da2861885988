//! Edge decoders: the [`Decoder`] trait and the paper's inner product, p(A_ij = 1 | z) = sigmoid(z_i · z_j).

use super::all_pairs_softplus::softplus_gram;
use crate::Result;
use candle_core::Tensor;

/// Turns node embeddings into edge logits.
pub trait Decoder {
    /// Logits for `pairs` (node ids) → `[k]`, differentiable in `z: [n_nodes, d]`.
    fn logits(&self, z: &Tensor, pairs: &[[u32; 2]]) -> Result<Tensor>;

    /// Σ over all N² ordered pairs (i, j) of softplus(logit_ij): the all-pairs part of the dense loss, a
    /// scalar differentiable in `z`. `block` is the row-block size where the decoder works in blocks.
    fn softplus_all_pairs(&self, z: &Tensor, block: usize) -> Result<Tensor>;

    /// [`Decoder::softplus_all_pairs`] with the work split over the ranks of `comm`, the same value and
    /// gradient on every rank. The default runs unsplit on one rank and refuses several.
    fn softplus_all_pairs_sharded(
        &self,
        z: &Tensor,
        block: usize,
        comm: &dyn crate::collective::Collective,
    ) -> Result<Tensor> {
        match comm.size() {
            1 => self.softplus_all_pairs(z, block),
            n => Err(crate::Error::msg(format!(
                "this decoder's dense loss cannot be split over {n} ranks: use the inner-product decoder, \
                 or one rank"
            ))),
        }
    }

    /// Logits for scoring (no gradient), on the host. The default reads [`Decoder::logits`] back.
    fn score(&self, z: &Tensor, pairs: &[[u32; 2]]) -> Result<Vec<f32>> {
        Ok(self.logits(&z.detach(), pairs)?.to_vec1::<f32>()?)
    }
}

/// The inner-product decoder of GAE / VGAE: logit_ij = z_i · z_j.
#[derive(Debug, Clone, Copy, Default)]
pub struct InnerProduct;

/// The old name of [`InnerProduct`].
pub use self::InnerProduct as InnerProductDecoder;

impl Decoder for InnerProduct {
    fn logits(&self, z: &Tensor, pairs: &[[u32; 2]]) -> Result<Tensor> {
        Ok(super::pairdot::pair_logits(z, pairs)?) // one fused gather-dot op with its own backward
    }

    fn softplus_all_pairs(&self, z: &Tensor, block: usize) -> Result<Tensor> {
        Ok(softplus_gram(z, block)?) // fused symmetric tiles, O(N·d) memory
    }

    fn softplus_all_pairs_sharded(
        &self,
        z: &Tensor,
        block: usize,
        comm: &dyn crate::collective::Collective,
    ) -> Result<Tensor> {
        match comm.size() {
            1 => self.softplus_all_pairs(z, block),
            _ => super::all_pairs_sharded::softplus_gram_sharded(z, block, comm),
        }
    }

    fn score(&self, z: &Tensor, pairs: &[[u32; 2]]) -> Result<Vec<f32>> {
        let d = z.dim(1)?;
        let host = z.flatten_all()?.to_vec1::<f32>()?;
        Ok(pair_logits(&host, d, pairs))
    }
}

impl InnerProduct {
    /// Logits z_i · z_j for `pairs: [k, 2]` (a u32 tensor) with Candle ops → `[k]` (devices without the fused op).
    pub fn forward(&self, z: &Tensor, pairs: &Tensor) -> candle_core::Result<Tensor> {
        let src = z.index_select(&pairs.narrow(1, 0, 1)?.squeeze(1)?.contiguous()?, 0)?;
        let dst = z.index_select(&pairs.narrow(1, 1, 1)?.squeeze(1)?.contiguous()?, 0)?;
        (src * dst)?.sum(1)
    }

    /// All logits Z Zᵀ → `[n, n]`. Small graphs only: it is O(n²) memory.
    pub fn forward_all(&self, z: &Tensor) -> Result<Tensor> {
        Ok(z.matmul(&z.t()?)?)
    }
}

/// Host-side logits for a list of pairs, from a host copy of z (`[n, d]` row-major).
pub fn pair_logits(z: &[f32], d: usize, pairs: &[[u32; 2]]) -> Vec<f32> {
    pairs
        .iter()
        .map(|&[u, v]| {
            let (a, b) = (
                &z[u as usize * d..(u as usize + 1) * d],
                &z[v as usize * d..(v as usize + 1) * d],
            );
            a.iter().zip(b).map(|(x, y)| x * y).sum()
        })
        .collect()
}

/// Uploads pairs as a `[k, 2]` u32 tensor.
pub fn pairs_tensor(pairs: &[[u32; 2]], dev: &candle_core::Device) -> candle_core::Result<Tensor> {
    let flat: Vec<u32> = pairs.iter().flat_map(|p| p.iter().copied()).collect();
    Tensor::from_vec(flat, (pairs.len(), 2), dev)
}
