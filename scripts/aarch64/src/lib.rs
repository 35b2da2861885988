//! The kernel sources of vgae-core, compiled alone so that they cross-compile in seconds.

#[allow(unused_macros, unused_imports)] // the multiversion! macro serves other kernels
#[path = "../../../crates/vgae-core/src/simd.rs"]
pub mod simd;

#[path = "../../../crates/vgae-core/src/graph/softplus_tile.rs"]
pub mod softplus_tile;

#[path = "../../../crates/vgae-core/src/graph/softplus_vec.rs"]
pub mod softplus_vec;

#[path = "../../../crates/vgae-core/src/graph/tile_row_grad.rs"]
pub mod tile_row_grad;

#[cfg(test)]
mod tests {
    use crate::softplus_tile::{add_column_grad, padded, tile_pair, Tile};
    use crate::simd::SimdPath;
    use rand::{Rng, SeedableRng};

    /// Σ softplus(ZZᵀ) and its gradient through every tile pair (each off-diagonal pair once).
    fn gram(path: SimdPath, z: &[f32], n: usize, d: usize) -> (f64, Vec<f32>) {
        let dp = padded(d);
        let mut zp = vec![0f32; n * dp];
        let mut zt = vec![0f32; n * d];
        for i in 0..n {
            zp[i * dp..i * dp + d].copy_from_slice(&z[i * d..(i + 1) * d]);
            for k in 0..d {
                zt[k * n + i] = z[i * d + k];
            }
        }
        let (tile, mut grad, mut scratch, mut total) = (128, vec![0f32; n * dp], Vec::new(), 0.0);
        for a in (0..n).step_by(tile) {
            for b in (a..n).step_by(tile) {
                let t = Tile { z: &zp, zc: &zp, zt: &zt, n, d, dp, i0: a, rows: tile.min(n - a), j0: b, cols: tile.min(n - b) };
                let v = tile_pair(path, &t, a == b, &mut scratch, &mut grad);
                if a != b {
                    add_column_grad(&t, &scratch, &mut grad);
                }
                total += if a == b { v } else { 2.0 * v };
            }
        }
        (total, (0..n).flat_map(|i| grad[i * dp..i * dp + d].to_vec()).collect())
    }

    #[test]
    fn every_path_matches_scalar() {
        let paths = SimdPath::available_paths();
        eprintln!("paths on this CPU: {paths:?}");
        #[cfg(target_arch = "aarch64")]
        assert!(paths.contains(&SimdPath::Neon), "NEON must be available on aarch64");
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for (n, d) in [(1, 16), (9, 3), (130, 16), (259, 17), (301, 32)] {
            let z: Vec<f32> = (0..n * d).map(|_| rng.random_range(-3.0..3.0)).collect();
            let (vs, gs) = gram(SimdPath::Scalar, &z, n, d);
            for &p in &paths {
                let (v, g) = gram(p, &z, n, d);
                assert!((v - vs).abs() <= 1e-6 * vs.abs(), "{p:?} n={n} d={d}: {v} vs {vs}");
                for (a, b) in g.iter().zip(&gs) {
                    assert!((a - b).abs() < 1e-4 * (1.0 + b.abs()), "{p:?} n={n} d={d}: {a} vs {b}");
                }
            }
        }
    }
}
