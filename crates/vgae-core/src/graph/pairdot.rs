//! Logits z_u · z_v of a list of node pairs as one op, forward and backward, without materialising the
//! `[k, d]` gathered rows that `index_select` would: O(k) memory instead of O(k·d).

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Result, Shape, Tensor};
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

/// A hint to bring the cache line at `p` into cache. Any address will do: a prefetch never faults or writes.
#[inline(always)]
pub(crate) fn prefetch_ptr(p: *const f32) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: as said, a prefetch of any address is harmless.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
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

fn check_pairs(pairs: &[[u32; 2]], n: usize) -> Result<()> {
    match pairs
        .iter()
        .find(|p| p[0] as usize >= n || p[1] as usize >= n)
    {
        Some(p) => candle_core::bail!("pair ({}, {}) outside 0..{n}", p[0], p[1]),
        None => Ok(()),
    }
}

impl CustomOp1 for PairDot {
    fn name(&self) -> &'static str {
        "pair-dot"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let (n, d) = layout.shape().dims2()?;
        let z = host(storage, layout)?;
        check_pairs(&self.pairs, n)?;
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

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        storage: &candle_core::CudaStorage,
        layout: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        let (n, d) = layout.shape().dims2()?;
        check_pairs(&self.pairs, n)?;
        let out = super::cuda::pair_dot(&self.pairs, storage, layout, d)?;
        Ok((out, Shape::from(self.pairs.len())))
    }

    fn bwd(&self, arg: &Tensor, _res: &Tensor, grad_res: &Tensor) -> Result<Option<Tensor>> {
        let g = grad_res.contiguous()?;
        Ok(Some(arg.apply_op2_no_bwd(
            &g,
            &PairDotBwd {
                pairs: self.pairs.clone(),
            },
        )?))
    }
}

/// The backward of [`PairDot`]: `(z, g) → dz`.
struct PairDotBwd {
    pairs: Arc<Vec<[u32; 2]>>,
}

impl CustomOp2 for PairDotBwd {
    fn name(&self) -> &'static str {
        "pair-dot-bwd"
    }

    /// ∂/∂z_u += g_k z_v and ∂/∂z_v += g_k z_u, accumulated in pair order (deterministic).
    fn cpu_fwd(
        &self,
        zs: &CpuStorage,
        zl: &Layout,
        gs: &CpuStorage,
        gl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (n, d) = zl.shape().dims2()?;
        let (z, g) = (host(zs, zl)?, host(gs, gl)?);
        let mut out = vec![0f32; n * d];
        for (k, (&[u, v], &gk)) in self.pairs.iter().zip(g).enumerate() {
            if let Some(&[a, b]) = self.pairs.get(k + AHEAD) {
                for r in [a as usize * d, b as usize * d] {
                    prefetch(z, r);
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
        Ok((CpuStorage::F32(out), Shape::from((n, d))))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        zs: &candle_core::CudaStorage,
        zl: &Layout,
        gs: &candle_core::CudaStorage,
        gl: &Layout,
    ) -> Result<(candle_core::CudaStorage, Shape)> {
        let (n, d) = zl.shape().dims2()?;
        let out = super::cuda::pair_dot_bwd(&self.pairs, (zs, zl), (gs, gl), (n, d))?;
        Ok((out, Shape::from((n, d))))
    }
}

/// z_u · z_v for every pair → `[k]`; differentiable in `z`.
pub fn pair_logits(z: &Tensor, pairs: &[[u32; 2]]) -> Result<Tensor> {
    if z.device().is_cpu() || z.device().is_cuda() {
        return z.contiguous()?.apply_op1(PairDot {
            pairs: Arc::new(pairs.to_vec()),
        });
    }
    let t = super::decoder::pairs_tensor(pairs, z.device())?;
    super::decoder::InnerProductDecoder.forward(z, &t)
}
