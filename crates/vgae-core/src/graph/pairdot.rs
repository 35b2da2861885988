//! Logits z_u · z_v of a list of node pairs as one op, forward and backward, without materialising the
//! `[k, d]` gathered rows that `index_select` would: O(k) memory instead of O(k·d).

use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};
use rayon::prelude::*;
use std::sync::Arc;

/// How many pairs ahead to prefetch rows of z: on graphs past the caches every pair is two random row reads
/// (and in the backward two read-modify-writes), so the loop is memory-latency bound without it.
const AHEAD: usize = 16;

/// A hint to bring `s[i..]` into cache; out-of-range indices are ignored.
#[inline(always)]
fn prefetch(s: &[f32], i: usize) {
    #[cfg(target_arch = "x86_64")]
    if let Some(x) = s.get(i) {
        // SAFETY: the pointer comes from a live slice element; a prefetch never faults or writes.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                (x as *const f32).cast(),
            )
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (s, i);
}

struct PairDot {
    pairs: Arc<Vec<[u32; 2]>>,
}

fn host<'a>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [f32]> {
    match (storage, layout.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((s, e))) => Ok(&v[s..e]),
        _ => candle_core::bail!("pair logits: expected a contiguous f32 tensor"),
    }
}

impl CustomOp1 for PairDot {
    fn name(&self) -> &'static str {
        "pair-dot"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (n, d) = layout.shape().dims2()?;
        let z = host(storage, layout)?;
        if let Some(p) = self
            .pairs
            .iter()
            .find(|p| p[0] as usize >= n || p[1] as usize >= n)
        {
            candle_core::bail!("pair ({}, {}) outside 0..{n}", p[0], p[1]);
        }
        let mut out = vec![0f32; self.pairs.len()];
        out.par_chunks_mut(4096)
            .zip(self.pairs.par_chunks(4096))
            .for_each(|(o, p)| {
                for (i, (o, &[u, v])) in o.iter_mut().zip(p).enumerate() {
                    if let Some(&[a, b]) = p.get(i + AHEAD) {
                        prefetch(z, a as usize * d);
                        prefetch(z, b as usize * d);
                    }
                    let (a, b) = (
                        &z[u as usize * d..(u as usize + 1) * d],
                        &z[v as usize * d..(v as usize + 1) * d],
                    );
                    *o = a.iter().zip(b).map(|(x, y)| x * y).sum();
                }
            });
        let k = out.len();
        Ok((CpuStorage::F32(out), Shape::from(k)))
    }

    /// ∂/∂z_u += g_k z_v and ∂/∂z_v += g_k z_u, accumulated in pair order (deterministic).
    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let (n, d) = arg.dims2()?;
        let z: Vec<f32> = arg.flatten_all()?.to_vec1()?;
        let g: Vec<f32> = grad_res.to_vec1()?;
        let mut out = vec![0f32; n * d];
        for (k, (&[u, v], &gk)) in self.pairs.iter().zip(&g).enumerate() {
            if let Some(&[a, b]) = self.pairs.get(k + AHEAD) {
                for r in [a as usize * d, b as usize * d] {
                    prefetch(&z, r);
                    prefetch(&out, r);
                }
            }
            let (u, v) = (u as usize * d, v as usize * d);
            // Whole rows at a time so the loop vectorises; the per-element order is unchanged (u == v too).
            for (o, x) in out[u..u + d].iter_mut().zip(&z[v..v + d]) {
                *o += gk * x;
            }
            for (o, x) in out[v..v + d].iter_mut().zip(&z[u..u + d]) {
                *o += gk * x;
            }
        }
        Ok(Some(Tensor::from_vec(out, (n, d), arg.device())?))
    }
}

/// z_u · z_v for every pair → `[k]`; differentiable in `z`.
pub fn pair_logits(z: &Tensor, pairs: &[[u32; 2]]) -> Result<Tensor> {
    if z.device().is_cpu() {
        return z.contiguous()?.apply_op1(PairDot {
            pairs: Arc::new(pairs.to_vec()),
        });
    }
    let t = super::decoder::pairs_tensor(pairs, z.device())?;
    super::decoder::InnerProductDecoder.forward(z, &t)
}
