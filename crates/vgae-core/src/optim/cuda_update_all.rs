//! Every parameter of a model updated in one launch on CUDA (`adagrad_multi_f32`, `adam_multi_f32` of
//! `kernels/optim_update.cu`), where [`super::cuda_update`] launches once per parameter (14 launches of an
//! MNIST step's 51). The kernel reads one table, uploaded per step (the gradients are fresh tensors): the
//! device pointers (each parameter, its states, its gradient), then each tensor's first element; every
//! element gets the per-parameter kernel's operations, so the same bits. `VGAE_CUDA_UPDATE=each` keeps one
//! launch per parameter.

use super::cuda_update::{nest, view_mut, Held, MODULE, PTX};
use crate::graph::cuda::{launch_size, view};
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{DevicePtr, DevicePtrMut, PushKernelArg};
use candle_core::cuda_backend::WrapErr;
use candle_core::{bail, CudaStorage, Layout, Result, Storage, Tensor};

/// One parameter's tensors: those the update writes (the parameter, then its states) and its gradient.
pub struct Slot<'a> {
    pub write: Vec<&'a Tensor>,
    pub grad: &'a Tensor,
}

/// Whether one launch for all parameters is wanted (the default) rather than one per parameter.
pub fn wanted() -> bool {
    std::env::var("VGAE_CUDA_UPDATE").as_deref() != Ok("each")
}

/// Adagrad's update of every slot (`write` = parameter, accumulator) in one launch. Returns false, doing
/// nothing, where a tensor is not a contiguous f32 CUDA tensor of its parameter's shape.
pub fn adagrad(slots: &[Slot], lr: f32, eps: f32) -> Result<bool> {
    run("adagrad_multi_f32", slots, 2, &[lr, eps])
}

/// Adam's update of every slot (`write` = parameter, m, v) in one launch, with `k`'s constants; as
/// [`adagrad`].
pub fn adam(slots: &[Slot], k: super::cuda_update::AdamStep) -> Result<bool> {
    let c = [k.b1, k.c1, k.b2, k.c2, k.r1, k.r2, k.eps, k.lr];
    run("adam_multi_f32", slots, 3, &c)
}

fn run(kernel: &'static str, slots: &[Slot], writes: usize, scalars: &[f32]) -> Result<bool> {
    let ok = slots.iter().all(|s| {
        s.write.len() == writes
            && super::updatable(s.write[0], &[&s.write[1..], &[s.grad]].concat(), |d| {
                d.is_cuda()
            })
    });
    let Some(last) = slots.last() else {
        return Ok(true);
    };
    if !ok {
        return Ok(false);
    }
    // Each tensor's first element in the launch's numbering, and the total.
    let mut starts = vec![0u64];
    for s in slots {
        starts.push(starts[starts.len() - 1] + s.write[0].elem_count() as u64);
    }
    let total = starts[starts.len() - 1];
    if total > u64::from(u32::MAX) {
        bail!("{kernel}: {total} elements do not fit one launch");
    }
    let tensors = slots.len() as u32;
    // The other gradients stay read-locked while every tensor to write is held; the last one is the
    // source of the innermost in-place op.
    let others: Vec<_> = slots[..slots.len() - 1]
        .iter()
        .map(|s| s.grad.storage_and_layout())
        .collect();
    let write: Vec<&Tensor> = slots.iter().flat_map(|s| s.write.iter().copied()).collect();
    let mut body = |mut held: Held<'_>, gs: &CudaStorage, gl: &Layout| -> Result<()> {
        let dev = gs.device();
        let stream = dev.cuda_stream();
        let mut views = held
            .iter_mut()
            .map(|(s, l)| view_mut(s, l))
            .collect::<Result<Vec<_>>>()?;
        let mut grads = Vec::with_capacity(slots.len());
        for (s, l) in &others {
            match &**s {
                Storage::Cuda(cs) => grads.push(view::<f32>(cs, l, kernel)?),
                _ => bail!("{kernel}: a gradient left the GPU"),
            }
        }
        grads.push(view::<f32>(gs, gl, kernel)?);
        // Per slot: its written tensors' pointers, then its gradient's; each access recorded on the stream
        // (the SyncOnDrop guards) once the launch is queued.
        let (mut table, mut syncs) = (Vec::with_capacity(slots.len() * (writes + 1)), Vec::new());
        let mut views = views.iter_mut();
        for g in &grads {
            for v in views.by_ref().take(writes) {
                let (ptr, sync) = v.device_ptr_mut(&stream);
                table.push(ptr);
                syncs.push(sync);
            }
            let (ptr, sync) = g.device_ptr(&stream);
            table.push(ptr);
            syncs.push(sync);
        }
        // One upload per step: the pointers, then the starts.
        table.extend_from_slice(&starts);
        let table = stream.clone_htod(&table).w()?;
        let func = dev.get_or_load_custom_func(kernel, MODULE, PTX)?;
        let mut b = func.builder();
        b.arg(&table).arg(&tensors);
        for c in scalars {
            b.arg(c);
        }
        // The table holds, per slot, `writes` writable tensors and one gradient, each of starts[t + 1] −
        // starts[t] elements (one shape per slot, checked); one thread per element of all of them.
        // SAFETY: as just said; the views behind the pointers live until after the launch is queued.
        unsafe { b.launch(launch_size(total as usize, kernel)?) }.w()?; // total ≤ u32::MAX, checked
        drop(b);
        drop(syncs);
        Ok(())
    };
    nest(&write, Vec::new(), last.grad, &mut body)?;
    Ok(true)
}
