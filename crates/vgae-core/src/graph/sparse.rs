//! Sparse × dense products `A · H` for a fixed CSR matrix `A` (the normalised adjacency, or sparse node
//! features), as a Candle custom op with its own backward: `dL/dH = Aᵀ · dL/dY`.
//!
//! CPU: parallel over output rows. Other devices: the same product with `index_select` + `index_add`
//! (device ops, slower but correct), so nothing copies the graph to the host each step.

use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Shape, Tensor};
use rayon::prelude::*;
use std::sync::Arc;
use vgae_data::CsrMatrix;

/// A CSR matrix and its transpose, shared by the forward and backward ops.
#[derive(Debug)]
pub struct SparseMatrix {
    pub a: CsrMatrix,
    /// `aᵀ`, or `None` when `a` is symmetric (the normalised adjacency) and the backward reuses `a`.
    pub at: Option<CsrMatrix>,
    /// COO form on the device for the non-CPU path: rows, cols, values.
    device_coo: std::sync::OnceLock<(Tensor, Tensor, Tensor)>,
}

impl SparseMatrix {
    pub fn new(a: CsrMatrix) -> Arc<Self> {
        let at = a.transpose();
        Arc::new(SparseMatrix {
            at: (at != a).then_some(at),
            a,
            device_coo: std::sync::OnceLock::new(),
        })
    }

    fn transpose_csr(&self) -> &CsrMatrix {
        self.at.as_ref().unwrap_or(&self.a)
    }

    /// `A · h` with `h: [A.cols, d]` → `[A.rows, d]`, differentiable in `h`.
    pub fn matmul(self: &Arc<Self>, h: &Tensor) -> candle_core::Result<Tensor> {
        spmm(self, h, false)
    }
}

fn spmm(m: &Arc<SparseMatrix>, h: &Tensor, transposed: bool) -> candle_core::Result<Tensor> {
    let h = h.contiguous()?;
    if h.device().is_cpu() {
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
    let (cols, vals) = a.row(r);
    for (&c, &v) in cols.iter().zip(vals) {
        let hr = &h[c as usize * d..(c as usize + 1) * d];
        for (yk, hk) in y.iter_mut().zip(hr) {
            *yk += v * hk;
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn row_kernel_avx2(a: &CsrMatrix, r: usize, h: &[f32], d: usize, y: &mut [f32]) {
    row_kernel(a, r, h, d, y)
}

/// Picks the widest build of the row kernel the CPU runs (same arithmetic, so the same bits).
fn spmm_row(a: &CsrMatrix, r: usize, h: &[f32], d: usize, y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU supports the features the function was compiled for.
        return unsafe { row_kernel_avx2(a, r, h, d, y) };
    }
    row_kernel(a, r, h, d, y)
}

struct SpmmOp {
    m: Arc<SparseMatrix>,
    transposed: bool,
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
        let h = match storage {
            CpuStorage::F32(v) => match layout.contiguous_offsets() {
                Some((s, e)) => &v[s..e],
                None => candle_core::bail!("sparse product: input must be contiguous"),
            },
            _ => candle_core::bail!("sparse product: only f32 is supported, got another dtype"),
        };
        let mut out = vec![0f32; a.rows * d];
        out.par_chunks_mut(d)
            .enumerate()
            .with_min_len(64)
            .for_each(|(r, y)| spmm_row(a, r, h, d, y));
        Ok((CpuStorage::F32(out), Shape::from((a.rows, d))))
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
