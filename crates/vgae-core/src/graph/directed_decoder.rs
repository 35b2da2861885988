//! Asymmetric decoders for directed graphs (Salha et al., "Gravity-inspired graph autoencoders for directed
//! link prediction", CIKM 2019): logit(i → j) ≠ logit(j → i), so arcs and their reverses can be told apart.
//! Both follow deezer-research's reference code (`gravity_gae/layers.py`).

use super::all_pairs_sharded::softplus_rows_sharded;
use super::all_pairs_softplus::softplus_cross_host_on;
use super::decoder::Decoder;
use super::loss::softplus;
use crate::{Error, Result};
use candle_core::{Device, Tensor};

/// Rows of the all-pairs logit matrix evaluated at once: at most `block`, and about 4 M entries.
fn rows_per_block(n: usize, block: usize) -> usize {
    block.clamp(1, (1 << 22) / n.max(1)).max(1)
}

/// Σ over the ordered pairs (i, j), i in `range` (all rows for the whole loss, a rank's share of a split
/// one), of softplus(logit), from `rows(start, len) -> [len, n]` logits, in row blocks so that memory
/// stays O(block · N).
fn all_pairs_softplus_rows(
    n: usize,
    range: std::ops::Range<usize>,
    block: usize,
    rows: impl Fn(usize, usize) -> Result<Tensor>,
) -> Result<Tensor> {
    let b = rows_per_block(n, block);
    let mut total: Option<Tensor> = None;
    for start in range.clone().step_by(b) {
        let part = softplus(&rows(start, b.min(range.end - start))?)?.sum_all()?;
        total = Some(match total {
            Some(t) => (t + part)?,
            None => part,
        });
    }
    total.ok_or_else(|| Error::msg("the all-pairs loss needs at least one node"))
}

fn column(pairs: &[[u32; 2]], k: usize, dev: &Device) -> Result<Tensor> {
    let ids: Vec<u32> = pairs.iter().map(|p| p[k]).collect();
    Ok(Tensor::from_vec(ids, pairs.len(), dev)?)
}

/// The source/target decoder: the first half of z_i is node i's source vector s_i, the second half its
/// target vector t_i, and logit(i → j) = s_i · t_j. On the CPU its dense loss runs on the fused kernel of
/// the inner product ([`softplus_cross_host_on`]); elsewhere in row blocks of Candle ops.
#[derive(Debug, Clone, Copy, Default)]
pub struct SourceTarget;

impl SourceTarget {
    /// (S, T), each `[n, d / 2]`; fails on an odd embedding size.
    fn halves(z: &Tensor) -> Result<(Tensor, Tensor)> {
        let d = z.dim(1)?;
        if !d.is_multiple_of(2) || d == 0 {
            return Err(Error::msg(format!(
                "the source/target decoder splits the embedding in halves: --latent must be even, not {d}"
            )));
        }
        Ok((
            z.narrow(1, 0, d / 2)?.contiguous()?,
            z.narrow(1, d / 2, d / 2)?.contiguous()?,
        ))
    }
}

impl Decoder for SourceTarget {
    fn logits(&self, z: &Tensor, pairs: &[[u32; 2]]) -> Result<Tensor> {
        let (s, t) = Self::halves(z)?;
        let src = s.index_select(&column(pairs, 0, z.device())?, 0)?; // [k, d/2]
        let dst = t.index_select(&column(pairs, 1, z.device())?, 0)?; // [k, d/2]
        Ok((src * dst)?.sum(1)?)
    }

    fn softplus_all_pairs(&self, z: &Tensor, block: usize) -> Result<Tensor> {
        let (s, t) = Self::halves(z)?;
        if z.device().is_cpu() {
            // The fused kernel: value and gradient in one pass, attached as c + z·G − stopgrad(z·G).
            let (n, h) = s.dims2()?;
            let host = |x: &Tensor| x.flatten_all()?.to_vec1::<f32>();
            let path = crate::simd::SimdPath::selected();
            let (v, gs, gt) = softplus_cross_host_on(path, &host(&s)?, &host(&t)?, n, h);
            let (gs, gt) = (
                Tensor::from_vec(gs, (n, h), z.device())?,
                Tensor::from_vec(gt, (n, h), z.device())?,
            );
            let g = Tensor::cat(&[gs, gt], 1)?; // [n, d]
            let surrogate = (z * g)?.sum_all()?;
            let c = Tensor::new(v as f32, z.device())?;
            return Ok(((surrogate.clone() - surrogate.detach())? + c)?);
        }
        Self::blocked(&s, &t, 0..z.dim(0)?, block)
    }

    fn softplus_all_pairs_sharded(
        &self,
        z: &Tensor,
        block: usize,
        comm: &dyn crate::collective::Collective,
    ) -> Result<Tensor> {
        if comm.size() == 1 {
            return self.softplus_all_pairs(z, block);
        }
        softplus_rows_sharded(z, comm, |z, rows| {
            let (s, t) = Self::halves(z)?;
            Self::blocked(&s, &t, rows, block)
        })
    }
}

impl SourceTarget {
    /// Σ softplus(S Tᵀ) over the rows `rows` in row blocks of Candle ops (devices other than the CPU, and
    /// the ranks of a split loss), autograd's gradient.
    fn blocked(
        s: &Tensor,
        t: &Tensor,
        rows: std::ops::Range<usize>,
        block: usize,
    ) -> Result<Tensor> {
        let tt = t.t()?.contiguous()?; // [d/2, n]
        all_pairs_softplus_rows(s.dim(0)?, rows, block, |start, len| {
            Ok(s.narrow(0, start, len)?.matmul(&tt)?) // [len, n]
        })
    }
}

/// The gravity-inspired decoder: the last coordinate of z_i is node i's mass m_i, the others its position
/// x_i, and logit(i → j) = m_j − λ · log(‖x_i − x_j‖² + ε): node i links to j when j is heavy and close.
#[derive(Debug, Clone, Copy)]
pub struct Gravity {
    /// λ, the weight of the distance term (the paper's default 1).
    pub lambda: f64,
    /// ε added to squared distances so that the logarithm stays finite (the paper's 0.01).
    pub epsilon: f64,
    /// Scale each position to unit length first (the paper's `normalize` flag, off by default).
    pub normalize: bool,
}

impl Default for Gravity {
    fn default() -> Self {
        Gravity {
            lambda: 1.0,
            epsilon: 0.01,
            normalize: false,
        }
    }
}

impl Gravity {
    /// (positions `[n, d − 1]`, masses `[n]`); fails on an embedding of fewer than 2 coordinates.
    fn split(&self, z: &Tensor) -> Result<(Tensor, Tensor)> {
        let d = z.dim(1)?;
        if d < 2 {
            return Err(Error::msg(
                "the gravity decoder needs --latent 2 or more: the last coordinate is the mass",
            ));
        }
        let mut x = z.narrow(1, 0, d - 1)?.contiguous()?;
        if self.normalize {
            let len = (x.sqr()?.sum_keepdim(1)? + 1e-12)?.sqrt()?;
            x = x.broadcast_div(&len)?;
        }
        Ok((x, z.narrow(1, d - 1, 1)?.squeeze(1)?.contiguous()?))
    }
}

impl Decoder for Gravity {
    fn logits(&self, z: &Tensor, pairs: &[[u32; 2]]) -> Result<Tensor> {
        let (x, m) = self.split(z)?;
        let (src, dst) = (column(pairs, 0, z.device())?, column(pairs, 1, z.device())?);
        let diff = (x.index_select(&src, 0)? - x.index_select(&dst, 0)?)?; // [k, d − 1]
        let dist = (diff.sqr()?.sum(1)? + self.epsilon)?;
        Ok((m.index_select(&dst, 0)? - (dist.log()? * self.lambda)?)?)
    }

    fn softplus_all_pairs(&self, z: &Tensor, block: usize) -> Result<Tensor> {
        self.softplus_rows(z, 0..z.dim(0)?, block)
    }

    fn softplus_all_pairs_sharded(
        &self,
        z: &Tensor,
        block: usize,
        comm: &dyn crate::collective::Collective,
    ) -> Result<Tensor> {
        if comm.size() == 1 {
            return self.softplus_all_pairs(z, block);
        }
        softplus_rows_sharded(z, comm, |z, rows| self.softplus_rows(z, rows, block))
    }
}

impl Gravity {
    /// Σ over the rows `rows` (sources i) and all targets j of softplus(logit(i → j)), in row blocks.
    fn softplus_rows(
        &self,
        z: &Tensor,
        rows: std::ops::Range<usize>,
        block: usize,
    ) -> Result<Tensor> {
        let (x, m) = self.split(z)?;
        let n = z.dim(0)?;
        let sq = x.sqr()?.sum(1)?; // [n]
        let xt = x.t()?.contiguous()?; // [d − 1, n]
        let (sq_row, m_row) = (sq.unsqueeze(0)?, m.unsqueeze(0)?); // [1, n]
        all_pairs_softplus_rows(n, rows, block, |start, len| {
            // ‖x_i − x_j‖² = ‖x_i‖² + ‖x_j‖² − 2 x_i · x_j, clamped at 0 against rounding.
            let dot = x.narrow(0, start, len)?.matmul(&xt)?; // [len, n]
            let sq_col = sq.narrow(0, start, len)?.unsqueeze(1)?; // [len, 1]
            let dist = (dot * -2.0)?
                .broadcast_add(&sq_col)?
                .broadcast_add(&sq_row)?
                .relu()?;
            let logit = ((dist + self.epsilon)?.log()? * -self.lambda)?.broadcast_add(&m_row)?;
            Ok(logit)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Var;

    #[test]
    fn the_fused_source_target_loss_matches_the_blocked_one() {
        let mut rng = crate::rng::RunRng::new(5);
        let z = Var::from_tensor(&(rng.normal(&[300, 8], &Device::Cpu).unwrap() * 1.5).unwrap())
            .unwrap();
        let fused = SourceTarget.softplus_all_pairs(z.as_tensor(), 64).unwrap();
        let (s, t) = SourceTarget::halves(z.as_tensor()).unwrap();
        let blocked = SourceTarget::blocked(&s, &t, 0..300, 64).unwrap();
        let (a, b) = (
            fused.to_scalar::<f32>().unwrap(),
            blocked.to_scalar::<f32>().unwrap(),
        );
        assert!((a - b).abs() < 1e-5 * b.abs(), "{a} vs {b}");
        let grad = |l: &Tensor| -> Vec<f32> {
            let g = l.backward().unwrap();
            g.get(z.as_tensor())
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec1()
                .unwrap()
        };
        let (ga, gb) = (grad(&fused), grad(&blocked));
        for (x, y) in ga.iter().zip(&gb) {
            assert!((x - y).abs() < 1e-4 * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    /// The value and gradient of a decoder's all-pairs term, on one process or split over `ranks` threads
    /// (every rank's pair, in rank order).
    fn split_over(dec: &(dyn Decoder + Sync), z: &Tensor, ranks: usize) -> Vec<(f32, Vec<f32>)> {
        let value_grad = |l: Tensor, v: &Var| {
            let g = l.backward().unwrap();
            let g = g.get(v.as_tensor()).unwrap().flatten_all().unwrap();
            (l.to_scalar::<f32>().unwrap(), g.to_vec1::<f32>().unwrap())
        };
        let comms = crate::collective::thread_ranks(ranks);
        std::thread::scope(|s| {
            let handles: Vec<_> = comms
                .iter()
                .map(|c| {
                    s.spawn(move || {
                        let v = Var::from_tensor(&z.copy().unwrap()).unwrap();
                        let l = dec
                            .softplus_all_pairs_sharded(v.as_tensor(), 64, c)
                            .unwrap();
                        value_grad(l, &v)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

    #[test]
    fn split_directed_losses_give_the_one_process_value_and_gradient() {
        let mut rng = crate::rng::RunRng::new(9);
        let z = (rng.normal(&[301, 8], &Device::Cpu).unwrap() * 0.7).unwrap();
        let decoders: [&(dyn Decoder + Sync); 2] = [&SourceTarget, &Gravity::default()];
        for dec in decoders {
            let (v1, g1) = split_over(dec, &z, 1).remove(0);
            for ranks in [2, 3, 5] {
                let all = split_over(dec, &z, ranks);
                // Every rank the same bits.
                assert!(all
                    .iter()
                    .all(|(v, g)| v.to_bits() == all[0].0.to_bits() && g == &all[0].1));
                let (v, g) = &all[0];
                assert!(
                    (v - v1).abs() <= 1e-5 * v1.abs(),
                    "{ranks} ranks: {v} vs {v1}"
                );
                let worst = g
                    .iter()
                    .zip(&g1)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                let scale = g1.iter().fold(0.0f32, |m, x| m.max(x.abs()));
                assert!(
                    worst <= 1e-4 * scale,
                    "{ranks} ranks: gradient off by {worst} (scale {scale})"
                );
            }
        }
    }
}
