//! One layer of the fast VAE step, forward and backward, as this thread's share of a [`crate::lockstep::run`].

use super::ALIGN;
use crate::host_mat::{fresh, gemm_into, HostParam, Mat};
use crate::lockstep::{Member, Shared};
use crate::vae::config::Activation;
use crate::vae::model::Linear;
use crate::Result;
use std::mem::MaybeUninit;

/// One layer's weights read in place: `w` is `[fan_in, fan_out]`.
pub(super) struct Dense<'a> {
    pub(super) w: HostParam<'a>,
    pub(super) b: HostParam<'a>,
    pub(super) fan_in: usize,
    pub(super) fan_out: usize,
}

impl<'a> Dense<'a> {
    pub(super) fn new(l: &'a Linear) -> Result<Self> {
        let (fan_in, fan_out) = l.weight.as_tensor().dims2()?;
        Ok(Dense {
            w: HostParam::get(l.weight.as_tensor())?,
            b: HostParam::get(l.bias.as_tensor())?,
            fan_in,
            fan_out,
        })
    }

    pub(super) fn w(&self) -> Mat {
        let w = self.w.slice();
        Mat::of(w.as_ptr(), w.len(), self.fan_in, self.fan_out)
    }
}

/// What the backward needs of a layer's output activation: the pre-activation for ReLU (whose gradient
/// Candle takes as 1 at 0), the output for tanh, nothing for a linear output (z).
#[derive(Clone, Copy)]
pub(super) enum ActGrad {
    Linear,
    Relu(Shared),
    Tanh(Shared),
}

/// One hidden layer's forward buffers, both `[rows, fan_out]`: `pre` (ReLU only) and `out`. The GEMM writes
/// `pre` for ReLU and `out` for tanh; ReLU's `out` is written element-wise, so it starts zeroed.
pub(super) struct Hidden {
    pub(super) pre: Vec<MaybeUninit<f32>>,
    pub(super) out: Vec<MaybeUninit<f32>>,
}

impl Hidden {
    pub(super) fn new(act: Activation, rows: usize, width: usize) -> Self {
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
pub(super) struct HiddenRef {
    pub(super) pre: Shared,
    pub(super) out: Shared,
    pub(super) act: Activation,
}

impl HiddenRef {
    pub(super) fn grad(self) -> ActGrad {
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
pub(super) unsafe fn forward_cols(
    me: &Member,
    l: &Dense,
    input: Mat,
    h: Option<HiddenRef>,
    out: Shared,
) {
    let (rows, fo) = (input.height(), l.fan_out);
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
pub(super) struct InputGrad {
    pub(super) buf: Shared,
    pub(super) acc: bool,
    pub(super) act: Option<ActGrad>,
}

/// This thread's share of a layer's backward, from `delta = dL/d(pre-activation)` (`[rows, fan_out]`):
/// columns of `dW = inputᵀ·delta` and of `db`, and, if asked, columns of `dx = delta·Wᵀ`.
///
/// # Safety
/// Phase rules of [`Shared`]: `input`, `delta` and the activation buffers are complete and read-only in this
/// phase; `dw`, `db` and `dx` are written only here, each thread in its own columns.
pub(super) unsafe fn backward_cols(
    me: &Member,
    l: &Dense,
    input: Mat,
    delta: Shared,
    (dw, db): (Shared, Shared),
    dx: Option<InputGrad>,
) {
    let (rows, fi, fo) = (input.height(), l.fan_in, l.fan_out);
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
