//! Host views for the hand-derived steps (the VAE's and the discriminator's): parameters read in place,
//! strided matrix operands over shared buffers, a single-threaded GEMM into them, and buffers that a GEMM
//! fills before anything reads them.

use crate::lockstep::Shared;
use crate::{Error, Result};
use candle_core::{CpuStorage, Storage, Tensor};
use gemm::Parallelism;
use std::mem::MaybeUninit;
use std::ops::Range;

/// A parameter tensor read in place (no copy): the lock guard and the offsets of its contiguous data.
pub(crate) struct HostParam<'a> {
    guard: candle_core::StorageRef<'a>,
    range: (usize, usize),
}

impl HostParam<'_> {
    pub(crate) fn get(t: &Tensor) -> Result<HostParam<'_>> {
        let (guard, layout) = t.storage_and_layout();
        let range = layout
            .contiguous_offsets()
            .ok_or_else(|| Error::msg("hand-derived step: parameter is not contiguous"))?;
        if !matches!(&*guard, Storage::Cpu(CpuStorage::F32(_))) {
            return Err(Error::msg(
                "hand-derived step: parameter is not an f32 CPU tensor",
            ));
        }
        Ok(HostParam { guard, range })
    }

    pub(crate) fn slice(&self) -> &[f32] {
        match &*self.guard {
            Storage::Cpu(CpuStorage::F32(v)) => &v[self.range.0..self.range.1],
            _ => unreachable!("checked in HostParam::get"),
        }
    }
}

/// A matrix operand by pointer and strides: element `(i, j)` is at `ptr[i·rs + j·cs]`. Made only from
/// [`Mat::of`] and its sub-views, so every element it names lies inside the buffer it came from.
#[derive(Clone, Copy)]
pub(crate) struct Mat {
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
    pub(crate) fn of(ptr: *const f32, len: usize, rows: usize, cols: usize) -> Mat {
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

    pub(crate) fn shared(s: Shared, rows: usize, cols: usize) -> Mat {
        Mat::of(s.ptr(), s.len(), rows, cols)
    }

    pub(crate) fn height(&self) -> usize {
        self.rows
    }

    pub(crate) fn t(self) -> Mat {
        Mat {
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
            ..self
        }
    }

    pub(crate) fn cols(self, c: Range<usize>) -> Mat {
        assert!(c.end <= self.cols);
        Mat {
            // SAFETY: `c.start < cols` (or the view is empty), so the offset stays inside the buffer.
            ptr: unsafe { self.ptr.offset(c.start as isize * self.cs) },
            cols: c.len(),
            ..self
        }
    }

    pub(crate) fn rows(self, r: Range<usize>) -> Mat {
        self.t().cols(r).t()
    }
}

/// `y (+)= a · b` on this thread.
///
/// # Safety
/// No other thread writes `a` or `b`, or reads or writes the elements of `y`, until the next barrier.
pub(crate) unsafe fn gemm_into(y: Mat, acc: bool, a: Mat, b: Mat) {
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

/// A buffer left uninitialised: the GEMM that starts its phase writes every element before anything reads
/// it (the step's `memset`s cost as much as its element-wise passes).
pub(crate) fn fresh(n: usize) -> Vec<MaybeUninit<f32>> {
    let mut v = Vec::with_capacity(n);
    // SAFETY: `MaybeUninit` needs no initialisation.
    unsafe { v.set_len(n) };
    v
}

/// The floats of a [`fresh`] buffer once every element has been written.
///
/// # Safety
/// Every element is initialised.
pub(crate) unsafe fn assume_init(v: Vec<MaybeUninit<f32>>) -> Vec<f32> {
    let mut v = std::mem::ManuallyDrop::new(v);
    Vec::from_raw_parts(v.as_mut_ptr().cast(), v.len(), v.capacity())
}
