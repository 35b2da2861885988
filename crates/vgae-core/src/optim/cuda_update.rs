//! The optimisers' updates in place on CUDA tensors (`kernels/optim_update.cu`), one launch per parameter
//! (all parameters in one: [`super::cuda_update_all`]), where the tensor-op path launched about ten and
//! allocated as many temporaries (a third of a small model's step). Same f32 operations in the same order
//! as the CPU's [`super::fused`], so the same bits.
//!
//! Candle's in-place ops have one destination; an update writing two or three tensors runs an op on the
//! first that runs one on the next inside it ([`nest`]), as the CPU's Adagrad does. The tensors are the
//! parameter, its optimiser state and its gradient: distinct allocations, so the nested locks never meet.

use crate::graph::cuda::{launch_size, view};
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{CudaViewMut, LaunchConfig, PushKernelArg};
use candle_core::cuda_backend::WrapErr;
use candle_core::{bail, CpuStorage, CudaStorage, InplaceOp1, InplaceOp2, Layout, Result, Tensor};
use std::cell::RefCell;

pub(super) const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/optim_update.ptx"));
pub(super) const MODULE: &str = "vgae_optim_update";

/// The storages taken so far, in the order of the tensors to write.
pub(super) type Held<'s> = Vec<(&'s mut CudaStorage, Layout)>;
/// What runs once every tensor to write is held: (those, the read-only source and its layout).
pub(super) type Body<'b> = dyn FnMut(Held<'_>, &CudaStorage, &Layout) -> Result<()> + 'b;

/// An in-place op on the next tensor to write (`InplaceOp1`), or on the last one with the source
/// (`InplaceOp2`).
struct Nest<'a, 'h, 'b> {
    rest: &'a [&'a Tensor],
    src: &'a Tensor,
    held: RefCell<Option<Held<'h>>>,
    body: RefCell<&'a mut Body<'b>>,
}

/// Runs `body` with `dst` (at least one tensor) writable and `src` readable.
pub(super) fn nest(
    dst: &[&Tensor],
    held: Held<'_>,
    src: &Tensor,
    body: &mut Body<'_>,
) -> Result<()> {
    let Some((first, rest)) = dst.split_first() else {
        bail!("optimiser update: nothing to write");
    };
    let op = Nest {
        rest,
        src,
        held: RefCell::new(Some(held)),
        body: RefCell::new(body),
    };
    if rest.is_empty() {
        first.inplace_op2(src, &op)
    } else {
        first.inplace_op1(&op)
    }
}

impl Nest<'_, '_, '_> {
    /// Holds `s` too, then runs the body (with the source Candle has locked for the last op) or nests.
    fn take(
        &self,
        s: &mut CudaStorage,
        l: &Layout,
        src: Option<(&CudaStorage, &Layout)>,
    ) -> Result<()> {
        let Some(held) = self.held.borrow_mut().take() else {
            bail!("optimiser update: ran twice");
        };
        let mut held: Held<'_> = held;
        held.push((s, l.clone()));
        let mut body = self.body.borrow_mut();
        match src {
            Some((gs, gl)) => (*body)(held, gs, gl),
            None => nest(self.rest, held, self.src, &mut **body),
        }
    }
}

impl InplaceOp1 for Nest<'_, '_, '_> {
    fn name(&self) -> &'static str {
        "optimiser-update"
    }
    fn cpu_fwd(&self, _: &mut CpuStorage, _: &Layout) -> Result<()> {
        bail!("optimiser update: the CUDA path was given a CPU tensor")
    }
    fn cuda_fwd(&self, s: &mut CudaStorage, l: &Layout) -> Result<()> {
        self.take(s, l, None)
    }
}

impl InplaceOp2 for Nest<'_, '_, '_> {
    fn name(&self) -> &'static str {
        "optimiser-update"
    }
    fn cpu_fwd(&self, _: &mut CpuStorage, _: &Layout, _: &CpuStorage, _: &Layout) -> Result<()> {
        bail!("optimiser update: the CUDA path was given a CPU tensor")
    }
    fn cuda_fwd(
        &self,
        s: &mut CudaStorage,
        l: &Layout,
        g: &CudaStorage,
        gl: &Layout,
    ) -> Result<()> {
        self.take(s, l, Some((g, gl)))
    }
}

pub(super) fn view_mut<'a>(s: &'a mut CudaStorage, l: &Layout) -> Result<CudaViewMut<'a, f32>> {
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(s.as_cuda_slice_mut::<f32>()?.slice_mut(a..b)),
        None => bail!("optimiser update: expected a contiguous tensor"),
    }
}

/// The launch over a parameter's elements and their count as the kernels' u32.
fn elems(n: usize) -> Result<(u32, LaunchConfig)> {
    let cfg = launch_size(n, "optimiser update")?;
    Ok((n as u32, cfg)) // fits: launch_size checked it
}

/// Adagrad's update of `p` and accumulator `s` from `g`, in place on CUDA. Returns false, doing nothing,
/// where the tensors are not contiguous f32 CUDA tensors of one shape.
pub fn adagrad(p: &Tensor, s: &Tensor, g: &Tensor, lr: f32, eps: f32) -> Result<bool> {
    if !super::updatable(p, &[s, g], candle_core::Device::is_cuda) {
        return Ok(false);
    }
    let (n, cfg) = elems(p.elem_count())?;
    let mut body = |mut held: Held<'_>, gs: &CudaStorage, gl: &Layout| -> Result<()> {
        let (Some((ps, pl)), Some((ss, sl))) = (held.pop(), held.pop()) else {
            bail!("adagrad: two tensors to write");
        };
        let (mut pv, mut sv) = (view_mut(ps, &pl)?, view_mut(ss, &sl)?);
        let gv = view::<f32>(gs, gl, "adagrad")?;
        let func = gs
            .device()
            .get_or_load_custom_func("adagrad_f32", MODULE, PTX)?;
        let mut b = func.builder();
        b.arg(&mut pv)
            .arg(&mut sv)
            .arg(&gv)
            .arg(&lr)
            .arg(&eps)
            .arg(&n);
        // SAFETY: n threads, each reading and writing element i < n of p, s and g (one shape, checked).
        unsafe { b.launch(cfg) }.w()?;
        Ok(())
    };
    nest(&[s, p], Vec::new(), g, &mut body)?;
    Ok(true)
}

/// Adam's constants for one step: the betas, `1 − β`, the bias corrections' reciprocals, ε and the
/// learning rate, as the CPU path computes them.
#[derive(Debug, Clone, Copy)]
pub struct AdamStep {
    pub b1: f32,
    pub c1: f32,
    pub b2: f32,
    pub c2: f32,
    pub r1: f32,
    pub r2: f32,
    pub eps: f32,
    pub lr: f32,
}

/// Adam's update of `p` and moments `m`, `v` from `g`, in place on CUDA; as [`adagrad`].
pub fn adam(p: &Tensor, m: &Tensor, v: &Tensor, g: &Tensor, k: AdamStep) -> Result<bool> {
    if !super::updatable(p, &[m, v, g], candle_core::Device::is_cuda) {
        return Ok(false);
    }
    let (n, cfg) = elems(p.elem_count())?;
    let mut body = |mut held: Held<'_>, gs: &CudaStorage, gl: &Layout| -> Result<()> {
        let (Some((ps, pl)), Some((vs, vl)), Some((ms, ml))) = (held.pop(), held.pop(), held.pop())
        else {
            bail!("adam: three tensors to write");
        };
        let (mut pv, mut vv, mut mv) = (view_mut(ps, &pl)?, view_mut(vs, &vl)?, view_mut(ms, &ml)?);
        let gv = view::<f32>(gs, gl, "adam")?;
        let func = gs
            .device()
            .get_or_load_custom_func("adam_f32", MODULE, PTX)?;
        let mut b = func.builder();
        b.arg(&mut pv).arg(&mut mv).arg(&mut vv).arg(&gv);
        for c in [&k.b1, &k.c1, &k.b2, &k.c2, &k.r1, &k.r2, &k.eps, &k.lr] {
            b.arg(c);
        }
        b.arg(&n);
        // SAFETY: n threads, each reading and writing element i < n of p, m, v and g (one shape, checked).
        unsafe { b.launch(cfg) }.w()?;
        Ok(())
    };
    nest(&[m, v, p], Vec::new(), g, &mut body)?;
    Ok(true)
}
