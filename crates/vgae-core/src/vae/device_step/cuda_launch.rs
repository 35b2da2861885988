//! Launches of `kernels/vae_step.cu` for [`super::passes`]: inputs as contiguous views, fresh outputs, then
//! the u32 sizes, in the kernels' argument order.

use super::passes::Launch;
use crate::graph::cuda::{cuda_storage, view};
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{CudaView, LaunchConfig, PushKernelArg};
use candle_core::cuda_backend::WrapErr;
use candle_core::op::BackpropOp;
use candle_core::{CudaStorage, Result, Storage, Tensor};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/vae_step.ptx"));
const MODULE: &str = "vgae_vae_step";

pub(super) fn run(
    name: &'static str,
    inputs: &[&Tensor],
    outputs: &[usize],
    dims: &[u32],
    launch: Launch,
) -> Result<Vec<Tensor>> {
    let guards: Vec<_> = inputs.iter().map(|t| t.storage_and_layout()).collect();
    let storages = guards
        .iter()
        .map(|(s, _)| cuda_storage(s, name))
        .collect::<Result<Vec<&CudaStorage>>>()?;
    let views = storages
        .iter()
        .zip(&guards)
        .map(|(s, (_, l))| view::<f32>(s, l, name))
        .collect::<Result<Vec<CudaView<f32>>>>()?;
    let dev = storages[0].device().clone();
    // Every kernel of vae_step.cu writes each element of each of its outputs before anything reads it (the
    // element-wise kernels one per thread, the row kernels every column of their row, the sums out[0]); a
    // length of 0 is allocated as 1 and never read.
    let mut outs = Vec::with_capacity(outputs.len());
    for &n in outputs {
        // SAFETY: uninitialised device memory, written whole by the launch below (as just said).
        outs.push(unsafe { dev.alloc::<f32>(n.max(1)) }?);
    }
    let g = launch
        .geometry(name)
        .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    let cfg = LaunchConfig {
        grid_dim: (g.grid[0], g.grid[1], g.grid[2]),
        block_dim: (g.block[0], g.block[1], g.block[2]),
        shared_mem_bytes: 0,
    };
    let func = dev.get_or_load_custom_func(name, MODULE, PTX)?;
    let mut b = func.builder();
    for v in &views {
        b.arg(v);
    }
    for o in outs.iter_mut() {
        b.arg(o);
    }
    for d in dims {
        b.arg(d);
    }
    // The callers in passes.rs pass the inputs each kernel reads, with the sizes (`dims`) that bound its
    // indices, checked there against the tensors' shapes; outputs are as long as it writes.
    // SAFETY: as just said.
    unsafe { b.launch(cfg) }.w()?;
    drop(b);
    Ok(outs
        .into_iter()
        .zip(outputs)
        .map(|(o, &n)| {
            let s = CudaStorage::wrap_cuda_slice(o, dev.clone());
            Tensor::from_storage(Storage::Cuda(s), n, BackpropOp::none(), false)
        })
        .collect())
}
