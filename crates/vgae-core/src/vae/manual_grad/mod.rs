//! A hand-derived forward and backward pass of the MLP VAE with a Bernoulli decoder, for the CPU: the same
//! −ELBO and gradients as autograd through [`Vae::neg_elbo`] (tested against it), without autograd's overhead.
//!
//! Why: on MNIST batches of 100, Candle's autograd spent more time around the matrix products than in them —
//! an allocation and a sweep per element-wise op and per gradient accumulation, and the product
//! `dL/dx = δ·W₁ᵀ` for the input images that nothing needs (a fifth of all multiply-adds). Here each layer
//! is one GEMM call forward and two backward, with the bias, activation and loss fused into single passes.
//!
//! Threads: every thread of the pool runs the whole step ([`lockstep::run`]), each on its own columns of every
//! layer (rows for the narrow heads and the loss), meeting at spin barriers between layers; the GEMMs run
//! single-threaded on their share. Gradient buffers are not zeroed first: their GEMM writes them whole.
//! (An MNIST epoch at 2 threads: 7.8 s with autograd, 4.3 s with this pass and gemm's own threading, ~3 s
//! with the split.)

mod layer;

use super::config::Likelihood;
use super::model::{Linear, Vae};
use crate::graph::all_pairs_softplus::softplus_sigmoid;
use crate::host_mat::{assume_init, fresh, gemm_into, Mat};
use crate::lockstep::{self, Shared};
use crate::{Error, Result};
use candle_core::Tensor;
use layer::{backward_cols, forward_cols, ActGrad, Dense, Hidden, HiddenRef, InputGrad};
use std::mem::MaybeUninit;

/// Column blocks of a thread start on multiples of this (8 f32: one AVX2 vector, half an AVX-512 one; 16
/// split the MNIST layers' 250 and 20 columns unevenly between two threads).
const ALIGN: usize = 8;

/// Σ BCE(l, x) over one row of logits, replacing each logit by its gradient σ(l) − x. Eight lane sums so the
/// loop vectorises (a single f32 running sum would force it scalar).
#[inline(always)]
fn bce_row_body(l: &mut [f32], x: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let mut tail = 0f32;
    let (mut lc, xc) = (l.chunks_exact_mut(8), x.chunks_exact(8));
    let xr = xc.remainder();
    for (l8, x8) in (&mut lc).zip(xc) {
        for k in 0..8 {
            let (sp, sg) = softplus_sigmoid(l8[k]);
            lanes[k] += sp - x8[k] * l8[k];
            l8[k] = sg - x8[k];
        }
    }
    for (l, &x) in lc.into_remainder().iter_mut().zip(xr) {
        let (sp, sg) = softplus_sigmoid(*l);
        tail += sp - x * *l;
        *l = sg - x;
    }
    lanes.iter().sum::<f32>() + tail
}

crate::simd::multiversion! {
    /// [`bce_row_body`] through its widest build.
    fn bce_row(l: &mut [f32], x: &[f32]) -> f32 = bce_row_body;
}

impl Vae {
    /// Σ over the batch of −ELBO and the gradient of that sum for every parameter, in [`Vae::params`] order,
    /// for images `x` (`[rows, input_dim]`) and noise `eps` (`[rows, z]`). `None` where this path does not
    /// apply (a Gaussian decoder, or parameters off the CPU): the caller then uses autograd. Runs on every
    /// thread of the current Rayon pool (`lockstep::run`).
    pub fn fast_grads<'a>(
        &'a self,
        x: &[f32],
        eps: &[f32],
        rows: usize,
    ) -> Result<Option<(f32, Vec<Tensor>)>> {
        if self.cfg.likelihood != Likelihood::Bernoulli || !self.out.weight.device().is_cpu() {
            return Ok(None);
        }
        let (d, zd, act) = (self.cfg.input_dim, self.cfg.z, self.cfg.activation);
        if x.len() != rows * d || eps.len() != rows * zd {
            return Err(Error::msg(format!(
                "fast VAE step: batch of {} values and noise of {} for {rows} rows of {d} and z {zd}",
                x.len(),
                eps.len()
            )));
        }
        let dense = |ls: &'a [(String, Linear)]| -> Result<Vec<Dense<'a>>> {
            ls.iter().map(|(_, l)| Dense::new(l)).collect()
        };
        let (enc, dec) = (dense(&self.enc)?, dense(&self.dec)?);
        let (mu_l, lv_l, out_l) = (
            Dense::new(&self.mu)?,
            Dense::new(&self.logvar)?,
            Dense::new(&self.out)?,
        );

        // Every buffer of the step, allocated here and filled by the threads. Hidden layers keep their
        // output (and ReLU pre-activation); `*_d` hold dL/d(pre-activation) of the same layers.
        let zeros = |n: usize| vec![0f32; n];
        let mut enc_h: Vec<Hidden> = enc
            .iter()
            .map(|l| Hidden::new(act, rows, l.fan_out))
            .collect();
        let mut dec_h: Vec<Hidden> = dec
            .iter()
            .map(|l| Hidden::new(act, rows, l.fan_out))
            .collect();
        let mut enc_d: Vec<_> = enc.iter().map(|l| fresh(rows * l.fan_out)).collect();
        let mut dec_d: Vec<_> = dec.iter().map(|l| fresh(rows * l.fan_out)).collect();
        let (mut mu, mut lv, mut std, mut z) = (
            zeros(rows * zd),
            zeros(rows * zd),
            zeros(rows * zd),
            zeros(rows * zd),
        );
        let (mut dz, mut dmu, mut dlv) = (fresh(rows * zd), zeros(rows * zd), zeros(rows * zd));
        let mut logits = fresh(rows * d); // logits, then δ = σ(l) − x
        let mut nll = zeros(rows);
        // Gradients in `params()` order: encoder, μ, log σ², decoder, output; (dW, db) per layer.
        let mut grads: Vec<(Vec<MaybeUninit<f32>>, Vec<f32>)> = enc
            .iter()
            .chain([&mu_l, &lv_l])
            .chain(dec.iter())
            .chain([&out_l])
            .map(|l| (fresh(l.fan_in * l.fan_out), zeros(l.fan_out)))
            .collect();

        let sh = |v: &mut Vec<f32>| Shared::new(v);
        let hid = |h: &mut Hidden| HiddenRef {
            pre: Shared::uninit(&mut h.pre),
            out: Shared::uninit(&mut h.out),
            act,
        };
        let (enc_h, dec_h): (Vec<HiddenRef>, Vec<HiddenRef>) = (
            enc_h.iter_mut().map(hid).collect(),
            dec_h.iter_mut().map(hid).collect(),
        );
        let (enc_d, dec_d): (Vec<Shared>, Vec<Shared>) = (
            enc_d.iter_mut().map(|v| Shared::uninit(v)).collect(),
            dec_d.iter_mut().map(|v| Shared::uninit(v)).collect(),
        );
        let (mu_s, lv_s, std_s, z_s) = (sh(&mut mu), sh(&mut lv), sh(&mut std), sh(&mut z));
        let (dz_s, dmu_s, dlv_s) = (Shared::uninit(&mut dz), sh(&mut dmu), sh(&mut dlv));
        let (delta, nll_s) = (Shared::uninit(&mut logits), sh(&mut nll));
        let g: Vec<(Shared, Shared)> = grads
            .iter_mut()
            .map(|(w, b)| (Shared::uninit(w), Shared::new(b)))
            .collect();
        let (ne, nd) = (enc.len(), dec.len());
        let (g_enc, g_mu, g_lv, g_dec, g_out) = (
            &g[..ne],
            g[ne],
            g[ne + 1],
            &g[ne + 2..ne + 2 + nd],
            g[ne + 2 + nd],
        );
        let x_mat = Mat::of(x.as_ptr(), x.len(), rows, d);
        let out_of = |h: &[HiddenRef], i: usize, w: usize| Mat::shared(h[i].out, rows, w);

        // Each phase below writes only this thread's columns (`share(.., ALIGN)`) or rows (`share(.., 1)`) of
        // its outputs and reads only buffers completed before the barrier that ends the previous phase.
        // SAFETY (for the whole body): that is what `Shared` requires.
        lockstep::run(|me| unsafe {
            // Forward: encoder layers, each a phase over its output columns.
            let mut input = x_mat;
            for (i, l) in enc.iter().enumerate() {
                forward_cols(me, l, input, Some(enc_h[i]), enc_h[i].out);
                me.barrier.wait();
                input = out_of(&enc_h, i, l.fan_out);
            }
            // μ, log σ² and z = μ + σ ε over this thread's rows (the heads are narrow).
            let r = me.share(rows, 1);
            if !r.is_empty() {
                for (l, s) in [(&mu_l, mu_s), (&lv_l, lv_s)] {
                    gemm_into(
                        Mat::shared(s, rows, zd).rows(r.clone()),
                        false,
                        input.rows(r.clone()),
                        l.w(),
                    );
                    let b = l.b.slice();
                    for row in s.part_mut(r.start * zd, r.len() * zd).chunks_mut(zd) {
                        row.iter_mut().zip(b).for_each(|(v, bi)| *v += bi);
                    }
                }
                let span = (r.start * zd, r.len() * zd);
                let (lv, mu) = (lv_s.part_mut(span.0, span.1), mu_s.part_mut(span.0, span.1));
                let (sd, z) = (std_s.part_mut(span.0, span.1), z_s.part_mut(span.0, span.1));
                for i in 0..span.1 {
                    sd[i] = (lv[i] * 0.5).exp();
                    z[i] = mu[i] + sd[i] * eps[span.0 + i];
                }
            }
            me.barrier.wait();
            // Decoder layers, then the output logits.
            let mut input = Mat::shared(z_s, rows, zd);
            for (i, l) in dec.iter().enumerate() {
                forward_cols(me, l, input, Some(dec_h[i]), dec_h[i].out);
                me.barrier.wait();
                input = out_of(&dec_h, i, l.fan_out);
            }
            let last_in = input;
            forward_cols(me, &out_l, input, None, delta);
            me.barrier.wait();
            // Logits → (per-row NLL, δ = σ(l) − x), over this thread's rows.
            let r = me.share(rows, 1);
            let n = nll_s.part_mut(r.start, r.len());
            for (k, row) in r.clone().enumerate() {
                n[k] = bce_row(delta.part_mut(row * d, d), &x[row * d..(row + 1) * d]);
            }
            me.barrier.wait();

            // Backward, output layer first; each layer's input gradient is finished (times the derivative
            // of the activation that made the input) in the same phase, column by column.
            let dec_grad = |i: usize| InputGrad {
                buf: dec_d[i],
                acc: false,
                act: Some(dec_h[i].grad()),
            };
            let into_z = InputGrad {
                buf: dz_s,
                acc: false,
                act: Some(ActGrad::Linear),
            };
            backward_cols(
                me,
                &out_l,
                last_in,
                delta,
                g_out,
                Some(if nd > 0 { dec_grad(nd - 1) } else { into_z }),
            );
            me.barrier.wait();
            for i in (0..nd).rev() {
                let input = if i > 0 {
                    out_of(&dec_h, i - 1, dec[i - 1].fan_out)
                } else {
                    Mat::shared(z_s, rows, zd)
                };
                let dx = if i > 0 { dec_grad(i - 1) } else { into_z };
                backward_cols(me, &dec[i], input, dec_d[i], g_dec[i], Some(dx));
                me.barrier.wait();
            }
            // dL/dz → dL/dμ = dz + μ (KL) and dL/dlv = dz·ε·σ/2 + (e^{lv} − 1)/2, over this thread's rows.
            let r = me.share(rows, 1);
            if !r.is_empty() {
                let span = (r.start * zd, r.len() * zd);
                let (dz, mu, lv) = (dz_s.read(), mu_s.read(), lv_s.read());
                let (dmu, dlv) = (
                    dmu_s.part_mut(span.0, span.1),
                    dlv_s.part_mut(span.0, span.1),
                );
                let sd = std_s.read();
                for k in 0..span.1 {
                    let i = span.0 + k;
                    dmu[k] = dz[i] + mu[i];
                    dlv[k] = dz[i] * eps[i] * 0.5 * sd[i] + 0.5 * (lv[i].exp() - 1.0);
                }
            }
            me.barrier.wait();
            // The heads: dW, db, and dL/dh = dμ·W_μᵀ + dlv·W_lvᵀ into the last encoder layer's buffer.
            let h_in = if ne > 0 {
                out_of(&enc_h, ne - 1, enc[ne - 1].fan_out)
            } else {
                x_mat
            };
            let into_enc = |acc: bool, act: bool| {
                (ne > 0).then(|| InputGrad {
                    buf: enc_d[ne - 1],
                    acc,
                    act: act.then(|| enc_h[ne - 1].grad()),
                })
            };
            backward_cols(me, &mu_l, h_in, dmu_s, g_mu, into_enc(false, false));
            backward_cols(me, &lv_l, h_in, dlv_s, g_lv, into_enc(true, true));
            me.barrier.wait();
            for i in (0..ne).rev() {
                let (input, dx) = if i > 0 {
                    (
                        out_of(&enc_h, i - 1, enc[i - 1].fan_out),
                        Some(InputGrad {
                            buf: enc_d[i - 1],
                            acc: false,
                            act: Some(enc_h[i - 1].grad()),
                        }),
                    )
                } else {
                    (x_mat, None) // nothing needs dL/dx for the images
                };
                backward_cols(me, &enc[i], input, enc_d[i], g_enc[i], dx);
                me.barrier.wait();
            }
        });

        let mut loss = 0f32;
        for (r, nll_r) in nll.iter().enumerate() {
            let kl: f32 = (0..zd)
                .map(|j| {
                    let i = r * zd + j;
                    1.0 + lv[i] - mu[i] * mu[i] - lv[i].exp()
                })
                .sum::<f32>()
                * -0.5;
            loss += nll_r + kl;
        }
        drop((enc, dec, mu_l, lv_l, out_l));
        let dev = self.out.weight.device();
        let tensors = self
            .layers()
            .iter()
            .zip(grads.into_iter().map(|(w, b)| {
                // SAFETY: each dW was written whole by its layer's backward GEMM (`acc = false`).
                (unsafe { assume_init(w) }, b)
            }))
            .flat_map(|((_, l), (dw, db))| {
                [(l.weight.shape().clone(), dw), (l.bias.shape().clone(), db)]
            })
            .map(|(shape, v)| Ok(Tensor::from_vec(v, shape, dev)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((loss, tensors)))
    }
}
