//! Losses, sparse propagation, normalisation, metrics and Adam against independently computed values.

use candle_core::{Device, Tensor, Var};
use vgae_core::graph::all_pairs_softplus::{
    softplus_gram, softplus_gram_device, softplus_gram_host, softplus_gram_host_on,
};
use vgae_core::graph::norm::normalized_adjacency;
use vgae_core::graph::sparse::{to_dense, SparseMatrix};
use vgae_core::metrics::{average_precision, roc_auc};
use vgae_core::optim::{Adam, Optimizer};
use vgae_core::rng::RunRng;
use vgae_core::simd::SimdPath;
use vgae_data::CsrMatrix;

mod common;
use common::fixtures::*;

#[test]
fn gram_kernels_agree_on_every_simd_path() {
    // Each path this CPU runs against the scalar build: ragged sizes around the register blocks (4 or 8 rows,
    // 4 to 16 lanes; dG_I in groups of 8, 4, 2 or 1 rows by width) and the 128 tile, and widths that are not
    // whole vectors (100: a row of 7 or 13 vectors, in a chunk of 32). Each path gives the same bits
    // on a second call and with one thread or many.
    let paths = SimdPath::available_paths();
    assert!(paths.contains(&SimdPath::Scalar) && paths.contains(&SimdPath::selected()));
    if std::env::var_os("VGAE_SIMD").is_none() {
        assert_eq!(
            SimdPath::selected(),
            paths[0],
            "the widest path is the default"
        );
    }
    let one_thread = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let mut rng = RunRng::new(11);
    for (n, d) in [
        (1usize, 16usize),
        (5, 16),
        (17, 16),
        (129, 16),
        (301, 16),
        (9, 1),
        (130, 3),
        (40, 17),
        (259, 32),
        (70, 64),
        (33, 100),
    ] {
        let z = (rng.normal(&[n, d], &Device::Cpu).unwrap() * 2.0).unwrap();
        let host: Vec<f32> = z.flatten_all().unwrap().to_vec1().unwrap();
        let (vs, gs) = softplus_gram_host_on(SimdPath::Scalar, &host, n, d);
        for &path in &paths {
            let (v, g) = softplus_gram_host_on(path, &host, n, d);
            assert!(close(v, vs, 1e-6), "{path:?} n={n} d={d}: {v} vs {vs}");
            for (a, b) in g.iter().zip(&gs) {
                assert!(
                    (a - b).abs() < 1e-4 * (1.0 + b.abs()),
                    "{path:?} n={n} d={d}: {a} vs {b}"
                );
            }
            assert_eq!(
                softplus_gram_host_on(path, &host, n, d).1,
                g,
                "{path:?}: repeat"
            );
            let single = one_thread.install(|| softplus_gram_host_on(path, &host, n, d));
            assert_eq!(
                (single.0.to_bits(), single.1),
                (v.to_bits(), g),
                "{path:?}: one thread"
            );
        }
    }
}

#[test]
fn fused_gram_matches_naive_even_for_huge_logits() {
    let mut rng = RunRng::new(7);
    let (n, d) = (300, 16); // three tiles of 128: diagonal, off-diagonal and ragged blocks
                            // Scale 4 gives logits of several hundred: exp(x) would overflow f32.
    let z = (rng.normal(&[n, d], &Device::Cpu).unwrap() * 4.0).unwrap();
    let host: Vec<f32> = z.flatten_all().unwrap().to_vec1().unwrap();
    let (v, g) = softplus_gram_host(&host, n, d);
    let (mut want, mut want_g) = (0f64, vec![0f64; n * d]);
    for i in 0..n {
        for j in 0..n {
            let x: f64 = (0..d)
                .map(|k| host[i * d + k] as f64 * host[j * d + k] as f64)
                .sum();
            want += x.max(0.0) + (-x.abs()).exp().ln_1p();
            let s = 1.0 / (1.0 + (-x).exp());
            for k in 0..d {
                want_g[i * d + k] += 2.0 * s * host[j * d + k] as f64;
            }
        }
    }
    assert!(v.is_finite() && close(v, want, 1e-5), "{v} vs {want}");
    for (a, b) in g.iter().zip(&want_g) {
        assert!((*a as f64 - b).abs() < 1e-3 * (1.0 + b.abs()), "{a} vs {b}");
    }
    // The Candle-ops path (used on GPUs) agrees with the fused host kernel.
    let (vd, gd) = softplus_gram_device(&z, 8).unwrap();
    assert!(close(vd, v, 1e-5));
    let gd: Vec<f32> = gd.flatten_all().unwrap().to_vec1().unwrap();
    for (a, b) in gd.iter().zip(&g) {
        assert!((a - b).abs() < 1e-3 * (1.0 + b.abs()));
    }
    // And the autograd wrapper carries the same gradient.
    let zv = Var::from_tensor(&z).unwrap();
    let s = softplus_gram(zv.as_tensor(), 8).unwrap();
    let ga: Vec<f32> = s
        .backward()
        .unwrap()
        .get(zv.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    assert_eq!(ga, g);
}

#[test]
fn normalized_adjacency_by_hand() {
    // Path 0-1-2: degrees with self-loops 2, 3, 2.
    let a = normalized_adjacency(3, &[[0, 1], [1, 2]]);
    let d = to_dense(&a, &Device::Cpu)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    let s6 = 1.0 / 6f32.sqrt();
    let want = [[0.5, s6, 0.0], [s6, 1.0 / 3.0, s6], [0.0, s6, 0.5]];
    for i in 0..3 {
        for j in 0..3 {
            assert!(
                (d[i][j] - want[i][j]).abs() < 1e-6,
                "({i},{j}) {} vs {}",
                d[i][j],
                want[i][j]
            );
        }
    }
}

#[test]
fn sparse_product_and_its_backward_match_dense() {
    // A non-symmetric 4×3 matrix (like node features), so the backward must use Aᵀ.
    let a = CsrMatrix::from_triplets(
        4,
        3,
        vec![
            (0, 0, 1.0),
            (0, 2, -2.0),
            (1, 1, 0.5),
            (3, 0, 3.0),
            (3, 2, 1.5),
        ],
    );
    let dense = to_dense(&a, &Device::Cpu).unwrap();
    let m = SparseMatrix::new(a);
    let mut rng = RunRng::new(1);
    // Width 5 takes the general row kernel (which accumulates into a zeroed row), 16 and 32 the fixed ones;
    // row 2 is empty and must come out zero whatever the output's memory held.
    for w in [5, 16, 32] {
        let h = Var::from_tensor(&rng.normal(&[3, w], &Device::Cpu).unwrap()).unwrap();
        let up = rng.normal(&[4, w], &Device::Cpu).unwrap();
        let ys = m.matmul(h.as_tensor()).unwrap();
        let yd = dense.matmul(h.as_tensor()).unwrap();
        let diff = max_diff(&ys, &yd);
        assert!(diff < 1e-6, "width {w}: product differs by {diff}");
        let gs = (ys * &up).unwrap().sum_all().unwrap().backward().unwrap();
        let gd = (yd * &up).unwrap().sum_all().unwrap().backward().unwrap();
        let (gs, gd) = (
            gs.get(h.as_tensor()).unwrap(),
            gd.get(h.as_tensor()).unwrap(),
        );
        let diff = max_diff(gs, gd);
        assert!(diff < 1e-5, "width {w}: backward differs by {diff}");
    }
}

// Reference: scikit-learn 1.9.1
//   y = [1]*len(pos) + [0]*len(neg); roc_auc_score(y, pos+neg), average_precision_score(y, pos+neg)
#[test]
fn metrics_match_sklearn_with_ties() {
    let pos = [0.9, 0.8, 0.8, 0.3, 0.3, 0.1];
    let neg = [0.8, 0.3, 0.2, 0.2, 0.05];
    assert!(close(
        roc_auc(&pos, &neg).unwrap(),
        0.7333333333333334,
        1e-12
    ));
    assert!(close(
        average_precision(&pos, &neg).unwrap(),
        0.7547619047619047,
        1e-12
    ));
    // rng = np.random.default_rng(0); pos = round(rng.normal(0.5, 1, 40), 1); neg = round(rng.normal(0, 1, 60), 1)
    let pos = [
        0.6, 0.4, 1.1, 0.6, -0.0, 0.9, 1.8, 1.4, -0.2, -0.8, -0.1, 0.5, -1.8, 0.3, -0.7, -0.2,
        -0.0, 0.2, 0.9, 1.5, 0.4, 1.9, -0.2, 0.9, 1.4, 0.6, -0.2, -0.4, 0.0, 0.7, -0.5, 0.3, 0.3,
        1.0, 0.7, 0.9, -0.2, 0.4, 1.3, 2.0,
    ];
    let neg = [
        -1.3, 1.5, 1.3, 0.8, 0.3, -0.3, 1.5, 2.0, 1.8, 1.3, 0.4, -1.2, -0.0, 0.7, -1.3, 0.4, 0.4,
        0.7, -1.2, -0.7, -0.4, -1.2, 1.7, -0.5, 0.3, -0.3, 1.6, 1.3, 0.6, -2.2, 0.1, 0.7, 1.0,
        -0.6, 1.8, -1.3, -0.7, 0.9, 0.0, 2.0, 0.2, -0.6, -0.4, -1.1, -1.3, 0.6, 0.6, 1.3, -0.8,
        1.7, -0.3, 1.6, -0.4, -0.7, 0.2, 1.0, 0.2, -0.6, -1.3, -1.4,
    ];
    assert!(close(
        roc_auc(&pos, &neg).unwrap(),
        0.5789583333333334,
        1e-12
    ));
    assert!(close(
        average_precision(&pos, &neg).unwrap(),
        0.43447041838358036,
        1e-12
    ));
}

// Reference: torch.optim.Adam semantics (lr 0.1, betas 0.9/0.999, eps 1e-8) on f(p) = Σ p², p0 = [1, −2],
// computed by hand in numpy:
//   m = b1 m + (1−b1) g; v = b2 v + (1−b2) g²; p -= lr · (m/(1−b1^t)) / (sqrt(v/(1−b2^t)) + eps)
//   after 3 steps: p = [0.7000490..., −1.7000232...]
#[test]
fn adam_matches_torch_semantics_and_state_roundtrips() {
    let p = Var::from_tensor(&Tensor::new(&[1f32, -2.0], &Device::Cpu).unwrap()).unwrap();
    let mut opt = Adam::new(vec![("p".into(), p.clone())], 0.1).unwrap();
    let (mut pm, mut m, mut v) = ([1f64, -2.0], [0f64; 2], [0f64; 2]);
    for t in 1..=3 {
        let g = p
            .as_tensor()
            .sqr()
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        opt.step(&g).unwrap();
        for i in 0..2 {
            let gi = 2.0 * pm[i];
            m[i] = 0.9 * m[i] + 0.1 * gi;
            v[i] = 0.999 * v[i] + 0.001 * gi * gi;
            pm[i] -= 0.1 * (m[i] / (1.0 - 0.9f64.powi(t)))
                / ((v[i] / (1.0 - 0.999f64.powi(t))).sqrt() + 1e-8);
        }
    }
    let got: Vec<f32> = p.as_tensor().to_vec1().unwrap();
    for i in 0..2 {
        assert!(
            (got[i] as f64 - pm[i]).abs() < 1e-5,
            "{} vs {}",
            got[i],
            pm[i]
        );
    }
    assert!((pm[0] - 0.7).abs() < 0.01 && (pm[1] + 1.7).abs() < 0.01);
    let state: std::collections::HashMap<_, _> = opt.state().into_iter().collect();
    let mut fresh = Adam::new(vec![("p".into(), p.clone())], 0.1).unwrap();
    fresh.load_state(&state, opt.steps()).unwrap();
    assert_eq!(fresh.steps(), 3);
    assert!(fresh
        .load_state(&std::collections::HashMap::new(), 3)
        .is_err());
}

#[test]
fn fused_pair_logits_match_gather_and_its_gradient() {
    use vgae_core::graph::decoder::{pairs_tensor, InnerProductDecoder};
    use vgae_core::graph::pairdot::pair_logits;
    let mut rng = RunRng::new(5);
    let z = Var::from_tensor(&rng.normal(&[7, 4], &Device::Cpu).unwrap()).unwrap();
    // Repeats, both orders and a diagonal pair.
    let pairs = [[0u32, 1], [1, 0], [2, 2], [6, 3], [0, 1], [5, 4]];
    let w = Tensor::new(&[1f32, -2.0, 0.5, 3.0, 1.5, -1.0], &Device::Cpu).unwrap();
    let fused = pair_logits(z.as_tensor(), &pairs).unwrap();
    let gather = InnerProductDecoder
        .forward(z.as_tensor(), &pairs_tensor(&pairs, &Device::Cpu).unwrap())
        .unwrap();
    let d = max_diff(&fused, &gather);
    assert!(d < 1e-6);
    let gf = (fused * &w).unwrap().sum_all().unwrap().backward().unwrap();
    let gg = (gather * &w)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    let diff = max_diff(
        gf.get(z.as_tensor()).unwrap(),
        gg.get(z.as_tensor()).unwrap(),
    );
    assert!(diff < 1e-5, "gradients differ by {diff}");
    assert!(
        pair_logits(z.as_tensor(), &[[0, 7]]).is_err(),
        "out-of-range pair must be an error"
    );
}
