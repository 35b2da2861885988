//! The graph kernels (`kernels/graph.cu`), emulated with the launches of `graph/cuda.rs` (one thread per
//! output element, or per pair), against the host: the CSR product against `sparse::csr_matmul` (with an
//! empty row), and the pair logits and their backward against a direct loop (pairs sharing a row, which the
//! backward's atomics add up).

mod common;

use common::assert_close;
use rand::{Rng, SeedableRng};
use vgae_core::graph::sparse::csr_matmul;
use vgae_cuda_emulator::{for_num_elems, launch, Arg, Order};
use vgae_data::CsrMatrix;

#[test]
fn csr_product_kernel_matches_the_host_product() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let (rows, cols, d) = (70, 60, 7);
    let mut indptr = vec![0usize];
    let (mut indices, mut data) = (Vec::new(), Vec::new());
    for r in 0..rows {
        // Row 5 stays empty.
        let k = if r == 5 { 0 } else { rng.random_range(1..6) };
        for _ in 0..k {
            indices.push(rng.random_range(0..cols as u32));
            data.push(rng.random_range(-1f32..1.0));
        }
        indptr.push(indices.len());
    }
    let a = CsrMatrix {
        rows,
        cols,
        indptr,
        indices,
        data,
    };
    let h: Vec<f32> = (0..cols * d)
        .map(|_| rng.random_range(-1f32..1.0))
        .collect();
    let want = csr_matmul(&a, &h, d);
    let indptr: Vec<u32> = a.indptr.iter().map(|&p| p as u32).collect();
    let mut y = vec![f32::NAN; rows * d];
    let (grid, block) = for_num_elems((rows * d) as u32);
    let mut args = [
        Arg::Indices(&indptr),
        Arg::Indices(&a.indices),
        Arg::Floats(&a.data),
        Arg::Floats(&h),
        Arg::FloatsOut(&mut y),
        Arg::U32(rows as u32),
        Arg::U32(d as u32),
    ];
    launch("csr_spmm_f32", grid, block, &mut args, Order::Forward).unwrap();
    assert_close(&y, &want, 1e-6, "A·h");
    assert!(y[5 * d..6 * d].iter().all(|&v| v == 0.0), "the empty row");
}

#[test]
fn pair_logit_kernels_match_a_direct_loop() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
    let (n, d, k) = (40, 9, 1500);
    let z: Vec<f32> = (0..n * d).map(|_| rng.random_range(-1f32..1.0)).collect();
    let pairs: Vec<u32> = (0..2 * k).map(|_| rng.random_range(0..n as u32)).collect();
    let g: Vec<f32> = (0..k).map(|_| rng.random_range(-1f32..1.0)).collect();
    let row = |u: u32| &z[u as usize * d..(u as usize + 1) * d];
    let want: Vec<f32> = pairs
        .chunks(2)
        .map(|p| row(p[0]).iter().zip(row(p[1])).map(|(a, b)| a * b).sum())
        .collect();
    let mut want_dz = vec![0f32; n * d];
    for (p, &gp) in pairs.chunks(2).zip(&g) {
        for c in 0..d {
            want_dz[p[0] as usize * d + c] += gp * z[p[1] as usize * d + c];
            want_dz[p[1] as usize * d + c] += gp * z[p[0] as usize * d + c];
        }
    }
    let mut out = vec![f32::NAN; k];
    let (grid, block) = for_num_elems(k as u32);
    let mut args = [
        Arg::Indices(&pairs),
        Arg::Floats(&z),
        Arg::FloatsOut(&mut out),
        Arg::U32(k as u32),
        Arg::U32(d as u32),
    ];
    launch("pair_dot_f32", grid, block, &mut args, Order::Forward).unwrap();
    assert_close(&out, &want, 1e-6, "pair logits");
    // The backward adds into dz, which the caller zeroes.
    let mut dz = vec![0f32; n * d];
    let (grid, block) = for_num_elems((k * d) as u32);
    let mut args = [
        Arg::Indices(&pairs),
        Arg::Floats(&z),
        Arg::Floats(&g),
        Arg::FloatsOut(&mut dz),
        Arg::U32(k as u32),
        Arg::U32(d as u32),
    ];
    launch("pair_dot_bwd_f32", grid, block, &mut args, Order::Forward).unwrap();
    assert_close(&dz, &want_dz, 1e-5, "pair logits' backward");
}
