//! Reconstruction and KL losses against independently computed values: the dense loss (binary and soft
//! targets) and its gradient, the sampled soft loss, the stable BCE, the KL term.

mod common;

/// d loss / d z, flattened.
fn grad(loss: &Tensor, z: &candle_core::Var) -> Vec<f32> {
    let g = loss.backward().unwrap();
    g.get(z.as_tensor())
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap()
}
use candle_core::{Device, Tensor};
use common::fixtures::{close, positives, z_var, EDGES, Z};
use vgae_core::graph::loss::{bce_with_logits, dense_recon_loss, kl_loss, DenseWeights, ReconLoss};
use vgae_core::graph::{InnerProduct, LossKind};
use vgae_core::rng::RunRng;

// Reference (numpy 2.4, float64), the TF formula of tkipf/gae over all N² entries:
//   A = adjacency of EDGES; L = A + I; X = Z Zᵀ
//   pw = (N² − ΣA)/ΣA; norm = N² / ((N² − ΣA)·2)
//   ce = (1−L)·X + (1+(pw−1)L)·(log1p(exp(−|X|)) + max(−X, 0)); loss = norm·mean(ce)
//   dZ = (G + Gᵀ) Z with G = norm/N² · ((1−L) − (1+(pw−1)L)·sigmoid(−X))
#[test]
fn dense_loss_matches_reference_formula_and_gradient() {
    let z = z_var();
    let w = DenseWeights::new(5, EDGES.len());
    assert!(close(w.pos_weight, 3.1666666666666665, 1e-12));
    assert!(close(w.norm, 0.6578947368421053, 1e-12));
    let loss = dense_recon_loss(z.as_tensor(), &positives(5), &w, 2).unwrap();
    let v = loss.to_scalar::<f32>().unwrap() as f64;
    assert!(close(v, 1.7362392352275706, 1e-5), "loss {v}");
    let dz = grad(&loss, &z);
    let want = [
        -0.02478069958334242,
        -0.18293823445687438,
        0.35819660979473333,
        0.3185541910094523,
        -0.5499050294609988,
        -0.24581535205134655,
        -0.22671743544175507,
        -0.04010574442924448,
        0.12134595049998342,
        -0.14303356262903796,
        0.21984057778464072,
        -0.13387911594965826,
        0.06390334931308467,
        -0.06258409688208427,
        0.07434814841208044,
    ];
    for (a, b) in dz.iter().zip(want) {
        assert!((*a as f64 - b).abs() < 2e-5, "gradient {a} vs {b}");
    }
}

// Soft targets: the same formula with L_uv = L_vu = t (the edge weight / the largest), diagonal 1:
//   E = [(0,1,1.0), (1,2,0.5), (3,4,0.25)]; A as above; L = I, L[u,v] = L[v,u] = w
//   ce = (1−L)·X + (1+(pw−1)L)·softplus(−X); loss = norm·mean(ce)  →  1.5482586446183833
//   dZ = (G + Gᵀ) Z, G = norm/N² · ((1−L) − (1+(pw−1)L)·sigmoid(−X))
// Sampled, positives E once with t, negatives (0,3), (2,4), (1,4):
//   mean(t·softplus(−x⁺) + (1−t)·softplus(x⁺)) + mean(softplus(x⁻))  →  1.8253891149550863
#[test]
fn soft_target_losses_match_the_reference_formula_and_gradient() {
    let z = z_var();
    let weights = [1.0f32, 0.5, 0.25];
    let dense = ReconLoss::new(LossKind::Dense, 5, &EDGES, 2)
        .unwrap()
        .with_soft_targets(&[4.0, 2.0, 1.0]) // scaled by the largest: the same targets
        .unwrap();
    let mut rng = RunRng::new(0);
    let loss = dense
        .compute(&InnerProduct, z.as_tensor(), &mut rng)
        .unwrap();
    let v = loss.to_scalar::<f32>().unwrap() as f64;
    assert!(close(v, 1.5482586446183833, 1e-5), "loss {v}");
    let dz = grad(&loss, &z);
    let want = [
        -0.02478069958334242,
        -0.18293823445687438,
        0.35819660979473333,
        0.16053801855573438,
        -0.23387268455356303,
        -0.1668072658244876,
        -0.10820530610146663,
        -0.016403318561186788,
        0.06604029014118216,
        0.03477915739424043,
        0.04202785776136235,
        0.16247541742247237,
        0.06983043998052728,
        -0.05072991554719905,
        0.09212942041440828,
    ];
    for (a, b) in dz.iter().zip(want) {
        assert!((*a as f64 - b).abs() < 2e-5, "gradient {a} vs {b}");
    }
    let neg = [[0u32, 3], [2, 4], [1, 4]];
    let sampled = vgae_core::graph::loss::sampled_soft_recon_loss_with(
        &InnerProduct,
        z.as_tensor(),
        &EDGES,
        Some(&weights),
        &neg,
    )
    .unwrap()
    .to_scalar::<f32>()
    .unwrap() as f64;
    assert!(
        close(sampled, 1.8253891149550863, 1e-5),
        "sampled {sampled}"
    );
    // Weights that are not all positive and finite are refused.
    for bad in [[1.0f32, 0.0, 1.0], [1.0, f32::NAN, 1.0]] {
        assert!(ReconLoss::new(LossKind::Sampled, 5, &EDGES, 2)
            .unwrap()
            .with_soft_targets(&bad)
            .is_err());
    }
}

#[test]
fn bce_is_stable_and_weighted() {
    let x = Tensor::new(&[-100f32, -1.0, 0.0, 2.0, 100.0], &Device::Cpu).unwrap();
    for (t, w) in [(0f32, 1.0), (1.0, 1.0), (1.0, 3.5)] {
        let tt = Tensor::new(&[t; 5], &Device::Cpu).unwrap();
        let l: Vec<f32> = bce_with_logits(&x, &tt, w).unwrap().to_vec1().unwrap();
        for (xi, li) in [-100f64, -1.0, 0.0, 2.0, 100.0].iter().zip(&l) {
            // −w·t·log σ(x) − (1−t)·log(1−σ(x)) with log σ(x) = −softplus(−x).
            let sp = |v: f64| v.max(0.0) + (-v.abs()).exp().ln_1p();
            let want = w * t as f64 * sp(-xi) + (1.0 - t as f64) * sp(*xi);
            assert!(
                li.is_finite() && close(*li as f64, want, 1e-5),
                "x {xi} t {t}: {li} vs {want}"
            );
        }
    }
}

// Reference (numpy): mu = Z[:, :2]; logstd as below;
//   kl = (0.5/N) * mean(sum(1 + 2 logstd − mu² − exp(logstd)², 1)); the loss adds −kl = 0.8920264501163742
#[test]
fn kl_matches_reference() {
    let mu = Tensor::new(&Z, &Device::Cpu)
        .unwrap()
        .narrow(1, 0, 2)
        .unwrap();
    let logstd = Tensor::new(
        &[
            [0.1f32, -0.2],
            [0.3, 0.0],
            [-1.0, 0.5],
            [0.2, 0.2],
            [-0.3, 0.1],
        ],
        &Device::Cpu,
    )
    .unwrap();
    let v = kl_loss(&mu, &logstd).unwrap().to_scalar::<f32>().unwrap() as f64;
    assert!(close(v, 0.8920264501163742, 1e-6), "{v}");
}
