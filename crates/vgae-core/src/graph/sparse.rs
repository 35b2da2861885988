//! Sparse × dense products `A · H` for a fixed CSR matrix `A` (the normalised adjacency, or sparse node
//! features), as a Candle custom op with its own backward: `dL/dH = Aᵀ · dL/dY`.
//!
//! CPU: parallel over output rows. CUDA: one thread per output element (`kernels/graph.cu`). Other devices:
//! the same product with `index_select` + `index_add` (device ops, slower but correct), so nothing copies the
//! graph to the host each step.

use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Shape, Tensor};
use rayon::prelude::*;
use std::sync::Arc;
use vgae_data::CsrMatrix;

/// A CSR matrix and its transpose, shared by the forward and backward ops.
#[derive(Debug)]
pub struct SparseMatrix {
    /// The matrix, `[rows, cols]`.
    pub a: CsrMatrix,
    /// `aᵀ`, or `None` when `a` is symmetric (the normalised adjacency) and the backward reuses `a`.
    pub at: Option<CsrMatrix>,
    /// COO form on the device for the non-CPU path: rows, cols, values.
    device_coo: std::sync::OnceLock<(Tensor, Tensor, Tensor)>,
    /// `a` and the matrix the transposed product uses, in CSR form on a CUDA device.
    #[cfg(feature = "cuda")]
    cuda_csr: [std::sync::OnceLock<super::cuda::DeviceCsr>; 2],
}

impl SparseMatrix {
    /// Wraps `a` (and its transpose, unless `a` is symmetric) for the forward and backward products.
    pub fn new(a: CsrMatrix) -> Arc<Self> {
        let at = a.transpose();
        Arc::new(SparseMatrix {
            at: (at != a).then_some(at),
            a,
            device_coo: std::sync::OnceLock::new(),
            #[cfg(feature = "cuda")]
            cuda_csr: Default::default(),
        })
    }

    fn transpose_csr(&self) -> &CsrMatrix {
        self.at.as_ref().unwrap_or(&self.a)
    }

    /// The CSR arrays of `a` (or of the transposed product's matrix) on `dev`, uploaded once.
    #[cfg(feature = "cuda")]
    fn cuda_csr(
        &self,
        transposed: bool,
        dev: &Device,
    ) -> candle_core::Result<super::cuda::DeviceCsr> {
        let cell = &self.cuda_csr[transposed as usize];
        if let Some(c) = cell.get().filter(|c| c.data.device().same_device(dev)) {
            return Ok(c.clone());
        }
        let a = if transposed {
            self.transpose_csr()
        } else {
            &self.a
        };
        let c = super::cuda::DeviceCsr::new(a, dev)?;
        let _ = cell.set(c.clone());
        Ok(c)
    }

    /// `A · h` with `h: [A.cols, d]` → `[A.rows, d]`, differentiable in `h`.
    pub fn matmul(self: &Arc<Self>, h: &Tensor) -> candle_core::Result<Tensor> {
        spmm(self, h, false)
    }
}

fn spmm(m: &Arc<SparseMatrix>, h: &Tensor, transposed: bool) -> candle_core::Result<Tensor> {
    let h = h.contiguous()?;
    if h.device().is_cpu() || h.device().is_cuda() {
        h.apply_op1(SpmmOp {
            m: m.clone(),
            transposed,
        })
    } else {
        device_spmm(m, &h, transposed)
    }
}

/// The non-CPU path: gather rows of `h`, scale, and add them into the output rows.
fn device_spmm(m: &Arc<SparseMatrix>, h: &Tensor, transposed: bool) -> candle_core::Result<Tensor> {
    let (rows, cols, vals) = match m.device_coo.get() {
        Some(c) if c.0.device().same_device(h.device()) => c.clone(),
        _ => {
            let a = &m.a;
            let r: Vec<u32> = (0..a.rows)
                .flat_map(|r| std::iter::repeat_n(r as u32, a.indptr[r + 1] - a.indptr[r]))
                .collect();
            let dev = h.device();
            let c = (
                Tensor::new(r.as_slice(), dev)?,
                Tensor::new(a.indices.as_slice(), dev)?,
                Tensor::new(a.data.as_slice(), dev)?.unsqueeze(1)?,
            );
            let _ = m.device_coo.set(c.clone());
            c
        }
    };
    // Y[r] += v * H[c] (or, transposed, Y[c] += v * H[r]).
    let (src, dst, out_rows) = if transposed {
        (&rows, &cols, m.a.cols)
    } else {
        (&cols, &rows, m.a.rows)
    };
    let gathered = h
        .index_select(src, 0)?
        .broadcast_mul(&vals.to_dtype(h.dtype())?)?;
    let zeros = Tensor::zeros((out_rows, h.dim(1)?), h.dtype(), h.device())?;
    zeros.index_add(dst, &gathered, 0)
}

/// y = Σ_k A[r, c_k] · H[c_k], the inner loop of the product.
#[inline(always)]
fn row_kernel(a: &CsrMatrix, r: usize, h: &[f32], d: usize, y: &mut [f32]) {
    match d {
        16 => row_kernel_fixed::<16>(a, r, h, y),
        32 => row_kernel_fixed::<32>(a, r, h, y),
        _ => row_kernel_any(a, r, h, d, y),
    }
}

#[inline(always)]
fn row_kernel_any(a: &CsrMatrix, r: usize, h: &[f32], d: usize, y: &mut [f32]) {
    let (cols, vals) = a.row(r);
    for (&c, &v) in cols.iter().zip(vals) {
        let hr = &h[c as usize * d..(c as usize + 1) * d];
        for (yk, hk) in y.iter_mut().zip(hr) {
            *yk += v * hk;
        }
    }
}

/// The widths the paper's encoder uses: the accumulators live in registers, and two of them (even and odd
/// non-zeros) halve the add-latency chain on long rows (Xᵀ of Pubmed has ~2000 non-zeros per row).
#[inline(always)]
fn row_kernel_fixed<const D: usize>(a: &CsrMatrix, r: usize, h: &[f32], y: &mut [f32]) {
    let (cols, vals) = a.row(r);
    let row =
        |c: u32| -> &[f32; D] { h[c as usize * D..][..D].try_into().expect("row of width D") };
    let mut acc = [[0f32; D]; 2];
    let (c2, v2) = (cols.chunks_exact(2), vals.chunks_exact(2));
    let (cr, vr) = (c2.remainder(), v2.remainder());
    for (c, v) in c2.zip(v2) {
        for t in 0..2 {
            let hr = row(c[t]);
            for k in 0..D {
                acc[t][k] += v[t] * hr[k];
            }
        }
    }
    if let (Some(&c), Some(&v)) = (cr.first(), vr.first()) {
        let hr = row(c);
        for k in 0..D {
            acc[0][k] += v * hr[k];
        }
    }
    for (k, yk) in y.iter_mut().enumerate() {
        *yk = acc[0][k] + acc[1][k];
    }
}

crate::simd::multiversion! {
    /// The row kernel through its widest build.
    fn spmm_row(a: &CsrMatrix, r: usize, h: &[f32], d: usize, y: &mut [f32]) = row_kernel;
}

/// Largest `Aᵀ · H` output (floats) computed by scattering over the rows of `A`: 64 K floats (256 KB per
/// slot) keeps the written block in L2 while `H` streams by once.
const SCATTER_MAX: usize = 1 << 16;

/// Slots of the scatter, each summing a fixed range of rows of `A` into its own output; they are added in
/// order, so the result does not depend on the thread count.
const SCATTER_SLOTS: usize = 8;

/// `Aᵀ · H` for a wide, short output (the gradient of the feature weights, `Xᵀ · G`): reading `H` in row
/// order beats gathering rows of `H` through the CSR of `Aᵀ` (~2000 random rows per output row on Pubmed).
fn scatter_transposed(a: &CsrMatrix, h: &[f32], d: usize) -> Vec<f32> {
    let chunk = a.rows.div_ceil(SCATTER_SLOTS).max(1);
    let parts: Vec<Vec<f32>> = (0..a.rows.div_ceil(chunk))
        .into_par_iter()
        .map(|s| {
            let mut y = vec![0f32; a.cols * d];
            scatter_range(a, s * chunk..((s + 1) * chunk).min(a.rows), h, d, &mut y);
            y
        })
        .collect();
    let mut parts = parts.into_iter();
    let mut out = parts.next().unwrap_or_else(|| vec![0f32; a.cols * d]);
    for p in parts {
        out.iter_mut().zip(&p).for_each(|(x, y)| *x += y);
    }
    out
}

/// y[c] += A[r, c] · H[r] for the rows `rows` of `A`.
#[inline(always)]
fn scatter_kernel(a: &CsrMatrix, rows: std::ops::Range<usize>, h: &[f32], d: usize, y: &mut [f32]) {
    match d {
        16 => scatter_fixed::<16>(a, rows, h, y),
        32 => scatter_fixed::<32>(a, rows, h, y),
        _ => {
            for r in rows {
                let hr = &h[r * d..(r + 1) * d];
                let (cols, vals) = a.row(r);
                for (&c, &v) in cols.iter().zip(vals) {
                    let yc = &mut y[c as usize * d..(c as usize + 1) * d];
                    for (yk, hk) in yc.iter_mut().zip(hr) {
                        *yk += v * hk;
                    }
                }
            }
        }
    }
}

#[inline(always)]
fn scatter_fixed<const D: usize>(
    a: &CsrMatrix,
    rows: std::ops::Range<usize>,
    h: &[f32],
    y: &mut [f32],
) {
    for r in rows {
        let hr: &[f32; D] = h[r * D..][..D].try_into().expect("row of width D");
        let (cols, vals) = a.row(r);
        for (&c, &v) in cols.iter().zip(vals) {
            let yc: &mut [f32; D] = (&mut y[c as usize * D..][..D])
                .try_into()
                .expect("row of width D");
            for k in 0..D {
                yc[k] += v * hr[k];
            }
        }
    }
}

crate::simd::multiversion! {
    /// The scatter through its widest build.
    fn scatter_range(a: &CsrMatrix, rows: std::ops::Range<usize>, h: &[f32], d: usize, y: &mut [f32]) = scatter_kernel;
}

/// `A · H` on the host, `h: [A.cols, d]` row-major → `[A.rows, d]`, parallel over rows: the product of
/// [`SparseMatrix::matmul`] without a tensor or a transpose (inference over a whole large graph).
pub fn csr_matmul(a: &CsrMatrix, h: &[f32], d: usize) -> Vec<f32> {
    assert_eq!(h.len(), a.cols * d, "dense operand of the wrong size");
    // Each row is zeroed by the thread that computes it, in cache: a zero-filled allocation was one
    // serial memset of the whole output (2.5 MB per product on Pubmed, five products an epoch).
    let mut out = crate::host_mat::fresh(a.rows * d);
    out.par_chunks_mut(d.max(1))
        .enumerate()
        .with_min_len(64)
        .for_each(|(r, y)| {
            for v in y.iter_mut() {
                v.write(0.0);
            }
            // SAFETY: every element of `y` was just written; `MaybeUninit<f32>` has f32's layout.
            let y = unsafe { &mut *(y as *mut [std::mem::MaybeUninit<f32>] as *mut [f32]) };
            spmm_row(a, r, h, d, y)
        });
    // SAFETY: the chunks cover `out` (each of its `a.rows` rows is one chunk of d), all written above.
    unsafe { crate::host_mat::assume_init(out) }
}

struct SpmmOp {
    m: Arc<SparseMatrix>,
    transposed: bool,
}

impl SpmmOp {
    /// The CSR matrix this product uses and the dense input's width, checked against the input's rows.
    fn operand(&self, layout: &Layout) -> candle_core::Result<(&CsrMatrix, usize)> {
        let a = if self.transposed {
            self.m.transpose_csr()
        } else {
            &self.m.a
        };
        let (n_in, d) = layout.shape().dims2()?;
        if n_in != a.cols {
            candle_core::bail!(
                "sparse product: dense input has {n_in} rows, the sparse matrix {} columns",
                a.cols
            );
        }
        Ok((a, d))
    }
}

impl CustomOp1 for SpmmOp {
    fn name(&self) -> &'static str {
        "csr-spmm"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (a, d) = self.operand(layout)?;
        let h = match storage {
            CpuStorage::F32(v) => match layout.contiguous_offsets() {
                Some((s, e)) => &v[s..e],
                None => candle_core::bail!("sparse product: input must be contiguous"),
            },
            _ => candle_core::bail!("sparse product: only f32 is supported, got another dtype"),
        };
        if self.transposed && self.m.at.is_some() && self.m.a.cols * d <= SCATTER_MAX {
            let out = scatter_transposed(&self.m.a, h, d);
            return Ok((CpuStorage::F32(out), Shape::from((self.m.a.cols, d))));
        }
        let out = csr_matmul(a, h, d);
        Ok((CpuStorage::F32(out), Shape::from((a.rows, d))))
    }

    #[cfg(feature = "cuda")]
    fn cuda_fwd(
        &self,
        storage: &candle_core::CudaStorage,
        layout: &Layout,
    ) -> candle_core::Result<(candle_core::CudaStorage, Shape)> {
        let (a, d) = self.operand(layout)?;
        use candle_core::backend::BackendStorage;
        let dev = Device::Cuda(storage.device().clone());
        let csr = self.m.cuda_csr(self.transposed, &dev)?;
        let out = super::cuda::spmm(&csr, storage, layout, a.rows, d)?;
        Ok((out, Shape::from((a.rows, d))))
    }

    fn bwd(
        &self,
        _arg: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        Ok(Some(spmm(&self.m, grad_res, !self.transposed)?))
    }
}

/// Convenience: the dtype every graph tensor uses.
pub const DTYPE: DType = DType::F32;

/// Uploads a dense copy of a small CSR matrix (tests only; never used for graphs).
pub fn to_dense(a: &CsrMatrix, dev: &Device) -> candle_core::Result<Tensor> {
    let mut v = vec![0f32; a.rows * a.cols];
    for r in 0..a.rows {
        let (c, x) = a.row(r);
        for (&c, &x) in c.iter().zip(x) {
            v[r * a.cols + c as usize] += x;
        }
    }
    Tensor::from_vec(v, (a.rows, a.cols), dev)
}
