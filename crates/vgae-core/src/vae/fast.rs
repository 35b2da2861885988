//! A hand-derived forward and backward pass of the MLP VAE with a Bernoulli decoder, for the CPU: the same
//! −ELBO and gradients as autograd through [`Vae::neg_elbo`] (tested against it), without autograd's overhead.
//!
//! Why: on MNIST batches of 100, Candle's autograd spent more time around the matrix products than in them —
//! an allocation and a sweep per element-wise op and per gradient accumulation, and the product
//! `dL/dx = δ·W₁ᵀ` for the input images that nothing needs (a fifth of all multiply-adds). Here each layer
//! is one GEMM call forward and two backward, with the bias, activation and loss fused into single passes.
//!
//! Threads: every thread of the pool runs the whole step ([`team::run`]), each on its own columns of every
//! layer (rows for the narrow heads and the loss), meeting at spin barriers between layers; the GEMMs run
//! single-threaded on their share. Gradient buffers are not zeroed first: their GEMM writes them whole.
//! (An MNIST epoch at 2 threads: 7.8 s with autograd, 4.3 s with this pass and gemm's own threading, ~3 s
//! with the split.)

use super::config::{Activation, Likelihood};
use super::model::{Linear, Vae};
use crate::graph::gram::softplus_sigmoid;
use crate::team::{self, Member, Shared};
use crate::{Error, Result};
use candle_core::{CpuStorage, Storage, Tensor};
use gemm::Parallelism;
use std::mem::MaybeUninit;
use std::ops::Range;

/// Column blocks of a thread start on multiples of this (8 f32: one AVX2 vector, half an AVX-512 one; 16
/// split the MNIST layers' 250 and 20 columns unevenly between two threads).
const ALIGN: usize = 8;

/// A parameter tensor read in place (no copy): the lock guard and the offsets of its contiguous data.
struct HostParam<'a> {
    guard: candle_core::StorageRef<'a>,
    range: (usize, usize),
}

impl HostParam<'_> {
    fn get(t: &Tensor) -> Result<HostParam<'_>> {
        let (guard, layout) = t.storage_and_layout();
        let range = layout
            .contiguous_offsets()
            .ok_or_else(|| Error::msg("fast VAE step: parameter is not contiguous"))?;
        if !matches!(&*guard, Storage::Cpu(CpuStorage::F32(_))) {
            return Err(Error::msg(
                "fast VAE step: parameter is not an f32 CPU tensor",
            ));
        }
        Ok(HostParam { guard, range })
    }

    fn slice(&self) -> &[f32] {
        match &*self.guard {
            Storage::Cpu(CpuStorage::F32(v)) => &v[self.range.0..self.range.1],
            _ => unreachable!("checked in HostParam::get"),
        }
    }
}

/// A matrix operand by pointer and strides: element `(i, j)` is at `ptr[i·rs + j·cs]`. Made only from
/// [`Mat::of`] and its sub-views, so every element it names lies inside the buffer it came from.
#[derive(Clone, Copy)]
struct Mat {
    ptr: *mut f32,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
}

// SAFETY: a view like `Shared`; the threads of a run use it under the same phase rules.
unsafe impl Send for Mat {}
unsafe impl Sync for Mat {}

impl Mat {
    /// A row-major `[rows, cols]` matrix at the start of a buffer of `len` floats.
    fn of(ptr: *const f32, len: usize, rows: usize, cols: usize) -> Mat {
        assert!(
            rows * cols <= len,
            "matrix [{rows}, {cols}] in a buffer of {len}"
        );
        Mat {
            ptr: ptr as *mut f32,
            rows,
            cols,
            rs: cols as isize,
            cs: 1,
        }
    }

    fn shared(s: Shared, rows: usize, cols: usize) -> Mat {
        Mat::of(s.ptr(), s.len(), rows, cols)
    }

    fn t(self) -> Mat {
        Mat {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    fn cols(self, c: Range<usize>) -> Mat {
        assert!(c.end <= self.cols);
        Mat {
            // SAFETY: `c.start < cols` (or the view is empty), so the offset stays inside the buffer.
            ptr: unsafe { self.ptr.offset(c.start as isize * self.cs) },
            cols: c.len(),
            ..self
        }
    }

    fn rows(self, r: Range<usize>) -> Mat {
        self.t().cols(r).t()
    }
}

/// `y (+)= a · b` on this thread.
///
/// # Safety
/// No other thread writes `a` or `b`, or reads or writes the elements of `y`, until the next barrier.
unsafe fn gemm_into(y: Mat, acc: bool, a: Mat, b: Mat) {
    let (m, n, k) = (y.rows, y.cols, a.cols);
    assert!(a.rows == m && b.rows == k && b.cols == n, "GEMM shapes");
    if m == 0 || n == 0 {
        return;
    }
    gemm::gemm(
        m,
        n,
        k,
        y.ptr,
        y.cs,
        y.rs,
        acc,
        a.ptr,
        a.cs,
        a.rs,
        b.ptr,
        b.cs,
        b.rs,
        1.0,
        1.0,
        false,
        false,
        false,
        Parallelism::None,
    )
}

/// One layer's weights read in place: `w` is `[fan_in, fan_out]`.
struct Dense<'a> {
    w: HostParam<'a>,
    b: HostParam<'a>,
    fan_in: usize,
    fan_out: usize,
}

impl<'a> Dense<'a> {
    fn new(l: &'a Linear) -> Result<Self> {
        let (fan_in, fan_out) = l.weight.as_tensor().dims2()?;
        Ok(Dense {
            w: HostParam::get(l.weight.as_tensor())?,
            b: HostParam::get(l.bias.as_tensor())?,
            fan_in,
            fan_out,
        })
    }

    fn w(&self) -> Mat {
        let w = self.w.slice();
        Mat::of(w.as_ptr(), w.len(), self.fan_in, self.fan_out)
    }
}

/// What the backward needs of a layer's output activation: the pre-activation for ReLU (whose gradient
/// Candle takes as 1 at 0), the output for tanh, nothing for a linear output (z).
#[derive(Clone, Copy)]
enum ActGrad {
    Linear,
    Relu(Shared),
    Tanh(Shared),
}

/// A buffer left uninitialised: the GEMM that starts its phase writes every element before anything reads
/// it (the step's `memset`s cost as much as its element-wise passes).
fn fresh(n: usize) -> Vec<MaybeUninit<f32>> {
    let mut v = Vec::with_capacity(n);
    // SAFETY: `MaybeUninit` needs no initialisation.
    unsafe { v.set_len(n) };
    v
}

/// The floats of a [`fresh`] buffer once every element has been written.
///
/// # Safety
/// Every element is initialised.
unsafe fn assume_init(v: Vec<MaybeUninit<f32>>) -> Vec<f32> {
    let mut v = std::mem::ManuallyDrop::new(v);
    Vec::from_raw_parts(v.as_mut_ptr().cast(), v.len(), v.capacity())
}

/// One hidden layer's forward buffers, both `[rows, fan_out]`: `pre` (ReLU only) and `out`. The GEMM writes
/// `pre` for ReLU and `out` for tanh; ReLU's `out` is written element-wise, so it starts zeroed.
struct Hidden {
    pre: Vec<MaybeUninit<f32>>,
    out: Vec<MaybeUninit<f32>>,
}

impl Hidden {
    fn new(act: Activation, rows: usize, width: usize) -> Self {
        match act {
            Activation::Relu => Hidden {
                pre: fresh(rows * width),
                out: vec![MaybeUninit::new(0f32); rows * width],
            },
            Activation::Tanh => Hidden {
                pre: Vec::new(),
                out: fresh(rows * width),
            },
        }
    }
}

/// [`Hidden`] as seen from the threads.
#[derive(Clone, Copy)]
struct HiddenRef {
    pre: Shared,
    out: Shared,
    act: Activation,
}

impl HiddenRef {
    fn grad(self) -> ActGrad {
        match self.act {
            Activation::Relu => ActGrad::Relu(self.pre),
            Activation::Tanh => ActGrad::Tanh(self.out),
        }
    }
}

/// This thread's columns of `y = act(input · W + b)`, `y: [rows, fan_out]`: into `h.pre` then `h.out` for
/// ReLU, into `h.out` for tanh, into `out` alone (no activation) when `h` is `None`.
///
/// # Safety
/// Phase rules of [`Shared`]: `input` is complete and nobody writes it in this phase.
unsafe fn forward_cols(me: &Member, l: &Dense, input: Mat, h: Option<HiddenRef>, out: Shared) {
    let (rows, fo) = (input.rows, l.fan_out);
    let c = me.share(fo, ALIGN);
    if c.is_empty() {
        return;
    }
    let target = match h {
        Some(HiddenRef {
            pre,
            act: Activation::Relu,
            ..
        }) => pre,
        _ => out,
    };
    gemm_into(
        Mat::shared(target, rows, fo).cols(c.clone()),
        false,
        input,
        l.w().cols(c.clone()),
    );
    let b = &l.b.slice()[c.clone()];
    for r in 0..rows {
        let seg = target.part_mut(r * fo + c.start, c.len());
        seg.iter_mut().zip(b).for_each(|(v, bi)| *v += bi);
        match h.map(|h| h.act) {
            Some(Activation::Relu) => out
                .part_mut(r * fo + c.start, c.len())
                .iter_mut()
                .zip(seg.iter())
                .for_each(|(o, &p)| *o = p.max(0.0)),
            Some(Activation::Tanh) => seg.iter_mut().for_each(|v| *v = v.tanh()),
            None => {}
        }
    }
}

/// Where a layer's input gradient goes: `buf` (`[rows, fan_in]`), added to what is there when `acc`, then
/// multiplied by the derivative of the activation that produced the input.
#[derive(Clone, Copy)]
struct InputGrad {
    buf: Shared,
    acc: bool,
    act: Option<ActGrad>,
}

/// This thread's share of a layer's backward, from `delta = dL/d(pre-activation)` (`[rows, fan_out]`):
/// columns of `dW = inputᵀ·delta` and of `db`, and, if asked, columns of `dx = delta·Wᵀ`.
///
/// # Safety
/// Phase rules of [`Shared`]: `input`, `delta` and the activation buffers are complete and read-only in this
/// phase; `dw`, `db` and `dx` are written only here, each thread in its own columns.
unsafe fn backward_cols(
    me: &Member,
    l: &Dense,
    input: Mat,
    delta: Shared,
    (dw, db): (Shared, Shared),
    dx: Option<InputGrad>,
) {
    let (rows, fi, fo) = (input.rows, l.fan_in, l.fan_out);
    let dm = Mat::shared(delta, rows, fo);
    let c = me.share(fo, ALIGN);
    if !c.is_empty() {
        gemm_into(
            Mat::shared(dw, fi, fo).cols(c.clone()),
            false,
            input.t(),
            dm.cols(c.clone()),
        );
        let db = db.part_mut(c.start, c.len());
        let d = delta.read();
        for r in 0..rows {
            db.iter_mut()
                .zip(&d[r * fo + c.start..r * fo + c.end])
                .for_each(|(s, v)| *s += v);
        }
    }
    let Some(g) = dx else { return };
    let c = me.share(fi, ALIGN);
    if c.is_empty() {
        return;
    }
    gemm_into(
        Mat::shared(g.buf, rows, fi).cols(c.clone()),
        g.acc,
        dm,
        l.w().t().cols(c.clone()),
    );
    let Some(act) = g.act else { return };
    for r in 0..rows {
        let seg = g.buf.part_mut(r * fi + c.start, c.len());
        let at = r * fi + c.start..r * fi + c.end;
        match act {
            ActGrad::Linear => {}
            ActGrad::Relu(pre) => seg
                .iter_mut()
                .zip(&pre.read()[at])
                .for_each(|(d, &a)| *d = if a >= 0.0 { *d } else { 0.0 }),
            ActGrad::Tanh(out) => seg
                .iter_mut()
                .zip(&out.read()[at])
                .for_each(|(d, h)| *d *= 1.0 - h * h),
        }
    }
}

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
    /// thread of the current Rayon pool ([`team::run`]).
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

        // SAFETY (for the whole body): each phase below writes only this thread's columns (`share(.., ALIGN)`)
        // or rows (`share(.., 1)`) of its outputs and reads only buffers completed before the barrier that
        // ends the previous phase, as `Shared` requires.
        team::run(|me| unsafe {
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
            // SAFETY: each dW was written whole by its layer's backward GEMM (`acc = false`).
            .zip(
                grads
                    .into_iter()
                    .map(|(w, b)| (unsafe { assume_init(w) }, b)),
            )
            .flat_map(|((_, l), (dw, db))| {
                [(l.weight.shape().clone(), dw), (l.bias.shape().clone(), db)]
            })
            .map(|(shape, v)| Ok(Tensor::from_vec(v, shape, dev)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((loss, tensors)))
    }
}
