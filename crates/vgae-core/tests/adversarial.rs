//! ARGA / ARGVA: the discriminator's losses against a plain f64 computation from its weights, training on Cora,
//! and exact resume with the discriminator and its optimiser in the checkpoint.

mod common;

use candle_core::{Device, Tensor};
use vgae_core::graph::{
    AdversarialRegulariser, Arga, Argva, DiscriminatorConfig, FitConfig, GcnConfig, GcnEncoder,
    GraphAutoencoder, InnerProduct, LinkModel, LinkTrainer, LossKind, VariationalGraphAutoencoder,
};
use vgae_core::optim::{Adam, Optimizer};
use vgae_core::params::ParamStore;
use vgae_core::rng::RunRng;
use vgae_core::rundir::RunDir;
use vgae_data::{planetoid, EdgeSplit, Graph};

/// Candle's element-wise thread pool spins against the other tests on a 2-core machine (the `vgae` binary sets
/// the same): one thread, set once before any Candle op of this test binary.
fn one_candle_thread() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
            std::env::set_var("CANDLE_NUM_THREADS", "1");
        }
    });
}

fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// D(x) for one row with plain loops: lin_k(x) = W_k x + b_k, ReLU between, from the parameters by name.
fn d_of(params: &[(String, Vec<f32>, Vec<usize>)], x: &[f32]) -> f64 {
    let mut h: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let layers = params.len() / 2;
    for k in 1..=layers {
        let get = |s: &str| {
            params
                .iter()
                .find(|(n, _, _)| n == &format!("discriminator.lin{k}.{s}"))
                .unwrap()
        };
        let (_, w, shape) = get("weight");
        let (_, b, _) = get("bias");
        let (out, inp) = (shape[0], shape[1]);
        h = (0..out)
            .map(|o| b[o] as f64 + (0..inp).map(|i| w[o * inp + i] as f64 * h[i]).sum::<f64>())
            .map(|v| if k < layers { v.max(0.0) } else { v })
            .collect();
    }
    h[0]
}

#[test]
fn discriminator_losses_match_a_plain_computation() {
    one_candle_thread();
    let cfg = DiscriminatorConfig {
        hidden: vec![5, 4],
        ..DiscriminatorConfig::pyg(3)
    };
    let reg = AdversarialRegulariser::new(&cfg, RunRng::new(1), &Device::Cpu).unwrap();
    let model = Arga {
        autoencoder: GraphAutoencoder::new(NoEncoder, InnerProduct),
        regulariser: reg,
    };
    let params: Vec<(String, Vec<f32>, Vec<usize>)> = model
        .own_params()
        .into_iter()
        .map(|(n, v)| {
            let t = v.as_tensor();
            (
                n,
                t.flatten_all().unwrap().to_vec1().unwrap(),
                t.dims().to_vec(),
            )
        })
        .collect();
    let names: Vec<&str> = params.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(names.len(), 6, "{names:?}");
    let z = vec![0.3f32, -1.2, 0.5, 2.0, 0.1, -0.4];
    let prior = vec![-0.7f32, 0.2, 1.1, 0.05, -2.0, 0.9];
    let zt = Tensor::from_vec(z.clone(), (2, 3), &Device::Cpu).unwrap();
    let pt = Tensor::from_vec(prior.clone(), (2, 3), &Device::Cpu).unwrap();
    let rows = |v: &[f32]| v.chunks(3).map(|r| d_of(&params, r)).collect::<Vec<_>>();
    let (dz, dp) = (rows(&z), rows(&prior));
    let want_reg = dz.iter().map(|&d| softplus(-d)).sum::<f64>() / 2.0;
    let want_disc = dp.iter().map(|&d| softplus(-d)).sum::<f64>() / 2.0
        + dz.iter().map(|&d| softplus(d)).sum::<f64>() / 2.0;
    let got_reg = model
        .regulariser
        .reg_loss(&zt)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap() as f64;
    let got_disc = model
        .regulariser
        .discriminator_loss(&zt, &pt)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap() as f64;
    assert!((got_reg - want_reg).abs() < 1e-5, "{got_reg} vs {want_reg}");
    assert!(
        (got_disc - want_disc).abs() < 1e-5,
        "{got_disc} vs {want_disc}"
    );

    // Training the discriminator lowers its loss on the same embedding (it learns to tell z from the prior),
    // measured against a large fixed prior sample so that the draw's own noise cannot decide it.
    let mut rng = RunRng::new(2);
    let prior_sample = RunRng::new(7).normal(&[2000, 3], &Device::Cpu).unwrap();
    let before = model
        .regulariser
        .discriminator_loss(&zt, &prior_sample)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    for _ in 0..40 {
        model
            .regulariser
            .train_and_regularise(&zt, &mut rng)
            .unwrap();
    }
    let after = model
        .regulariser
        .discriminator_loss(&zt, &prior_sample)
        .unwrap()
        .to_scalar::<f32>()
        .unwrap();
    assert!(after < before, "discriminator loss {before} -> {after}");
    assert_eq!(model.own_optimizer_state().1, 40 * 5);
}

/// An encoder that is never called (the loss test above needs only the discriminator).
struct NoEncoder;
impl vgae_core::graph::Encoder for NoEncoder {
    fn encode(
        &self,
        _: &vgae_core::graph::GraphInput,
        _: Option<&mut RunRng>,
    ) -> vgae_core::Result<vgae_core::graph::Encoded> {
        Err(vgae_core::Error::msg("not used"))
    }
}

fn trainer(
    g: &Graph,
    split: EdgeSplit,
    epochs: usize,
    variational: bool,
) -> LinkTrainer<Box<dyn LinkModel>, Adam> {
    let store = ParamStore::new(RunRng::stream(3, 1));
    let gcn = GcnConfig::paper(g, true, variational);
    let enc = GcnEncoder::new(store.var_builder(&Device::Cpu).pp("encoder"), gcn).unwrap();
    let reg = AdversarialRegulariser::new(
        &DiscriminatorConfig::pyg(16),
        RunRng::stream(3, 2),
        &Device::Cpu,
    )
    .unwrap();
    let model: Box<dyn LinkModel> = match variational {
        false => Box::new(Arga {
            autoencoder: GraphAutoencoder::new(enc, InnerProduct),
            regulariser: reg,
        }),
        true => Box::new(Argva {
            autoencoder: VariationalGraphAutoencoder::new(enc, InnerProduct),
            regulariser: reg,
        }),
    };
    let fit = FitConfig {
        epochs,
        loss: LossKind::Sampled,
        label: "ARGA".into(),
        ..FitConfig::default()
    };
    let opt = Adam::new(store.params(), 0.005).unwrap();
    LinkTrainer::new(model, opt, store.rng(), g, split, fit).unwrap()
}

fn bits(o: &impl Optimizer, m: &dyn LinkModel) -> Vec<Vec<u32>> {
    let all: vgae_core::optim::Params = o.params().iter().cloned().chain(m.own_params()).collect();
    common::param_bits(&all)
}

/// ARGA and ARGVA learn on Cora (PyG's example settings: encoder Adam 0.005, 5 discriminator steps per epoch).
#[test]
fn arga_and_argva_learn_on_cora() {
    one_candle_thread();
    let g = planetoid::load_embedded_cora().unwrap();
    let split = EdgeSplit::new(&g, &Default::default(), 3, &mut RunRng::stream(3, 0)).unwrap();
    for variational in [false, true] {
        let r = trainer(&g, split.clone(), 150, variational)
            .fit(None)
            .unwrap();
        eprintln!(
            "variational {variational}: test AUC {} AP {}",
            r.test_auc, r.test_ap
        );
        assert!(
            r.test_auc > 0.85 && r.test_ap > 0.85,
            "variational {variational}: test AUC {} AP {}",
            r.test_auc,
            r.test_ap
        );
    }
}

/// A run resumed from a checkpoint continues bit for bit: the discriminator and its optimiser are in it.
#[test]
fn arga_and_argva_resume_exactly() {
    one_candle_thread();
    let g = planetoid::load_embedded_cora().unwrap();
    let split = EdgeSplit::new(&g, &Default::default(), 3, &mut RunRng::stream(3, 0)).unwrap();
    for variational in [false, true] {
        let mut straight = trainer(&g, split.clone(), 12, variational);
        straight.fit(None).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let rd = RunDir::create(dir.path()).unwrap();
        trainer(&g, split.clone(), 6, variational)
            .fit(Some(&rd))
            .unwrap();
        let mut resumed = trainer(&g, split.clone(), 12, variational);
        resumed
            .load_checkpoint(&rd.join(vgae_core::graph::run::FINAL), true)
            .unwrap();
        resumed.fit(None).unwrap();
        let loss = |t: &LinkTrainer<Box<dyn LinkModel>, Adam>| {
            t.records
                .iter()
                .map(|r| r.loss.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            loss(&straight),
            loss(&resumed),
            "variational {variational}: losses differ after resume"
        );
        assert_eq!(
            bits(&straight.optimizer, &*straight.model),
            bits(&resumed.optimizer, &*resumed.model)
        );
        assert_eq!(straight.model.own_optimizer_state().1, 12 * 5);
        assert_eq!(resumed.model.own_optimizer_state().1, 12 * 5);
    }
}

/// The paper trainer builds ARGA / ARGVA and the linear and deeper encoders from its config, names them, and
/// resumes them from their checkpoints exactly.
#[test]
fn configured_models_train_name_and_resume() {
    one_candle_thread();
    use vgae_core::graph::{
        resume, run, train::make_split, GraphTrainConfig, GraphTrainer, ModelKind,
    };
    let g = planetoid::load_embedded_cora().unwrap();
    let base = GraphTrainConfig {
        loss: LossKind::Sampled,
        epochs: 8,
        seed: 4,
        ..GraphTrainConfig::default()
    };
    let cases = [
        (
            GraphTrainConfig {
                model: ModelKind::Gae,
                adversarial: true,
                ..base.clone()
            },
            "ARGA",
        ),
        (
            GraphTrainConfig {
                adversarial: true,
                features: false,
                ..base.clone()
            },
            "ARGVA*",
        ),
        (
            GraphTrainConfig {
                model: ModelKind::Gae,
                hidden_layers: Some(vec![]),
                ..base.clone()
            },
            "LinearGAE",
        ),
        (
            GraphTrainConfig {
                hidden_layers: Some(vec![32, 32]),
                ..base.clone()
            },
            "VGAE-32-32",
        ),
    ];
    for (cfg, label) in cases {
        assert_eq!(cfg.label(), label);
        let split = make_split(&g, &cfg).unwrap();
        let mut straight = GraphTrainer::new(cfg.clone(), &g, split.clone(), &Device::Cpu).unwrap();
        let r = run::run(&mut straight, None, |_| {}).unwrap();
        assert_eq!(r.label, label);
        let dir = tempfile::tempdir().unwrap();
        let half = GraphTrainConfig {
            epochs: 4,
            ..cfg.clone()
        };
        let mut first = GraphTrainer::new(half, &g, split, &Device::Cpu).unwrap();
        run::run(&mut first, Some(dir.path()), |_| {}).unwrap();
        let mut resumed =
            resume::restore(&dir.path().join(run::FINAL), &g, None, &Device::Cpu).unwrap();
        resumed.cfg.epochs = 8;
        run::run(&mut resumed, None, |_| {}).unwrap();
        let loss = |t: &GraphTrainer| {
            t.records
                .iter()
                .map(|r| r.loss.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            loss(&straight),
            loss(&resumed),
            "{label}: losses differ after resume"
        );
    }
}
