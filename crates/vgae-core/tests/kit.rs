//! The kit of parts: a model composed by hand trains exactly like the paper's trainer, a user-defined encoder
//! trains, checkpoints and resumes, and the parts refuse what does not fit.

mod common;

use candle_core::{Device, Tensor};
use candle_nn::{Init, VarBuilder};
use vgae_core::graph::{
    train::make_split, Encoded, Encoder, FitConfig, GcnConfig, GcnEncoder, GraphAutoencoder,
    GraphInput, GraphTrainConfig, GraphTrainer, InnerProduct, LinkTrainer, LossKind, ModelKind,
    NegativeSampler, VariationalGraphAutoencoder,
};
use vgae_core::optim::{Adam, Optimizer};
use vgae_core::params::ParamStore;
use vgae_core::rng::RunRng;
use vgae_data::{planetoid, EdgeSplit, Graph};

fn cora() -> Graph {
    planetoid::load_embedded_cora().expect("embedded Cora loads")
}

fn bits(records: &[vgae_core::graph::EpochRecord]) -> Vec<(u64, u64, u64)> {
    records
        .iter()
        .map(|r| (r.loss.to_bits(), r.val_auc.to_bits(), r.val_ap.to_bits()))
        .collect()
}

fn param_bits(o: &impl Optimizer) -> Vec<Vec<u32>> {
    common::param_bits(o.params())
}

/// VGAE built from the parts by hand is the paper's VGAE: same weights, same per-epoch numbers, bit for bit.
#[test]
fn hand_built_vgae_matches_the_paper_trainer() {
    let g = cora();
    let cfg = GraphTrainConfig {
        model: ModelKind::Vgae,
        epochs: 15,
        seed: 3,
        ..GraphTrainConfig::default()
    };
    let split = make_split(&g, &cfg).unwrap();
    let mut paper = GraphTrainer::new(cfg.clone(), &g, split.clone(), &Device::Cpu).unwrap();
    vgae_core::graph::run::run(&mut paper, None, |_| {}).unwrap();

    let store = ParamStore::new(RunRng::stream(cfg.seed, 1));
    let encoder = GcnEncoder::new(
        store.var_builder(&Device::Cpu).pp("encoder"),
        GcnConfig::paper(&g, true, true),
    )
    .unwrap();
    let names: Vec<String> = store.params().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "encoder.conv1.weight",
            "encoder.conv_mu.weight",
            "encoder.conv_logstd.weight"
        ]
    );
    let model = VariationalGraphAutoencoder::new(encoder, InnerProduct);
    let opt = Adam::new(store.params(), cfg.lr).unwrap();
    let fit = FitConfig {
        epochs: 15,
        ..FitConfig::default()
    };
    let mut kit = LinkTrainer::new(model, opt, store.rng(), &g, split, fit).unwrap();
    kit.fit(None).unwrap();
    assert_eq!(bits(&paper.records), bits(&kit.records));
    assert_eq!(param_bits(&paper.optimizer), param_bits(&kit.optimizer));
}

/// The ParamStore's Glorot draws are the run RNG's, in creation order.
#[test]
fn param_store_draws_from_the_run_rng() {
    let store = ParamStore::new(RunRng::new(9));
    let vb = store.var_builder(&Device::Cpu);
    let r = (6.0f32 / 7.0).sqrt();
    let a = vb
        .get_with_hints(
            (3, 4),
            "a",
            Init::Uniform {
                lo: -r as f64,
                up: r as f64,
            },
        )
        .unwrap();
    let mut rng = RunRng::new(9);
    let want = rng.glorot(3, 4, &Device::Cpu).unwrap();
    let h = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(h(&a), h(&want));
    assert_eq!(
        store.rng(),
        rng,
        "the store's RNG continues after its draws"
    );
    // Asking again for the same name returns the same variable; another shape is an error.
    assert_eq!(h(&vb.get((3, 4), "a").unwrap()), h(&a));
    let e = vb.get((4, 3), "a").unwrap_err().to_string();
    assert!(e.contains("'a'") && e.contains("shape"), "{e}");
}

/// A user's encoder: one linear map of the features after two propagations (SGC), with a bias.
struct Sgc {
    weight: Tensor,
    bias: Tensor,
}

impl Sgc {
    fn new(vb: VarBuilder, in_dim: usize, latent: usize) -> candle_core::Result<Self> {
        let r = (6.0 / (in_dim + latent) as f64).sqrt();
        Ok(Sgc {
            weight: vb.get_with_hints(
                (in_dim, latent),
                "weight",
                Init::Uniform { lo: -r, up: r },
            )?,
            bias: vb.get_with_hints(latent, "bias", Init::Const(0.0))?,
        })
    }
}

impl Encoder for Sgc {
    fn encode(&self, input: &GraphInput, _: Option<&mut RunRng>) -> vgae_core::Result<Encoded> {
        let xw = input.require_features()?.matmul(&self.weight)?;
        let z = input
            .adj
            .matmul(&input.adj.matmul(&xw)?)?
            .broadcast_add(&self.bias)?;
        Ok(Encoded {
            mu: z,
            logstd: None,
        })
    }
}

fn sgc_trainer(
    g: &Graph,
    split: EdgeSplit,
    epochs: usize,
) -> LinkTrainer<GraphAutoencoder<Sgc, InnerProduct>, Adam> {
    let store = ParamStore::new(RunRng::stream(5, 1));
    let enc = Sgc::new(
        store.var_builder(&Device::Cpu).pp("encoder"),
        g.num_features(),
        16,
    )
    .unwrap();
    let fit = FitConfig {
        epochs,
        loss: LossKind::Sampled,
        checkpoint_every: 5,
        label: "SGC".into(),
        ..FitConfig::default()
    };
    let opt = Adam::new(store.params(), 0.01).unwrap();
    LinkTrainer::new(
        GraphAutoencoder::new(enc, InnerProduct),
        opt,
        store.rng(),
        g,
        split,
        fit,
    )
    .unwrap()
}

/// A custom encoder learns, and its run resumes from a checkpoint bit for bit.
#[test]
fn custom_encoder_trains_and_resumes_exactly() {
    let g = cora();
    let split = EdgeSplit::new(&g, &Default::default(), 5, &mut RunRng::stream(5, 0)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut straight = sgc_trainer(&g, split.clone(), 20);
    let r = straight.fit(None).unwrap();
    assert!(
        r.test_auc > 0.80,
        "SGC-GAE on Cora: test AUC {}",
        r.test_auc
    );

    let mut first = sgc_trainer(&g, split.clone(), 10);
    let rd = vgae_core::rundir::RunDir::create(dir.path()).unwrap();
    first.fit(Some(&rd)).unwrap();
    let mut resumed = sgc_trainer(&g, split, 20);
    resumed
        .load_checkpoint(&rd.join(vgae_core::graph::run::FINAL), true)
        .unwrap();
    assert_eq!(resumed.epoch, 10);
    resumed.fit(Some(&rd)).unwrap();
    assert_eq!(bits(&straight.records), bits(&resumed.records));
    assert_eq!(
        param_bits(&straight.optimizer),
        param_bits(&resumed.optimizer)
    );

    // The paper's GCN cannot load the SGC's checkpoint: the error lists what does not fit.
    let cfg = GraphTrainConfig {
        model: ModelKind::Gae,
        ..GraphTrainConfig::default()
    };
    let mut gcn = GraphTrainer::new(cfg, &g, resumed.split.clone(), &Device::Cpu).unwrap();
    let e = gcn
        .inner
        .load_checkpoint(&rd.join(vgae_core::graph::run::FINAL), false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("missing tensor 'encoder.conv1.weight'")
            && e.contains("unexpected tensor 'encoder.weight'"),
        "{e}"
    );
}

/// Parts that do not fit are errors that say why.
#[test]
fn mismatched_parts_are_errors() {
    let g = cora();
    let split = EdgeSplit::new(&g, &Default::default(), 0, &mut RunRng::stream(0, 0)).unwrap();
    let input = GraphInput::new(&g, &split.train_pos).unwrap();

    // A VGAE over an encoder without a log-std head.
    let store = ParamStore::new(RunRng::new(0));
    let enc = GcnEncoder::new(
        store.var_builder(&Device::Cpu),
        GcnConfig::paper(&g, true, false),
    )
    .unwrap();
    let e = VariationalGraphAutoencoder::new(enc, InnerProduct)
        .encode(&input, None)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("log-std"), "{e}");

    // A GCN built for another feature width, and a featureless one for another node count.
    let store = ParamStore::new(RunRng::new(0));
    let cfg = GcnConfig {
        in_dim: 100,
        ..GcnConfig::paper(&g, true, false)
    };
    let enc = GcnEncoder::new(store.var_builder(&Device::Cpu), cfg).unwrap();
    let e = enc.encode(&input, None).err().unwrap().to_string();
    assert!(e.contains("1433 features") && e.contains("100"), "{e}");
    let store = ParamStore::new(RunRng::new(0));
    let cfg = GcnConfig {
        in_dim: 10,
        ..GcnConfig::paper(&g, false, false)
    };
    let enc = GcnEncoder::new(store.var_builder(&Device::Cpu), cfg.clone()).unwrap();
    let e = enc.encode(&input, None).err().unwrap().to_string();
    assert!(e.contains("2708 nodes"), "{e}");
    let store = ParamStore::new(RunRng::new(0));
    let e = GcnEncoder::new(
        store.var_builder(&Device::Cpu),
        GcnConfig {
            hidden: vec![32, 0],
            ..cfg
        },
    )
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("positive"), "{e}");
}

/// The sampler never returns a self-loop or an excluded pair, and refuses a graph with no pair left.
#[test]
fn negative_sampler_excludes_and_refuses_complete_graphs() {
    let n = 6u32;
    let exclude: Vec<[u32; 2]> = (0..n)
        .flat_map(|u| (u + 1..n).map(move |v| [u, v]))
        .filter(|p| p != &[2, 4])
        .collect();
    let s = NegativeSampler::new(n as usize, &exclude).unwrap();
    let drawn = s.sample(50, &mut RunRng::new(1));
    assert!(
        drawn.iter().all(|&p| p == [2, 4] || p == [4, 2]),
        "{drawn:?}"
    );
    assert!(drawn.contains(&[2, 4]) && drawn.contains(&[4, 2]));
    let all: Vec<[u32; 2]> = (0..n)
        .flat_map(|u| (u + 1..n).map(move |v| [u, v]))
        .collect();
    let e = NegativeSampler::new(n as usize, &all)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("no negative pair"), "{e}");
}
