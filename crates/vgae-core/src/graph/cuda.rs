//! CUDA launches of `kernels/graph.cu`: the CSR product and the pair logits with their backward, as the
//! `cuda_fwd` halves of the custom ops in `sparse.rs` and `pairdot.rs`.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{CudaView, LaunchConfig, PushKernelArg};
use candle_core::cuda_backend::{CudaDType, WrapErr};
use candle_core::{bail, CudaDevice, CudaStorage, Layout, Result, Storage, Tensor};

const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/graph.ptx"));
const MODULE: &str = "vgae_graph";

/// A CSR matrix on the device: row pointers and column indices as u32, values as f32.
#[derive(Debug, Clone)]
pub struct DeviceCsr {
    pub indptr: Tensor,
    pub indices: Tensor,
    pub data: Tensor,
}

impl DeviceCsr {
    pub fn new(a: &vgae_data::CsrMatrix, dev: &candle_core::Device) -> Result<Self> {
        let indptr = a
            .indptr
            .iter()
            .map(|&p| u32::try_from(p))
            .collect::<std::result::Result<Vec<u32>, _>>()
            .map_err(|_| candle_core::Error::Msg("CSR matrix has over 2^32 non-zeros".into()))?;
        Ok(DeviceCsr {
            indptr: Tensor::new(indptr.as_slice(), dev)?,
            indices: Tensor::new(a.indices.as_slice(), dev)?,
            data: Tensor::new(a.data.as_slice(), dev)?,
        })
    }
}

/// The contiguous device data of a storage.
pub(crate) fn view<'a, T: CudaDType>(
    s: &'a CudaStorage,
    l: &Layout,
    what: &str,
) -> Result<CudaView<'a, T>> {
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(s.as_cuda_slice::<T>()?.slice(a..b)),
        None => bail!("{what}: expected a contiguous tensor"),
    }
}

pub(crate) fn cuda_storage<'a>(s: &'a Storage, what: &str) -> Result<&'a CudaStorage> {
    match s {
        Storage::Cuda(c) => Ok(c),
        _ => bail!("{what}: expected a CUDA tensor"),
    }
}

/// One thread per element of `n` (at least one block), or an error naming `what` past u32.
pub(crate) fn launch_size(n: usize, what: &str) -> Result<LaunchConfig> {
    match u32::try_from(n) {
        Ok(n) => Ok(LaunchConfig::for_num_elems(n.max(1))),
        Err(_) => bail!("{what}: {n} threads do not fit one launch"),
    }
}

/// `y = A · h` for `h: [A.cols, d]` (contiguous f32) → `[rows, d]`.
pub fn spmm(
    csr: &DeviceCsr,
    h: &CudaStorage,
    hl: &Layout,
    rows: usize,
    d: usize,
) -> Result<CudaStorage> {
    const WHAT: &str = "sparse product";
    let dev: &CudaDevice = h.device();
    let hv = view::<f32>(h, hl, WHAT)?;
    let n = rows * d;
    let out = dev.alloc_zeros::<f32>(n.max(1))?;
    if n > 0 {
        let (ip_s, ip_l) = csr.indptr.storage_and_layout();
        let (ix_s, ix_l) = csr.indices.storage_and_layout();
        let (v_s, v_l) = csr.data.storage_and_layout();
        let ip = view::<u32>(cuda_storage(&ip_s, WHAT)?, ip_l, WHAT)?;
        let ix = view::<u32>(cuda_storage(&ix_s, WHAT)?, ix_l, WHAT)?;
        let v = view::<f32>(cuda_storage(&v_s, WHAT)?, v_l, WHAT)?;
        let (rows, d) = (rows as u32, d as u32);
        let func = dev.get_or_load_custom_func("csr_spmm_f32", MODULE, PTX)?;
        let mut b = func.builder();
        b.arg(&ip)
            .arg(&ix)
            .arg(&v)
            .arg(&hv)
            .arg(&out)
            .arg(&rows)
            .arg(&d);
        // The kernel reads indptr[0..=rows], indices/vals below indptr[rows], h rows below A.cols (checked by
        // the caller) and writes out[0..rows*d].
        // SAFETY: as just said.
        unsafe { b.launch(launch_size(n, WHAT)?) }.w()?;
    }
    Ok(CudaStorage::wrap_cuda_slice(out, dev.clone()))
}

fn upload_pairs(
    dev: &CudaDevice,
    pairs: &[[u32; 2]],
) -> Result<candle_core::cuda_backend::cudarc::driver::CudaSlice<u32>> {
    let flat: Vec<u32> = pairs.iter().flatten().copied().collect();
    dev.clone_htod(&flat)
}

/// `out[p] = z[u_p] · z[v_p]` for `z: [n, d]`; the caller has checked every pair is below `n`.
pub fn pair_dot(pairs: &[[u32; 2]], z: &CudaStorage, zl: &Layout, d: usize) -> Result<CudaStorage> {
    const WHAT: &str = "pair logits";
    let dev = z.device();
    let zv = view::<f32>(z, zl, WHAT)?;
    let k = pairs.len();
    let out = dev.alloc_zeros::<f32>(k.max(1))?;
    if k > 0 {
        let p = upload_pairs(dev, pairs)?;
        let (k32, d32) = (k as u32, d as u32);
        let func = dev.get_or_load_custom_func("pair_dot_f32", MODULE, PTX)?;
        let mut b = func.builder();
        b.arg(&p).arg(&zv).arg(&out).arg(&k32).arg(&d32);
        // SAFETY: k threads, each reading two in-range rows of z and writing out[p].
        unsafe { b.launch(launch_size(k, WHAT)?) }.w()?;
    }
    Ok(CudaStorage::wrap_cuda_slice(out, dev.clone()))
}

/// `dz[u_p] += g_p z[v_p]`, `dz[v_p] += g_p z[u_p]` → `[n, d]`.
pub fn pair_dot_bwd(
    pairs: &[[u32; 2]],
    (z, zl): (&CudaStorage, &Layout),
    (g, gl): (&CudaStorage, &Layout),
    (n, d): (usize, usize),
) -> Result<CudaStorage> {
    const WHAT: &str = "pair logits (backward)";
    let dev = z.device();
    let zv = view::<f32>(z, zl, WHAT)?;
    let gv = view::<f32>(g, gl, WHAT)?;
    let out = dev.alloc_zeros::<f32>((n * d).max(1))?;
    let k = pairs.len();
    if k > 0 && d > 0 {
        let p = upload_pairs(dev, pairs)?;
        let (k32, d32) = (k as u32, d as u32);
        let func = dev.get_or_load_custom_func("pair_dot_bwd_f32", MODULE, PTX)?;
        let mut b = func.builder();
        b.arg(&p).arg(&zv).arg(&gv).arg(&out).arg(&k32).arg(&d32);
        // SAFETY: k·d threads, each reading in-range rows of z and g[p] and adding into rows of out below n.
        unsafe { b.launch(launch_size(k * d, WHAT)?) }.w()?;
    }
    Ok(CudaStorage::wrap_cuda_slice(out, dev.clone()))
}
