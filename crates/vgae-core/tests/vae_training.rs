//! VAE: determinism, exact resume, IWAE and short real trainings on MNIST / Frey Face from `VGAE_DATA_DIR`
//! (these fail, never skip, when it is missing), and the ignored step timing.

use candle_core::Device;
use vgae_core::rng::RunRng;
use vgae_core::vae::run::{self, RunSummary};
use vgae_core::vae::train::{NoProgress, Trainer, VaeData};
use vgae_core::vae::{eval, Arch, Likelihood, TrainConfig, VaeConfig};
use vgae_data::images;
use vgae_data::source::DataSource;

/// Candle's spin-barrier pool for element-wise ops is far slower than inline on a shared 2-core box (see
/// `vae_cmd.rs`); every test calls this before its first Candle op.
fn inline_elementwise() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
            std::env::set_var("CANDLE_NUM_THREADS", "1");
        }
    });
}

fn data_source() -> DataSource {
    let d = std::env::var_os("VGAE_DATA_DIR")
        .unwrap_or_else(|| panic!("VGAE_DATA_DIR is not set: the VAE tests need the shared data directory (e.g. VGAE_DATA_DIR=../shared/data)"));
    assert!(
        std::path::Path::new(&d).join("mnist").is_dir(),
        "VGAE_DATA_DIR={d:?} has no mnist/ folder"
    );
    DataSource::new(Some(d.into()))
}

fn small_mnist(limit: usize) -> (VaeData, TrainConfig) {
    let ds = images::load(&data_source(), "mnist").unwrap();
    let cfg = TrainConfig {
        epochs: 1,
        train_limit: limit,
        iwae_k: 0,
        seed: 7,
        ..TrainConfig::default()
    };
    (VaeData::new(&ds, &cfg, &Device::Cpu).unwrap(), cfg)
}

#[test]
fn mnist_short_training_run_dir_resume_and_iwae() {
    inline_elementwise();
    let (data, cfg) = small_mnist(3000);
    assert_eq!((data.n_train, data.n_test), (3000, 10000));
    let vcfg = VaeConfig::new(Arch::Lecture, 28, 28, 20, Likelihood::Bernoulli);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let cfg2 = TrainConfig {
        epochs: 2,
        ..cfg.clone()
    };
    let s: RunSummary = run::train_run(&vcfg, &cfg2, &data, Some(&out), &mut NoProgress).unwrap();
    eprintln!("2 epochs on 3000 images: {:?}", s.metrics);
    // Learning happened: well below the ~543 nats of an untrained model, and epoch 2 beats epoch 1.
    let (m1, m2) = (&s.metrics[0], &s.metrics[1]);
    assert!(
        m2.test_neg_elbo < m1.test_neg_elbo && m2.train_neg_elbo < m1.train_neg_elbo,
        "{:?}",
        s.metrics
    );
    assert!(
        m2.test_neg_elbo > 150.0 && m2.test_neg_elbo < 230.0,
        "{}",
        m2.test_neg_elbo
    );
    assert!(m2.test_kl > 1.0 && m2.test_kl < 60.0, "KL {}", m2.test_kl);
    for f in [
        "config.json",
        "metrics.jsonl",
        "curves.png",
        "samples.png",
        "reconstructions.png",
        "model.safetensors",
        "result.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    assert_eq!(
        std::fs::read_to_string(out.join("metrics.jsonl"))
            .unwrap()
            .lines()
            .count(),
        2
    );

    // Same seed: bit-identical; and 1 epoch + save + load + 1 epoch equals 2 epochs straight.
    let d = Device::Cpu;
    let mut a = Trainer::new(&vcfg, &cfg, &d).unwrap();
    a.train_epoch(&data, &mut NoProgress).unwrap();
    let ck = tmp.path().join("a.safetensors");
    a.save(&ck).unwrap();
    let mut b = Trainer::load(&ck, &d).unwrap();
    assert_eq!(b.epoch, 1);
    // No optimiser state may keep a link to the training graph (that leaked ~25 MB per step).
    for (n, t) in a.opt.state() {
        assert!(
            !t.track_op(),
            "optimiser state {n} is attached to the autograd graph"
        );
    }
    for (n, t) in b.opt.state() {
        assert!(
            !t.track_op(),
            "restored optimiser state {n} is attached to the autograd graph"
        );
    }
    let la = a.train_epoch(&data, &mut NoProgress).unwrap();
    let lb = b.train_epoch(&data, &mut NoProgress).unwrap();
    assert_eq!(la, lb);
    assert!(
        (la - m2.train_neg_elbo).abs() < 1e-9,
        "resumed {la} vs straight {}",
        m2.train_neg_elbo
    );
    let (ea, _, _) = eval::neg_elbo(&a.model, &data.test, 1000, cfg.eval_seed).unwrap();
    let (eb, _, _) = eval::neg_elbo(&b.model, &data.test, 1000, cfg.eval_seed).unwrap();
    assert_eq!(ea, eb);
    assert!((ea - m2.test_neg_elbo).abs() < 1e-9);

    // The checkpoint holds PyTorch-named parameters and the optimiser state.
    let t = candle_core::safetensors::load(out.join("model.safetensors"), &d).unwrap();
    assert_eq!(t["encoder.fc1.weight"].dims(), &[500, 784]);
    assert_eq!(t["optimizer.encoder.fc1.weight.sum"].dims(), &[500, 784]);

    // IWAE: a tighter bound than the ELBO (k = 200), and k = 1 agrees with the ELBO on average.
    let x = data.test.narrow(0, 0, 200).unwrap();
    let (elbo200, _, _) = eval::neg_elbo(&a.model, &x, 200, 1).unwrap();
    let iw1 = eval::iwae_nll(&a.model, &x, 1, 99, 20_000).unwrap();
    let iw200 = eval::iwae_nll(&a.model, &x, 200, 99, 20_000).unwrap();
    let iw200_chunked = eval::iwae_nll(&a.model, &x, 200, 99, 150).unwrap();
    eprintln!("ELBO {elbo200}  IWAE k=1 {iw1}  k=200 {iw200} (chunked {iw200_chunked})");
    assert!((iw1 - elbo200).abs() < 3.0, "k=1 {iw1} vs ELBO {elbo200}");
    assert!(
        iw200 < elbo200 - 2.0 && iw200 > elbo200 - 40.0,
        "k=200 {iw200} vs ELBO {elbo200}"
    );
    assert!(
        (iw200 - iw200_chunked).abs() < 5.0,
        "chunking changes only the noise: {iw200} vs {iw200_chunked}"
    );

    // Sampling from the checkpoint writes an image.
    let png = tmp.path().join("s.png");
    run::sample_checkpoint(&out.join("model.safetensors"), 16, 3, 4, &png, &d).unwrap();
    assert!(png.is_file());
}

#[test]
fn z2_paper_arch_and_frey_gaussian() {
    inline_elementwise();
    let (data, cfg) = small_mnist(2000);
    let vcfg = VaeConfig::new(Arch::Paper, 28, 28, 2, Likelihood::Bernoulli);
    let tmp = tempfile::tempdir().unwrap();
    let s = run::train_run(
        &vcfg,
        &TrainConfig {
            binarize: true,
            ..cfg.clone()
        },
        &data,
        Some(tmp.path()),
        &mut NoProgress,
    )
    .unwrap();
    assert!(
        s.test_neg_elbo.is_finite() && s.test_neg_elbo < 543.0,
        "{}",
        s.test_neg_elbo
    );
    assert!(
        tmp.path().join("manifold.png").is_file()
            && tmp.path().join("latent_scatter.png").is_file()
    );

    let frey = images::load(&data_source(), "frey").unwrap();
    let fcfg = TrainConfig {
        dataset: "frey".into(),
        epochs: 3,
        batch_size: 100,
        optimizer: vgae_core::vae::OptimizerKind::Adam,
        lr: 1e-3,
        ..cfg
    };
    let fd = VaeData::new(&frey, &fcfg, &Device::Cpu).unwrap();
    assert_eq!((fd.n_train, fd.n_test), (1769, 196));
    let v = VaeConfig::new(Arch::Lecture, 28, 20, 5, Likelihood::Gaussian);
    let s = run::train_run(&v, &fcfg, &fd, None, &mut NoProgress).unwrap();
    eprintln!("frey gaussian: {:?}", s.metrics);
    assert!(
        s.metrics[2].train_neg_elbo < s.metrics[0].train_neg_elbo,
        "{:?}",
        s.metrics
    );
}

fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let f: Vec<&str> = s
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

/// Timing of training steps (not run by default; prints wall and process CPU seconds):
/// `cargo test --release -p vgae-core --test vae_training -- --ignored --nocapture step_timing`.
#[test]
#[ignore]
fn step_timing() {
    inline_elementwise();
    use std::time::Instant;
    let d = Device::Cpu;
    let cfg = VaeConfig::new(Arch::Lecture, 28, 28, 20, Likelihood::Bernoulli);
    let tc = TrainConfig::default();
    let mut t = Trainer::new(&cfg, &tc, &d).unwrap();
    let x = RunRng::new(2).uniform(0.0, 1.0, &[100, 784], &d).unwrap();
    let w = RunRng::new(3).uniform(0.0, 1.0, &[784, 500], &d).unwrap();
    let (w0, c0) = (Instant::now(), cpu_seconds());
    for _ in 0..200 {
        x.matmul(&w).unwrap();
    }
    let s = w0.elapsed().as_secs_f64();
    eprintln!(
        "matmul [100,784]x[784,500]: {:.3} ms, {:.1} GFLOP/s wall, cpu {:.2} s",
        s * 5.0,
        200.0 * 2.0 * 100.0 * 784.0 * 500.0 / s / 1e9,
        cpu_seconds() - c0
    );
    let (w0, c0) = (Instant::now(), cpu_seconds());
    for _ in 0..60 {
        let eps = t.rng.normal(&[100, 20], &d).unwrap();
        let (ne, _, _) = t.model.neg_elbo(&x, &eps).unwrap();
        let g = ne.sum_all().unwrap().backward().unwrap();
        t.opt.step(&g).unwrap();
    }
    eprintln!(
        "60 synthetic steps: wall {:.2} s, cpu {:.2} s",
        w0.elapsed().as_secs_f64(),
        cpu_seconds() - c0
    );
    let (data, _) = small_mnist(6000);
    for k in 0..2 {
        let (w0, c0) = (Instant::now(), cpu_seconds());
        t.train_epoch(&data, &mut NoProgress).unwrap();
        eprintln!(
            "real epoch {k} (60 steps): wall {:.2} s, cpu {:.2} s",
            w0.elapsed().as_secs_f64(),
            cpu_seconds() - c0
        );
    }
}
