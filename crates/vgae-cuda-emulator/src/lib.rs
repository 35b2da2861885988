//! Runs the CUDA kernels of `vgae-core` (`crates/vgae-core/kernels/*.cu`) on the CPU, from their own sources:
//! `build.rs` compiles them as C++ on top of a small emulation of CUDA C (`cpp/cuda_emulation.h`), and
//! [`launch`] runs one by name, block after block, each block's threads as fibers that meet at every
//! `__syncthreads()`. It checks what a GPU would not: each argument's type against the kernel's parameter
//! list, writes past the end of a buffer or into an input, and (run in both [`Order`]s) barriers that a
//! kernel misses. Floating-point functions (`expf`, `log1pf`, `tanhf`) are the host's, not CUDA's, so
//! results match a GPU to a few ulp, not bit for bit.
//!
//! ```
//! use vgae_cuda_emulator::{launch, Arg, Order};
//! // y = A·h for the 2 × 2 CSR matrix [[0, 2], [1, 0]] and h = [[1, 10], [2, 20]].
//! let (indptr, indices, vals) = ([0u32, 1, 2], [1u32, 0], [2f32, 1.0]);
//! let h = [1f32, 10.0, 2.0, 20.0];
//! let mut y = [0f32; 4];
//! let mut args = [
//!     Arg::Indices(&indptr), Arg::Indices(&indices), Arg::Floats(&vals), Arg::Floats(&h),
//!     Arg::FloatsOut(&mut y), Arg::U32(2), Arg::U32(2),
//! ];
//! launch("csr_spmm_f32", [1, 1, 1], [256, 1, 1], &mut args, Order::Forward).unwrap();
//! assert_eq!(y, [4.0, 40.0, 1.0, 10.0]);
//! ```

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Mutex;

/// One kernel argument, in the kernel's parameter order.
pub enum Arg<'a> {
    /// `const float *`.
    Floats(&'a [f32]),
    /// `float *` that the kernel writes (and may read).
    FloatsOut(&'a mut [f32]),
    /// `double *` that the kernel writes.
    DoublesOut(&'a mut [f64]),
    /// `const unsigned int *`.
    Indices(&'a [u32]),
    /// `unsigned int`.
    U32(u32),
    /// `float`.
    F32(f32),
    /// `const unsigned long long *`: a table of device pointers, here the (copied) data pointers of the
    /// buffers at these positions of [`launch_with_buffers`]' `buffers`, in this order, then these values
    /// (the multi-tensor kernels' tables).
    Pointers(&'a [usize], &'a [u64]),
}

/// The order in which a block's threads run between barriers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Thread 0 first.
    Forward,
    /// The last thread first: a kernel that reads what another thread writes without a barrier between
    /// gives other results than in [`Order::Forward`].
    Reverse,
}

extern "C" {
    fn vgae_emu_launch(
        name: *const c_char,
        grid: *const u32,
        block: *const u32,
        args: *mut *mut c_void,
        tags: *const c_int,
        count: c_int,
        reverse: c_int,
        detail: *mut c_int,
    ) -> c_int;
}

/// The emulator keeps its fibers and the launch's indices in globals: one launch at a time per process.
static LOCK: Mutex<()> = Mutex::new(());

/// Elements appended to every buffer, whose values are checked after the launch.
const GUARD: usize = 64;
/// NaNs that no arithmetic produces: reading one poisons a result, and writing over it is seen.
const GUARD_F32: u32 = 0x7fa5_a5a5;
const GUARD_F64: u64 = 0x7ff4_a5a5_a5a5_a5a5;

/// A copy of one argument as the kernel sees it: buffers padded with guard values.
enum Staged {
    F32(Vec<f32>),
    F64(Vec<f64>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    ScalarU32(u32),
    ScalarF32(f32),
}

/// Runs kernel `name` over `grid` blocks of `block` threads with `args`, in the kernel's parameter order.
/// Buffers are copied in (each with guard elements after its end) and the outputs copied back. Errors name
/// the kernel and the argument: an unknown kernel, a wrong argument count or type, a write past a buffer's
/// end or into an input.
pub fn launch(
    name: &str,
    grid: [u32; 3],
    block: [u32; 3],
    args: &mut [Arg],
    order: Order,
) -> Result<(), String> {
    launch_with_buffers(name, grid, block, args, &mut [], order)
}

/// [`launch`] for kernels that take tables of pointers: each [`Arg::Pointers`] of `args` lists positions in
/// `buffers`, which are staged and checked as arguments are but passed to the kernel only through the
/// tables (the multi-tensor updates' parameters, states and gradients).
pub fn launch_with_buffers(
    name: &str,
    grid: [u32; 3],
    block: [u32; 3],
    args: &mut [Arg],
    buffers: &mut [Arg],
    order: Order,
) -> Result<(), String> {
    let mut held: Vec<Staged> = buffers.iter().map(stage).collect();
    let data: Vec<Option<u64>> = held
        .iter_mut()
        .map(|s| match s {
            Staged::F32(v) => Some(v.as_mut_ptr() as u64),
            Staged::F64(v) => Some(v.as_mut_ptr() as u64),
            Staged::U32(v) => Some(v.as_mut_ptr() as u64),
            _ => None,
        })
        .collect();
    let mut staged = Vec::with_capacity(args.len());
    for (i, a) in args.iter().enumerate() {
        staged.push(match a {
            Arg::Pointers(at, then) => {
                let mut table = at
                    .iter()
                    .map(|&k| data.get(k).copied().flatten())
                    .collect::<Option<Vec<u64>>>()
                    .ok_or_else(|| {
                        format!("{name}: argument {i} lists a position that is no buffer")
                    })?;
                table.extend_from_slice(then);
                Staged::U64(padded(&table, u64::MAX))
            }
            _ => stage(a),
        });
    }
    // The kernels take a pointer to each argument's value (cuLaunchKernel's convention): for a buffer, a
    // pointer to its data pointer.
    let mut pointers: Vec<*mut c_void> = staged
        .iter_mut()
        .map(|s| match s {
            Staged::F32(v) => v.as_mut_ptr() as *mut c_void,
            Staged::F64(v) => v.as_mut_ptr() as *mut c_void,
            Staged::U32(v) => v.as_mut_ptr() as *mut c_void,
            Staged::U64(v) => v.as_mut_ptr() as *mut c_void,
            Staged::ScalarU32(x) => x as *mut u32 as *mut c_void,
            Staged::ScalarF32(x) => x as *mut f32 as *mut c_void,
        })
        .collect();
    let mut params: Vec<*mut c_void> = staged
        .iter()
        .zip(pointers.iter_mut())
        .map(|(s, p)| match s {
            Staged::ScalarU32(_) | Staged::ScalarF32(_) => *p,
            _ => p as *mut *mut c_void as *mut c_void,
        })
        .collect();
    let tags: Vec<c_int> = args
        .iter()
        .map(|a| match a {
            Arg::Floats(_) | Arg::FloatsOut(_) => 0,
            Arg::DoublesOut(_) => 1,
            Arg::Indices(_) => 2,
            Arg::U32(_) => 3,
            Arg::F32(_) => 4,
            Arg::Pointers(..) => 5,
        })
        .collect();
    let cname = CString::new(name).map_err(|_| format!("kernel name {name:?} holds a NUL"))?;
    let mut detail: c_int = 0;
    let status = {
        let _one = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        // `params` holds one pointer per argument to a live value (a scalar, or a buffer's data pointer)
        // and the emulator checks their count and type tags against the kernel's parameters before
        // calling it; every buffer (those the tables point at included) outlives the call. What the
        // kernel reads or writes inside the buffers is bounded by their lengths only through its size
        // arguments, as on the GPU: the guard elements catch overruns of up to GUARD elements.
        // SAFETY: as just said.
        unsafe {
            vgae_emu_launch(
                cname.as_ptr(),
                grid.as_ptr(),
                block.as_ptr(),
                params.as_mut_ptr(),
                tags.as_ptr(),
                tags.len() as c_int,
                c_int::from(order == Order::Reverse),
                &mut detail,
            )
        }
    };
    match status {
        0 => {}
        1 => return Err(format!("{name}: no such kernel in kernels/*.cu")),
        2 => {
            return Err(format!(
                "{name}: {} arguments given, the kernel takes {detail}",
                args.len()
            ))
        }
        _ => return Err(format!("{name}: argument {detail} has the wrong type")),
    }
    for (i, (a, s)) in args.iter_mut().zip(&staged).enumerate() {
        unstage(a, s).map_err(|e| format!("{name}: {e} argument {i}"))?;
    }
    for (i, (a, s)) in buffers.iter_mut().zip(&held).enumerate() {
        unstage(a, s).map_err(|e| format!("{name}: {e} buffer {i}"))?;
    }
    Ok(())
}

/// A copy of an argument as the kernel sees it, padded with guard values (a table is filled by the caller).
fn stage(a: &Arg) -> Staged {
    match a {
        Arg::Floats(v) => Staged::F32(padded(v, f32::from_bits(GUARD_F32))),
        Arg::FloatsOut(v) => Staged::F32(padded(v, f32::from_bits(GUARD_F32))),
        Arg::DoublesOut(v) => Staged::F64(padded(v, f64::from_bits(GUARD_F64))),
        Arg::Indices(v) => Staged::U32(padded(v, u32::MAX)),
        Arg::U32(x) => Staged::ScalarU32(*x),
        Arg::F32(x) => Staged::ScalarF32(*x),
        Arg::Pointers(..) => Staged::U64(Vec::new()),
    }
}

/// Checks a staged copy's guards (and that an input is unchanged) and copies an output back; the error
/// says what the kernel did.
fn unstage(a: &mut Arg, s: &Staged) -> Result<(), &'static str> {
    const OVERRUN: &str = "wrote past the end of";
    const INPUT: &str = "wrote into input";
    match (a, s) {
        (Arg::Floats(v), Staged::F32(w)) => {
            if !intact(&w[v.len()..], |x| x.to_bits() == GUARD_F32) {
                return Err(OVERRUN);
            }
            if v.iter().zip(w).any(|(x, y)| x.to_bits() != y.to_bits()) {
                return Err(INPUT);
            }
        }
        (Arg::FloatsOut(v), Staged::F32(w)) => {
            if !intact(&w[v.len()..], |x| x.to_bits() == GUARD_F32) {
                return Err(OVERRUN);
            }
            let n = v.len();
            v.copy_from_slice(&w[..n]);
        }
        (Arg::DoublesOut(v), Staged::F64(w)) => {
            if !intact(&w[v.len()..], |x| x.to_bits() == GUARD_F64) {
                return Err(OVERRUN);
            }
            let n = v.len();
            v.copy_from_slice(&w[..n]);
        }
        (Arg::Indices(v), Staged::U32(w))
            if w[..v.len()] != **v || !intact(&w[v.len()..], |x| x == u32::MAX) =>
        {
            return Err(INPUT);
        }
        (Arg::Pointers(at, then), Staged::U64(w))
            if !intact(&w[at.len() + then.len()..], |x| x == u64::MAX) =>
        {
            return Err(OVERRUN);
        }
        _ => {}
    }
    Ok(())
}

fn padded<T: Copy>(v: &[T], guard: T) -> Vec<T> {
    let mut out = Vec::with_capacity(v.len() + GUARD);
    out.extend_from_slice(v);
    out.extend(std::iter::repeat_n(guard, GUARD));
    out
}

/// Whether every guard element after a buffer still holds its value.
fn intact<T: Copy>(tail: &[T], guard: impl Fn(T) -> bool) -> bool {
    tail.iter().all(|&x| guard(x))
}

/// (grid, block) for one thread per element of `n` (cudarc's `LaunchConfig::for_num_elems`: 1024
/// threads per block).
pub fn for_num_elems(n: u32) -> ([u32; 3], [u32; 3]) {
    const THREADS: u32 = 1024;
    ([n.div_ceil(THREADS).max(1), 1, 1], [THREADS, 1, 1])
}
