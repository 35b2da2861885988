//! Directed graphs: the asymmetric decoders' logits, dense loss and gradient against numpy, the
//! out-degree-normalised Â, the directed negative sampler, and training and resume on a directed graph.

mod common;

use candle_core::{Device, Tensor, Var};
use common::numbers;
use rand::SeedableRng;
use vgae_core::graph::loss::{dense_recon_loss_with, DenseWeights};
use vgae_core::graph::norm::out_degree_normalized_adjacency;
use vgae_core::graph::{
    resume, run, train::make_split, Decoder, DecoderKind, GraphTrainConfig, GraphTrainer, Gravity,
    LossKind, ModelKind, NegativeSampler, SourceTarget,
};
use vgae_core::rng::RunRng;
use vgae_data::edgelist::EdgeListOptions;
use vgae_data::synth::{directed_sbm, DirectedSbmConfig};
use vgae_data::{DirectedTask, Graph, SplitConfig};

const Z: [[f32; 4]; 5] = [
    [0.3, -0.2, 0.5, 0.1],
    [-0.4, 0.6, 0.2, -0.3],
    [0.1, 0.1, -0.5, 0.4],
    [0.7, -0.1, 0.0, 0.2],
    [-0.2, -0.6, 0.3, -0.1],
];
const ARCS: [[u32; 2]; 6] = [[0, 1], [1, 2], [3, 1], [2, 0], [4, 3], [1, 0]];

fn z_var() -> Var {
    Var::from_tensor(&Tensor::new(&Z, &Device::Cpu).unwrap()).unwrap()
}

/// The arcs and the diagonal: the dense loss's positives.
fn positives() -> Vec<[u32; 2]> {
    let mut p = ARCS.to_vec();
    p.extend((0..5).map(|i| [i, i]));
    p
}

fn check(decoder: &dyn Decoder, logits: [f64; 3], loss: f64, grad: [[f64; 4]; 5]) {
    let z = z_var();
    let x: Vec<f32> = decoder
        .logits(z.as_tensor(), &[[0, 1], [1, 0], [3, 4]])
        .unwrap()
        .to_vec1()
        .unwrap();
    for (a, b) in x.iter().zip(logits) {
        assert!((*a as f64 - b).abs() < 1e-5, "logit {a} vs {b}");
    }
    let w = DenseWeights::from_nonzeros(5, ARCS.len());
    // Row blocks of 2 leave a last block of 1: the blocked sum must not depend on the block size.
    for block in [2, 1024] {
        let l = dense_recon_loss_with(decoder, z.as_tensor(), &positives(), &w, block).unwrap();
        let v = l.to_scalar::<f32>().unwrap() as f64;
        assert!((v - loss).abs() < 1e-5, "loss {v} vs {loss}");
        let g = l.backward().unwrap();
        let g: Vec<Vec<f32>> = g.get(z.as_tensor()).unwrap().to_vec2().unwrap();
        for (row, want) in g.iter().zip(grad) {
            for (a, b) in row.iter().zip(want) {
                assert!((*a as f64 - b).abs() < 2e-5, "gradient {a} vs {b}");
            }
        }
    }
}

// Reference (numpy 2.4, float64): N = 5, positives ARCS + diagonal, S = 6 arcs,
//   pw = (N² − S)/S, norm = N²/(2(N² − S)), A = positives' indicator
//   source/target: L = Z[:, :2] @ Z[:, 2:].T
//   gravity:       L_ij = Z[j, 3] − log(‖Z[i, :3] − Z[j, :3]‖² + 0.01)
//   loss = norm · mean((1 − A)·L + (1 + (pw − 1)·A)·softplus(−L))
//   gradient by central differences (h = 1e-6) of that loss in Z.
#[test]
fn source_target_matches_numpy() {
    let grad = [
        [-0.028976, 0.013706, 0.010441, -0.031798],
        [-0.011784, -0.001808, -0.021129, -0.023722],
        [0.007334, -0.02339, 0.017355, -0.03451],
        [-0.000872, 0.00735, -0.021007, 0.037824],
        [-0.00975, -0.002783, 0.019255, 0.029279],
    ];
    check(&SourceTarget, [0.12, -0.14, 0.22], 0.87831866, grad);
}

#[test]
fn gravity_matches_numpy() {
    let grad = [
        [0.111906, -0.183964, -0.025805, -0.049428],
        [-0.186446, 0.155418, -0.00225, -0.091768],
        [0.064388, -0.058348, 0.007595, 0.013587],
        [-0.030592, -0.009586, 0.009852, 0.006096],
        [0.040744, 0.09648, 0.010608, 0.049123],
    ];
    check(
        &Gravity::default(),
        [-0.507014, -0.107014, -0.24842],
        0.71892644,
        grad,
    );
}

#[test]
fn decoders_refuse_embeddings_they_cannot_split() {
    let odd = Tensor::zeros((4, 3), candle_core::DType::F32, &Device::Cpu).unwrap();
    let e = SourceTarget
        .logits(&odd, &[[0, 1]])
        .unwrap_err()
        .to_string();
    assert!(e.contains("even"), "{e}");
    let one = Tensor::zeros((4, 1), candle_core::DType::F32, &Device::Cpu).unwrap();
    assert!(Gravity::default().logits(&one, &[[0, 1]]).is_err());
    let e = DecoderKind::SourceTarget
        .check_latent(15)
        .unwrap_err()
        .to_string();
    assert!(e.contains("--latent 15"), "{e}");
    assert!(DecoderKind::Gravity.check_latent(2).is_ok());
}

#[test]
fn out_degree_normalisation_is_row_stochastic_and_asymmetric() {
    // 0 → 1, 0 → 2, 1 → 2: row 0 averages nodes 0, 1, 2; row 2 only itself.
    let a = out_degree_normalized_adjacency(3, &[[0, 1], [0, 2], [1, 2]], None);
    let dense = |r: usize, c: u32| {
        let (cols, vals) = a.row(r);
        cols.iter().position(|&x| x == c).map_or(0.0, |k| vals[k])
    };
    for c in 0..3 {
        assert!((dense(0, c) - 1.0 / 3.0).abs() < 1e-7);
    }
    assert_eq!((dense(1, 1), dense(1, 2), dense(1, 0)), (0.5, 0.5, 0.0));
    assert_eq!((dense(2, 2), dense(2, 0)), (1.0, 0.0));
    // Weights: row 0 = (1, 3, 1) / 5.
    let w = out_degree_normalized_adjacency(3, &[[0, 1], [0, 2]], Some(&[3.0, 1.0]));
    assert_eq!(w.row(0).1, &[0.2, 0.6, 0.2]);
}

#[test]
fn the_directed_sampler_may_draw_reversed_arcs_but_never_an_arc() {
    let arcs: Vec<[u32; 2]> = (0..9).map(|i| [i, i + 1]).collect();
    let s = NegativeSampler::directed(10, &arcs).unwrap();
    let neg = s.sample(4000, &mut RunRng::new(3));
    assert!(neg.iter().all(|p| p[0] != p[1] && !arcs.contains(p)));
    assert!(neg.iter().any(|&[u, v]| arcs.contains(&[v, u])));
    // A complete directed graph leaves nothing to draw.
    let all: Vec<[u32; 2]> = (0..3)
        .flat_map(|u| (0..3).filter(move |&v| v != u).map(move |v| [u, v]))
        .collect();
    assert!(NegativeSampler::directed(3, &all).is_err());
}

fn graph(nodes: usize) -> Graph {
    let cfg = DirectedSbmConfig {
        nodes,
        ..Default::default()
    };
    directed_sbm(&cfg, &mut rand_chacha::ChaCha8Rng::seed_from_u64(7))
}

fn cfg(decoder: DecoderKind, task: DirectedTask, loss: LossKind) -> GraphTrainConfig {
    GraphTrainConfig {
        dataset: "dsbm".into(),
        model: ModelKind::Gae,
        features: false,
        loss,
        epochs: 60,
        // The gravity paper's reference code: Adam 0.1, 64 hidden units, 32 dimensions.
        lr: 0.1,
        hidden: 64,
        latent: 32,
        decoder,
        split: SplitConfig {
            directed: Some(task),
            ..SplitConfig::default()
        },
        ..GraphTrainConfig::default()
    }
}

fn test_auc(g: &Graph, c: GraphTrainConfig) -> f64 {
    let mut t = GraphTrainer::new(c.clone(), g, make_split(g, &c).unwrap(), &Device::Cpu).unwrap();
    run::run(&mut t, None, |_| {}).unwrap().test_auc
}

#[test]
fn asymmetric_decoders_tell_arcs_from_their_reverses() {
    let g = graph(400);
    for loss in [LossKind::Dense, LossKind::Sampled] {
        let ip = test_auc(
            &g,
            cfg(DecoderKind::InnerProduct, DirectedTask::Biased, loss),
        );
        // Each positive's negative is its reverse: the inner product scores both alike.
        assert_eq!(ip, 0.5, "{loss:?}");
        for d in [DecoderKind::Gravity, DecoderKind::SourceTarget] {
            let auc = test_auc(&g, cfg(d, DirectedTask::Biased, loss));
            assert!(auc > 0.6, "{d:?} {loss:?}: biased-negatives AUC {auc}");
        }
    }
}

#[test]
fn a_directed_run_resumes_exactly_from_its_edge_list() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("arcs.csv");
    vgae_data::synth::write_edgelist(&graph(200), &file).unwrap();
    let opts = EdgeListOptions {
        directed: true,
        ..Default::default()
    };
    let g = vgae_data::edgelist::load(&file, &opts).unwrap();
    assert!(g.directed);
    let base = GraphTrainConfig {
        dataset_path: Some(file.clone()),
        edge_list: Some(opts),
        model: ModelKind::Vgae,
        gravity_lambda: 2.0,
        ..cfg(
            DecoderKind::Gravity,
            DirectedTask::Bidirectional,
            LossKind::Sampled,
        )
    };
    let train = |epochs, out: &std::path::Path| {
        let c = GraphTrainConfig {
            epochs,
            ..base.clone()
        };
        let mut t =
            GraphTrainer::new(c.clone(), &g, make_split(&g, &c).unwrap(), &Device::Cpu).unwrap();
        t.run(Some(out), |_| {}).unwrap();
        t
    };
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let straight = train(12, &a);
    drop(train(6, &b));
    let ck = run::find_checkpoint(&b).unwrap();
    let source = vgae_data::source::DataSource::default();
    let mut c = resume::restore_from(&ck, &source, None, &Device::Cpu).unwrap();
    assert_eq!(
        (c.epoch, c.cfg.decoder, c.cfg.gravity_lambda),
        (6, DecoderKind::Gravity, 2.0)
    );
    assert_eq!(c.split.config.directed, Some(DirectedTask::Bidirectional));
    c.cfg.epochs = 12;
    c.run(Some(&b), |_| {}).unwrap();
    assert_eq!(numbers(&straight), numbers(&c));
    // Read undirected, the same file is another graph: the checkpoint refuses it.
    let undirected = vgae_data::edgelist::load(&file, &Default::default()).unwrap();
    let e = resume::restore(&ck, &undirected, None, &Device::Cpu)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("fingerprint") || e.contains("directed"), "{e}");
}
