//! How the fused dense-loss CUDA kernel (`kernels/all_pairs_softplus.cu`) is launched, without CUDA types:
//! the CUDA build ([`super`]`::cuda_all_pairs`) and the kernel's emulated tests on the CPU
//! (`crates/vgae-cuda-emulator`) take the same plan.

/// Rows (and columns) per tile and threads per block, as in the kernel.
pub const TILE: usize = 64;
/// Threads per block, as in the kernel.
pub const THREADS: u32 = 256;
/// Column-tile splits are chosen so that a launch has about this many blocks (a function of the sizes only,
/// never of the GPU, so the bits do not depend on the device).
const TARGET_BLOCKS: usize = 2048;
const MAX_SPLITS: usize = 32;

/// Widths the fused kernel takes; wider embeddings use the row-block path.
pub fn fused_width(d: usize) -> bool {
    (1..=32).contains(&d)
}

/// How many shares of the column tiles each row tile's work is cut into, for `rows` rows of an `n`-row Z.
pub fn column_splits(rows: usize, n: usize) -> usize {
    let (row_tiles, tiles) = (rows.div_ceil(TILE).max(1), n.div_ceil(TILE).max(1));
    TARGET_BLOCKS
        .div_ceil(row_tiles)
        .clamp(1, MAX_SPLITS.min(tiles))
}

/// One launch of the fused kernel for `rows` (non-empty) rows of an `[n, d]` Z (`d` a [`fused_width`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllPairsLaunch {
    /// `all_pairs_softplus_d16_f32` or `_d32_f32`.
    pub kernel: &'static str,
    /// Tiles of `TILE` rows: the grid's x.
    pub row_tiles: usize,
    /// Shares of the column tiles: the grid's y.
    pub splits: usize,
    /// Blocks (x, y, z).
    pub grid: [u32; 3],
    /// Threads per block.
    pub block: [u32; 3],
}

impl AllPairsLaunch {
    /// The plan, or an error naming the size that does not fit a launch's u32 arguments.
    pub fn new(n: usize, d: usize, rows: usize) -> Result<Self, String> {
        let (row_tiles, splits) = (rows.div_ceil(TILE), column_splits(rows, n));
        let fits =
            |x: usize| u32::try_from(x).map_err(|_| format!("fused dense loss: {x} exceeds u32"));
        // The kernel's u32 arguments, checked here once.
        fits(n)?;
        fits(splits * rows * d)?;
        Ok(AllPairsLaunch {
            kernel: if d <= 16 {
                "all_pairs_softplus_d16_f32"
            } else {
                "all_pairs_softplus_d32_f32"
            },
            row_tiles,
            splits,
            grid: [fits(row_tiles)?, fits(splits)?, 1],
            block: [THREADS, 1, 1],
        })
    }
}
