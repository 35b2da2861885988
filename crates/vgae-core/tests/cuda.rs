//! The CUDA kernels (`kernels/*.cu`) against the CPU ops: the graph ops and the dense loss, forward and
//! backward, here; the VAE step and the optimiser updates in `cuda/vae_step.rs`.
//! Built only with `--features cuda`, and then it needs a GPU:
//! `cargo test --release --features cuda -p vgae-core --test cuda`.
#![cfg(feature = "cuda")]

#[path = "cuda/vae_step.rs"]
mod vae_step;

use candle_core::{Device, Tensor, Var};
use rand::Rng;
use vgae_core::graph::all_pairs_softplus::{softplus_gram, softplus_gram_host};
use vgae_core::graph::cuda_all_pairs::{column_splits, softplus_gram_rows};
use vgae_core::graph::norm::normalized_adjacency;
use vgae_core::graph::pairdot::pair_logits;
use vgae_core::graph::sparse::SparseMatrix;
use vgae_core::rng::RunRng;
use vgae_data::CsrMatrix;

fn gpu() -> Device {
    Device::new_cuda(0).expect("this test needs a CUDA GPU (it is built only with --features cuda)")
}

/// max |a − b| / (1 + max |b|), on the host.
fn rel_diff(a: &Tensor, b: &Tensor) -> f32 {
    let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
    let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
    assert_eq!(a.len(), b.len());
    let scale = b.iter().fold(0f32, |m, x| m.max(x.abs()));
    let d = a
        .iter()
        .zip(&b)
        .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    d / (1.0 + scale)
}

/// `f(h)` and `d Σ(f(h) ⊙ w) / dh` on `dev`, from host values.
fn value_and_grad(
    h: &Tensor,
    w: &Tensor,
    dev: &Device,
    f: impl Fn(&Tensor) -> Tensor,
) -> (Tensor, Tensor) {
    let h = Var::from_tensor(&h.to_device(dev).unwrap()).unwrap();
    let y = f(h.as_tensor());
    let g = (&y * w.to_device(dev).unwrap())
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let g = g
        .get(h.as_tensor())
        .unwrap()
        .to_device(&Device::Cpu)
        .unwrap();
    (y.to_device(&Device::Cpu).unwrap(), g)
}

#[test]
fn sparse_product_on_cuda_matches_cpu() {
    let gpu = gpu();
    let mut rng = RunRng::new(3);
    // Node features (non-symmetric, so the backward uses the stored transpose) and a normalised adjacency.
    let mut t = Vec::new();
    for r in 0..300u32 {
        for c in 0..200u32 {
            if rng.0.random::<f32>() < 0.05 {
                t.push((r, c, rng.0.random::<f32>()));
            }
        }
    }
    let edges: Vec<[u32; 2]> = (0..2000)
        .map(|_| [rng.0.random_range(0..300), rng.0.random_range(0..300)])
        .filter(|[u, v]| u != v)
        .collect();
    for (a, d) in [
        (CsrMatrix::from_triplets(300, 200, t), 32),
        (normalized_adjacency(300, &edges), 16),
    ] {
        let (rows, cols) = (a.rows, a.cols);
        let m = SparseMatrix::new(a);
        let h = rng.normal(&[cols, d], &Device::Cpu).unwrap();
        let w = rng.normal(&[rows, d], &Device::Cpu).unwrap();
        let (yc, gc) = value_and_grad(&h, &w, &Device::Cpu, |h| m.matmul(h).unwrap());
        let (yg, gg) = value_and_grad(&h, &w, &gpu, |h| m.matmul(h).unwrap());
        assert!(rel_diff(&yg, &yc) < 1e-5, "forward {}", rel_diff(&yg, &yc));
        assert!(rel_diff(&gg, &gc) < 1e-5, "backward {}", rel_diff(&gg, &gc));
    }
}

#[test]
fn pair_logits_on_cuda_match_cpu() {
    let gpu = gpu();
    let mut rng = RunRng::new(4);
    let n = 500u32;
    // Repeats and diagonal pairs included: the backward adds into shared rows from many threads.
    let mut pairs: Vec<[u32; 2]> = (0..20_000)
        .map(|_| [rng.0.random_range(0..n), rng.0.random_range(0..n)])
        .collect();
    pairs.extend([[0, 0], [7, 7], [1, 2], [1, 2]]);
    let z = rng.normal(&[n as usize, 16], &Device::Cpu).unwrap();
    let w = rng.normal(&[pairs.len()], &Device::Cpu).unwrap();
    let (yc, gc) = value_and_grad(&z, &w, &Device::Cpu, |z| pair_logits(z, &pairs).unwrap());
    let (yg, gg) = value_and_grad(&z, &w, &gpu, |z| pair_logits(z, &pairs).unwrap());
    assert!(rel_diff(&yg, &yc) < 1e-5, "forward {}", rel_diff(&yg, &yc));
    assert!(rel_diff(&gg, &gc) < 1e-5, "backward {}", rel_diff(&gg, &gc));
    let zg = z.to_device(&gpu).unwrap();
    assert!(
        pair_logits(&zg, &[[0, n]]).is_err(),
        "an out-of-range pair must be an error on the GPU too"
    );
}

#[test]
fn dense_loss_on_cuda_matches_cpu() {
    let gpu = gpu();
    let mut rng = RunRng::new(5);
    let z = (rng.normal(&[1500, 16], &Device::Cpu).unwrap() * 0.5).unwrap();
    let one = Tensor::new(1f32, &Device::Cpu).unwrap();
    let (vc, gc) = value_and_grad(&z, &one, &Device::Cpu, |z| softplus_gram(z, 256).unwrap());
    let (vg, gg) = value_and_grad(&z, &one, &gpu, |z| softplus_gram(z, 256).unwrap());
    assert!(rel_diff(&vg, &vc) < 1e-5, "value {vg} vs {vc}");
    assert!(rel_diff(&gg, &gc) < 1e-4, "gradient {}", rel_diff(&gg, &gc));
}

#[test]
fn fused_dense_loss_matches_cpu_by_rows_and_repeats_bit_for_bit() {
    // The fused kernel (64-row tiles, column tiles split across blocks) against the CPU tile kernel: ragged
    // sizes around the tile, widths 3 to 32, and a row range in two parts (as one rank's share).
    let gpu = gpu();
    let mut rng = RunRng::new(6);
    for (n, d) in [
        (1usize, 16usize),
        (63, 16),
        (65, 3),
        (700, 16),
        (1300, 32),
        (200, 17),
        (5000, 16),
    ] {
        let z = (rng.normal(&[n, d], &Device::Cpu).unwrap() * 0.7).unwrap();
        let host: Vec<f32> = z.flatten_all().unwrap().to_vec1().unwrap();
        let (vc, gc) = softplus_gram_host(&host, n, d);
        let gc = Tensor::from_vec(gc, (n, d), &Device::Cpu).unwrap();
        let zg = z.to_device(&gpu).unwrap();
        let (v, g) = softplus_gram_rows(&zg, 0..n).unwrap();
        let g = g.to_device(&Device::Cpu).unwrap();
        assert!(
            ((v - vc) / vc).abs() < 1e-5,
            "n={n} d={d}: value {v} vs {vc}"
        );
        assert!(
            rel_diff(&g, &gc) < 1e-4,
            "n={n} d={d}: gradient {}",
            rel_diff(&g, &gc)
        );
        let (v2, g2) = softplus_gram_rows(&zg, 0..n).unwrap();
        let g2 = g2.to_device(&Device::Cpu).unwrap();
        assert_eq!(v.to_bits(), v2.to_bits(), "n={n}: the value repeats");
        assert_eq!(
            g.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            g2.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            "n={n}: the gradient repeats"
        );
        let mid = n / 3;
        let (va, ga) = softplus_gram_rows(&zg, 0..mid).unwrap();
        let (vb, gb) = softplus_gram_rows(&zg, mid..n).unwrap();
        assert!(
            ((va + vb - vc) / vc).abs() < 1e-5,
            "n={n}: the two row ranges' values"
        );
        let parts = Tensor::cat(&[ga, gb], 0)
            .unwrap()
            .to_device(&Device::Cpu)
            .unwrap();
        assert!(
            rel_diff(&parts, &gc) < 1e-4,
            "n={n}: the two row ranges' gradients"
        );
        assert!(column_splits(n, n) >= 1);
    }
    let wide = Tensor::zeros((10, 33), candle_core::DType::F32, &gpu).unwrap();
    assert!(
        softplus_gram_rows(&wide, 0..10).is_err(),
        "d = 33 is refused"
    );
    let z = Tensor::zeros((10, 16), candle_core::DType::F32, &gpu).unwrap();
    assert!(
        softplus_gram_rows(&z, 5..11).is_err(),
        "rows past n are refused"
    );
}
