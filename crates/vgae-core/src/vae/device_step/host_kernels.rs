//! A seam for running the VAE step's passes through host builds of their CUDA kernels: on the CPU,
//! [`with_host_kernels`] makes [`super::passes`] call the given kernels, with the arguments and launch
//! geometry it gives the GPU, in place of their Rust twins (how `crates/vgae-cuda-emulator` tests the
//! kernels' own sources inside the real step).

use super::passes::Launch;
use crate::{Error, Result};
use std::cell::Cell;

/// Threads per block of the row and single-block kernels (`ROW_THREADS` in vae_step.cu).
const ROW_THREADS: u32 = 256;

impl Launch {
    /// (grid, block) dimensions of the launch: for one thread per element cudarc's
    /// `LaunchConfig::for_num_elems` (1024 threads per block), at least one block.
    pub(super) fn geometry(self, name: &str) -> Result<KernelGeometry> {
        let blocks = |n: usize| {
            u32::try_from(n.max(1))
                .map_err(|_| Error::msg(format!("VAE step ({name}): {n} does not fit one launch")))
        };
        Ok(match self {
            Launch::Elems(n) => {
                let n = blocks(n)?;
                KernelGeometry {
                    grid: [n.div_ceil(1024), 1, 1],
                    block: [1024, 1, 1],
                }
            }
            Launch::Rows(r) => KernelGeometry {
                grid: [blocks(r)?, 1, 1],
                block: [ROW_THREADS, 1, 1],
            },
            Launch::OneBlock => KernelGeometry {
                grid: [1, 1, 1],
                block: [ROW_THREADS, 1, 1],
            },
        })
    }
}

/// A kernel launch's grid and block dimensions (x, y, z).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelGeometry {
    /// Blocks.
    pub grid: [u32; 3],
    /// Threads per block.
    pub block: [u32; 3],
}

/// Runs kernel `name` of `kernels/vae_step.cu` on host buffers: `(name, geometry, inputs, outputs, dims)`,
/// in the kernel's argument order (inputs, then outputs, then the u32 `dims`).
pub type HostKernels =
    fn(&str, KernelGeometry, &[&[f32]], &mut [Vec<f32>], &[u32]) -> std::result::Result<(), String>;

thread_local! {
    pub(super) static HOST_KERNELS: Cell<Option<HostKernels>> = const { Cell::new(None) };
}

/// Runs `f` with the CPU step's passes done by `kernels` instead of their Rust twins, on this thread: how
/// `crates/vgae-cuda-emulator` runs the CUDA kernels' own sources, with the arguments and launch
/// geometry this file gives them, inside the real step.
pub fn with_host_kernels<T>(kernels: HostKernels, f: impl FnOnce() -> T) -> T {
    struct Reset(Option<HostKernels>);
    impl Drop for Reset {
        fn drop(&mut self) {
            HOST_KERNELS.with(|k| k.set(self.0));
        }
    }
    let _reset = Reset(HOST_KERNELS.with(|k| k.replace(Some(kernels))));
    f()
}
