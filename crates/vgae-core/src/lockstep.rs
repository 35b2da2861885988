//! SPMD runs on Rayon's pool: every pool thread runs the same closure with its index, and the threads meet at
//! spin barriers between phases. For work made of many short dependent phases (the MNIST VAE step: a dozen
//! GEMMs of 10–800 µs, each needing the previous one's whole output), this replaces a fork-join per phase,
//! whose sleeping and waking threads cost more than the phases' parallel part saved: gemm's own 2-thread split
//! ran the step's products at 1.37× one thread, a static split of the columns with spin barriers at 1.9×.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A reusable barrier for the `n` threads of one [`run`], spinning rather than sleeping.
pub struct SpinBarrier {
    n: usize,
    count: AtomicUsize,
    generation: AtomicUsize,
    poisoned: AtomicBool,
}

impl SpinBarrier {
    fn new(n: usize) -> Self {
        SpinBarrier {
            n,
            count: AtomicUsize::new(0),
            generation: AtomicUsize::new(0),
            poisoned: AtomicBool::new(false),
        }
    }

    /// Returns once all `n` threads have called it; everything each thread wrote before is visible to all
    /// after. Panics if another thread panicked, so no thread waits forever for one that is gone.
    pub fn wait(&self) {
        if self.n == 1 {
            return;
        }
        let g = self.generation.load(Ordering::Acquire);
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.n {
            self.count.store(0, Ordering::Relaxed);
            self.generation.fetch_add(1, Ordering::Release);
            return;
        }
        let mut spins = 0u32;
        while self.generation.load(Ordering::Acquire) == g {
            if self.poisoned.load(Ordering::Relaxed) {
                panic!("another thread of the team panicked");
            }
            spins = spins.wrapping_add(1);
            // Mostly spin; now and then let an oversubscribed core run whoever we are waiting for.
            if spins.is_multiple_of(4096) {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
    }
}

/// Poisons the barrier if its thread unwinds.
struct PoisonOnPanic<'a>(&'a SpinBarrier);

impl Drop for PoisonOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.poisoned.store(true, Ordering::Relaxed);
        }
    }
}

/// One thread's place in a [`run`].
pub struct Member<'a> {
    /// This thread's index, `0..threads`.
    pub index: usize,
    /// How many threads run the closure (the Rayon pool's size).
    pub threads: usize,
    /// The barrier all `threads` meet at between phases.
    pub barrier: &'a SpinBarrier,
}

impl Member<'_> {
    /// This thread's share of `0..len`: contiguous, in index order, with inner boundaries at the multiple of
    /// `align` nearest the even split (so the row segments of a column split start on whole SIMD vectors).
    pub fn share(&self, len: usize, align: usize) -> std::ops::Range<usize> {
        let cut = |i: usize| {
            if i >= self.threads {
                len
            } else {
                ((2 * i * len / self.threads + align) / (2 * align) * align).min(len)
            }
        };
        cut(self.index)..cut(self.index + 1)
    }
}

/// Runs `f` once on every thread of the current Rayon pool (on this thread alone when the pool has one), and
/// returns when all have finished. The split of the work depends only on the pool size, so results are the
/// same from run to run at a given thread count.
pub fn run(f: impl Fn(&Member) + Sync) {
    let threads = rayon::current_num_threads();
    let barrier = SpinBarrier::new(threads);
    let body = |index: usize| {
        let _guard = PoisonOnPanic(&barrier);
        f(&Member {
            index,
            threads,
            barrier: &barrier,
        })
    };
    if threads == 1 {
        body(0);
    } else {
        rayon::broadcast(|ctx| body(ctx.index()));
    }
}

/// A buffer shared by the threads of a [`run`]: each phase either writes disjoint parts of it from
/// different threads, or only reads it. Those rules are the caller's to keep (hence the `unsafe` accessors);
/// a barrier separates a phase that writes from one that reads.
#[derive(Clone, Copy)]
pub struct Shared {
    ptr: *mut f32,
    len: usize,
}

// SAFETY: the pointer is only dereferenced under the phase rules above.
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    /// Shares `v`, which must outlive every use of the result (the caller keeps it alive across the [`run`]).
    pub fn new(v: &mut [f32]) -> Self {
        Shared {
            ptr: v.as_mut_ptr(),
            len: v.len(),
        }
    }

    /// A buffer whose elements are all written (by a GEMM, through the pointer) before any is read.
    pub fn uninit(v: &mut [std::mem::MaybeUninit<f32>]) -> Self {
        Shared {
            ptr: v.as_mut_ptr().cast(),
            len: v.len(),
        }
    }

    /// Number of f32 elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `len` elements from `start`, for writing.
    ///
    /// # Safety
    /// No other thread reads or writes these elements until the next barrier.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn part_mut(&self, start: usize, len: usize) -> &mut [f32] {
        assert!(
            start + len <= self.len,
            "shared buffer: {start}+{len} > {}",
            self.len
        );
        std::slice::from_raw_parts_mut(self.ptr.add(start), len)
    }

    /// The whole buffer, for reading.
    ///
    /// # Safety
    /// No thread writes any of it until the next barrier.
    pub unsafe fn read(&self) -> &[f32] {
        std::slice::from_raw_parts(self.ptr, self.len)
    }

    /// The raw start pointer, for a GEMM writing through it; the phase rules above apply.
    pub fn ptr(&self) -> *mut f32 {
        self.ptr
    }
}
