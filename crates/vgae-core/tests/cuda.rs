//! The CUDA kernels (`kernels/graph.cu`) and the device dense loss against the CPU ops, forward and backward.
//! Built only with `--features cuda`, and then it needs a GPU:
//! `cargo test --release --features cuda -p vgae-core --test cuda`.
#![cfg(feature = "cuda")]

use candle_core::{Device, Tensor, Var};
use rand::Rng;
use vgae_core::graph::all_pairs_softplus::softplus_gram;
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
