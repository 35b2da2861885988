//! The exact dense loss as one fused CUDA kernel (`kernels/all_pairs_softplus.cu`): for rows `r0..r1` of Z,
//! Σ_j softplus(z_i·z_j) and 2·Σ_j σ(z_i·z_j)·z_j, in O(N·d) memory and with a fixed summation order (no
//! atomics), so a GPU run repeats bit for bit.

use super::all_pairs_launch::AllPairsLaunch;
use super::cuda::{cuda_storage, view};
use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{LaunchConfig, PushKernelArg};
use candle_core::cuda_backend::WrapErr;
use candle_core::op::BackpropOp;
use candle_core::{bail, CudaStorage, Result, Storage, Tensor};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/all_pairs_softplus.ptx"));
const MODULE: &str = "vgae_all_pairs_softplus";
pub use super::all_pairs_launch::{column_splits, fused_width};

/// Σ_{i ∈ rows} Σ_j softplus(z_i·z_j) and the gradient rows 2·Σ_j σ(z_i·z_j)·z_j (`[rows.len(), d]`) of a
/// contiguous f32 `z` (`[n, d]`, 1 ≤ d ≤ 32) on a CUDA device.
pub fn softplus_gram_rows(z: &Tensor, rows: std::ops::Range<usize>) -> Result<(f64, Tensor)> {
    const WHAT: &str = "fused dense loss";
    let (n, d) = z.dims2()?;
    if !fused_width(d) || rows.end > n || rows.start > rows.end {
        bail!("{WHAT}: rows {rows:?} of [{n}, {d}] (1 ≤ d ≤ 32)");
    }
    let z = z.contiguous()?;
    let len = rows.len();
    if len == 0 {
        return Ok((0.0, Tensor::zeros((0, d), z.dtype(), z.device())?));
    }
    let (storage, layout) = z.storage_and_layout();
    let cs = cuda_storage(&storage, WHAT)?;
    let zv = view::<f32>(cs, layout, WHAT)?;
    let dev = cs.device();
    let plan = AllPairsLaunch::new(n, d, len).map_err(candle_core::Error::Msg)?;
    let (splits, row_tiles) = (plan.splits, plan.row_tiles);
    let values = dev.alloc_zeros::<f64>(row_tiles * splits)?;
    let parts = dev.alloc_zeros::<f32>(splits * len * d)?;
    let to_u32 = |x: usize| {
        u32::try_from(x).map_err(|_| candle_core::Error::Msg(format!("{WHAT}: {x} exceeds u32")))
    };
    let (n32, d32, r0, r1, s32) = (
        to_u32(n)?,
        to_u32(d)?,
        to_u32(rows.start)?,
        to_u32(rows.end)?,
        to_u32(splits)?,
    );
    let func = dev.get_or_load_custom_func(plan.kernel, MODULE, PTX)?;
    let mut b = func.builder();
    b.arg(&zv)
        .arg(&values)
        .arg(&parts)
        .arg(&n32)
        .arg(&d32)
        .arg(&r0)
        .arg(&r1)
        .arg(&s32);
    let cfg = LaunchConfig {
        grid_dim: (plan.grid[0], plan.grid[1], plan.grid[2]),
        block_dim: (plan.block[0], plan.block[1], plan.block[2]),
        shared_mem_bytes: 0,
    };
    // Each block reads rows of z below n (row tiles inside r0..r1 ≤ n, column tiles below n) and writes its
    // own values[split · row_tiles + tile] and its own rows of parts[split] ([len, d] each).
    // SAFETY: as just said.
    unsafe { b.launch(cfg) }.w()?;
    let grad = dev.alloc_zeros::<f32>(len * d)?;
    let (e32, scale) = (to_u32(len * d)?, 2.0f32);
    let func = dev.get_or_load_custom_func("all_pairs_sum_splits_f32", MODULE, PTX)?;
    let mut b = func.builder();
    b.arg(&parts).arg(&grad).arg(&e32).arg(&s32).arg(&scale);
    // SAFETY: one thread per element of grad (len · d), each reading `splits` elements of parts.
    unsafe { b.launch(LaunchConfig::for_num_elems(e32)) }.w()?;
    // The blocks' sums, added on the host in a fixed order (split-major).
    let total: f64 = dev.clone_dtoh(&values)?.iter().sum();
    let grad = CudaStorage::wrap_cuda_slice(grad, dev.clone());
    let grad = Tensor::from_storage(Storage::Cuda(grad), (len, d), BackpropOp::none(), false);
    Ok((total, grad))
}
