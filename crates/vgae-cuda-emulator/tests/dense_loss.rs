//! The fused dense-loss kernel (`kernels/all_pairs_softplus.cu`), emulated with the launch plan the CUDA build
//! takes (`graph::all_pairs_launch`), against the host kernel: Σ_ij softplus(z_i·z_j) and 2·σ(ZZᵀ)Z, over
//! all rows and over a shard of rows, for both kernel widths (d ≤ 16 and d ≤ 32); and the same bits whatever
//! the order of a block's threads (the kernel's sums have a fixed order).

mod common;

use common::{assert_bits, assert_close};
use rand::{Rng, SeedableRng};
use vgae_core::graph::all_pairs_launch::AllPairsLaunch;
use vgae_core::graph::all_pairs_softplus::softplus_gram_host_on;
use vgae_core::simd::SimdPath;
use vgae_cuda_emulator::{for_num_elems, launch, Arg, Order};

/// The CUDA build's two launches (`graph::cuda_all_pairs::softplus_gram_rows`) for rows `r0..r1`: the
/// fused kernel into per-split parts, then their sum in split order; the block sums added in order.
fn emulated_rows(
    z: &[f32],
    n: usize,
    d: usize,
    r0: usize,
    r1: usize,
    order: Order,
) -> (f64, Vec<f32>) {
    let len = r1 - r0;
    let plan = AllPairsLaunch::new(n, d, len).unwrap();
    let mut values = vec![f64::NAN; plan.row_tiles * plan.splits];
    let mut parts = vec![f32::NAN; plan.splits * len * d];
    let mut args = [
        Arg::Floats(z),
        Arg::DoublesOut(&mut values),
        Arg::FloatsOut(&mut parts),
        Arg::U32(n as u32),
        Arg::U32(d as u32),
        Arg::U32(r0 as u32),
        Arg::U32(r1 as u32),
        Arg::U32(plan.splits as u32),
    ];
    launch(plan.kernel, plan.grid, plan.block, &mut args, order).unwrap();
    assert!(
        values.iter().all(|v| v.is_finite()),
        "every block writes its sum"
    );
    assert!(
        parts.iter().all(|v| v.is_finite()),
        "every split writes its rows"
    );
    let mut grad = vec![f32::NAN; len * d];
    let (grid, block) = for_num_elems((len * d) as u32);
    let mut args = [
        Arg::Floats(&parts),
        Arg::FloatsOut(&mut grad),
        Arg::U32((len * d) as u32),
        Arg::U32(plan.splits as u32),
        Arg::F32(2.0),
    ];
    launch("all_pairs_sum_splits_f32", grid, block, &mut args, order).unwrap();
    (values.iter().sum(), grad)
}

#[test]
fn fused_dense_loss_kernel_matches_the_host_kernel_by_rows() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    // n = 150: two whole tiles and a partial one; d = 5 and 16 run the d16 kernel, 20 and 32 the d32 one.
    for (n, d) in [(150, 5), (150, 16), (150, 20), (131, 32)] {
        let z: Vec<f32> = (0..n * d).map(|_| rng.random_range(-0.8f32..0.8)).collect();
        let (want, want_grad) = softplus_gram_host_on(SimdPath::Scalar, &z, n, d);
        let (total, grad) = emulated_rows(&z, n, d, 0, n, Order::Forward);
        let what = format!("n {n} d {d}");
        assert!(
            (total - want).abs() <= 1e-5 * want.abs(),
            "{what}: {total} against {want}"
        );
        assert_close(&grad, &want_grad, 1e-5, &format!("{what}: gradient"));
        let (total_r, grad_r) = emulated_rows(&z, n, d, 0, n, Order::Reverse);
        assert_eq!(
            total_r.to_bits(),
            total.to_bits(),
            "{what}: reversed threads"
        );
        assert_bits(
            &grad_r,
            &grad,
            &format!("{what}: gradient, reversed threads"),
        );
        // A shard of rows not on a tile boundary (as a rank of the sharded loss takes): its gradient rows.
        let (r0, r1) = (37, 120);
        let (_, part) = emulated_rows(&z, n, d, r0, r1, Order::Forward);
        assert_close(
            &part,
            &want_grad[r0 * d..r1 * d],
            1e-5,
            &format!("{what}: rows {r0}..{r1}"),
        );
    }
}
