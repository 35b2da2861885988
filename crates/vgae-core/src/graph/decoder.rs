//! The inner-product decoder: p(A_ij = 1 | z) = sigmoid(z_i · z_j).

use candle_core::{Result, Tensor};

#[derive(Debug, Clone, Copy, Default)]
pub struct InnerProductDecoder;

impl InnerProductDecoder {
    /// Logits z_i · z_j for `pairs: [k, 2]` (u32 node ids) → `[k]`.
    pub fn forward(&self, z: &Tensor, pairs: &Tensor) -> Result<Tensor> {
        let src = z.index_select(&pairs.narrow(1, 0, 1)?.squeeze(1)?.contiguous()?, 0)?;
        let dst = z.index_select(&pairs.narrow(1, 1, 1)?.squeeze(1)?.contiguous()?, 0)?;
        (src * dst)?.sum(1)
    }

    /// All logits Z Zᵀ → `[n, n]`. Small graphs only: it is O(n²) memory.
    pub fn forward_all(&self, z: &Tensor) -> Result<Tensor> {
        z.matmul(&z.t()?)
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
pub fn pairs_tensor(pairs: &[[u32; 2]], dev: &candle_core::Device) -> Result<Tensor> {
    let flat: Vec<u32> = pairs.iter().flat_map(|p| p.iter().copied()).collect();
    Tensor::from_vec(flat, (pairs.len(), 2), dev)
}
