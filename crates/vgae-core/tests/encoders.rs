//! The GCN family and the propagation matrix: the linear model and deeper encoders, and weighted Â.

use candle_core::Device;
use vgae_core::graph::{Encoder, GcnConfig, GcnEncoder, GraphInput};
use vgae_core::params::ParamStore;
use vgae_core::rng::RunRng;
use vgae_data::{planetoid, EdgeSplit, Graph};

fn cora() -> Graph {
    planetoid::load_embedded_cora().expect("embedded Cora loads")
}

/// The linear model (no hidden layer) is Z = Â X W exactly, computed here with plain loops; deeper encoders
/// name their layers conv1 … convL, then the head.
#[test]
fn linear_and_deeper_gcn_encoders() {
    // Path 0 – 1 – 2 with dense features; Â = D^-1/2 (A + I) D^-1/2, degrees with self-loops 2, 3, 2.
    let x = vec![1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0];
    let g = Graph::from_edges(3, &[[0, 1], [1, 2]])
        .unwrap()
        .with_dense_features(x.clone(), 2)
        .unwrap();
    let input = GraphInput::new(&g, &g.edges).unwrap();
    let store = ParamStore::new(RunRng::new(4));
    let cfg = GcnConfig {
        latent: 3,
        ..GcnConfig::linear(&g, true, false)
    };
    let enc = GcnEncoder::new(store.var_builder(&Device::Cpu).pp("encoder"), cfg).unwrap();
    let names: Vec<String> = store.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["encoder.conv1.weight"]);
    let w = enc.conv_mu.to_vec2::<f32>().unwrap(); // [2, 3]
    let deg = [2.0f64, 3.0, 2.0];
    let adj = |i: usize, j: usize| {
        let linked = i == j || i.abs_diff(j) == 1;
        if linked {
            1.0 / (deg[i] * deg[j]).sqrt()
        } else {
            0.0
        }
    };
    let z = enc
        .encode(&input, None)
        .unwrap()
        .mu
        .to_vec2::<f32>()
        .unwrap();
    for (i, zi) in z.iter().enumerate() {
        for (c, &got) in zi.iter().enumerate() {
            let want: f64 = (0..3)
                .map(|j| {
                    adj(i, j)
                        * (0..2)
                            .map(|k| x[j * 2 + k] as f64 * w[k][c] as f64)
                            .sum::<f64>()
                })
                .sum();
            assert!(
                (got as f64 - want).abs() < 1e-6,
                "z[{i}][{c}] = {got} vs {want}"
            );
        }
    }

    // Two hidden layers, GAE and VGAE heads.
    let cora = cora();
    for (variational, want) in [
        (
            false,
            vec![
                "encoder.conv1.weight",
                "encoder.conv2.weight",
                "encoder.conv3.weight",
            ],
        ),
        (
            true,
            vec![
                "encoder.conv1.weight",
                "encoder.conv2.weight",
                "encoder.conv_mu.weight",
                "encoder.conv_logstd.weight",
            ],
        ),
    ] {
        let store = ParamStore::new(RunRng::new(0));
        let cfg = GcnConfig {
            hidden: vec![32, 24],
            ..GcnConfig::paper(&cora, true, variational)
        };
        let enc = GcnEncoder::new(store.var_builder(&Device::Cpu).pp("encoder"), cfg).unwrap();
        let shapes: Vec<(String, Vec<usize>)> = store
            .params()
            .into_iter()
            .map(|(n, v)| (n, v.dims().to_vec()))
            .collect();
        assert_eq!(
            shapes.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            want
        );
        assert_eq!(shapes[1].1, [32, 24]);
        assert_eq!(shapes[2].1, [24, 16]);
        let split =
            EdgeSplit::new(&cora, &Default::default(), 0, &mut RunRng::stream(0, 0)).unwrap();
        let z = enc
            .encode(&GraphInput::new(&cora, &split.train_pos).unwrap(), None)
            .unwrap();
        assert_eq!(z.mu.dims(), &[2708, 16]);
        assert_eq!(z.logstd.is_some(), variational);
    }
}

/// Weighted Â: w_uv / sqrt(d_u d_v) with weighted degrees d_u = 1 + Σ_v w_uv, checked entry by entry; a heavier
/// edge pulls a node's propagated features towards that neighbour (the documented direction).
#[test]
fn edge_weights_enter_the_propagation_through_weighted_degrees() {
    // Star 0 – 1 (weight 4), 0 – 2 (weight 1); one-hot features, so Z = Â X W with W = I reads Â off.
    let g = Graph::from_edges(3, &[[0, 1], [0, 2]])
        .unwrap()
        .with_edge_weights(vec![4.0, 1.0])
        .unwrap()
        .with_dense_features(vec![1., 0., 0., 0., 1., 0., 0., 0., 1.], 3)
        .unwrap();
    let input = GraphInput::weighted(&g, &g.edges).unwrap();
    let a = vgae_core::graph::sparse::to_dense(&input.adj.a, &Device::Cpu)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    let d = [6.0f64, 5.0, 2.0];
    let w = |u: usize, v: usize| -> f64 {
        match (u.min(v), u.max(v)) {
            (x, y) if x == y => 1.0,
            (0, 1) => 4.0,
            (0, 2) => 1.0,
            _ => 0.0,
        }
    };
    for u in 0..3 {
        for v in 0..3 {
            let want = w(u, v) / (d[u] * d[v]).sqrt();
            assert!(
                (a[u][v] as f64 - want).abs() < 1e-6,
                "Â[{u}][{v}] = {} vs {want}",
                a[u][v]
            );
        }
    }
    // Unweighted, node 0 sees its two neighbours equally; weighted, the heavy neighbour dominates.
    let plain = GraphInput::new(&g, &g.edges).unwrap();
    let p = vgae_core::graph::sparse::to_dense(&plain.adj.a, &Device::Cpu)
        .unwrap()
        .to_vec2::<f32>()
        .unwrap();
    assert!((p[0][1] - p[0][2]).abs() < 1e-7);
    assert!(a[0][1] > 2.0 * a[0][2]);
    // A graph without weights cannot be trained weighted.
    let bare = Graph::from_edges(3, &[[0, 1], [0, 2]]).unwrap();
    let e = GraphInput::weighted(&bare, &bare.edges)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no edge weights"), "{e}");
}

/// `bias: true` adds `….bias` parameters (zeros) after the weights, so the weights are the same draws as
/// without it, and each convolution's output is shifted by its bias.
#[test]
fn gcn_biases_shift_each_convolution_and_leave_the_weights_alone() {
    let cora = vgae_data::planetoid::load_embedded_cora().unwrap();
    let input = GraphInput::new(&cora, &cora.edges).unwrap();
    let build = |bias: bool| {
        let store = ParamStore::new(RunRng::new(9));
        let cfg = GcnConfig {
            bias,
            ..GcnConfig::linear(&cora, true, true)
        };
        let enc = GcnEncoder::new(store.var_builder(&Device::Cpu).pp("encoder"), cfg).unwrap();
        (store, enc)
    };
    let (plain_store, plain) = build(false);
    let (store, enc) = build(true);
    let names: Vec<String> = store.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "encoder.conv_mu.weight",
            "encoder.conv_logstd.weight",
            "encoder.conv_mu.bias",
            "encoder.conv_logstd.bias"
        ]
    );
    let bits = |t: &candle_core::Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(bits(&plain.conv_mu), bits(&enc.conv_mu));
    assert_eq!(plain_store.params().len(), 2);
    // A bias of 0.5 on the mean head moves every μ by exactly 0.5 (Â X W is unchanged).
    let (_, mu_bias) = &store.params()[2];
    mu_bias
        .set(&candle_core::Tensor::full(0.5f32, 16, &Device::Cpu).unwrap())
        .unwrap();
    let with = bits(&enc.encode(&input, None).unwrap().mu);
    let without = bits(&plain.encode(&input, None).unwrap().mu);
    for (a, b) in with.iter().zip(&without) {
        assert!((a - b - 0.5).abs() < 1e-6, "{a} vs {b} + 0.5");
    }
}
