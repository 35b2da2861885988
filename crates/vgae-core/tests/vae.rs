//! VAE: losses against independently computed values, IWAE, determinism, exact resume, and short real
//! trainings on MNIST / Frey Face from `VGAE_DATA_DIR` (these fail, never skip, when it is missing).

use candle_core::{Device, Tensor};
use vgae_core::rng::RunRng;
use vgae_core::vae::run::{self, RunSummary};
use vgae_core::vae::train::{NoProgress, Trainer, VaeData};
use vgae_core::vae::{eval, loss, Arch, Likelihood, TrainConfig, VaeConfig};
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

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

fn row_sums(t: Tensor) -> Vec<f64> {
    t.to_vec1::<f32>()
        .unwrap()
        .into_iter()
        .map(|v| v as f64)
        .collect()
}

// Reference numbers from numpy (float64), independent of this crate:
//   l = [[-50,-2,0,3,80],[1.5,-0.5,10,-10,0.1]]; x = [[0,.25,1,.5,1],[1,0,.3,.7,.5]]
//   (np.logaddexp(0, l) - x*l).sum(1)                          -> [2.8686625431766597, 15.369977720034864]
//   mu = [[.5,-1,2],[0,0,0]]; lv = [[.1,-2,1.5],[0,0,0]]
//   (-0.5*(1+lv-mu**2-np.exp(lv))).sum(1)                      -> [4.1860976358251625, 0.0]
//   (0.5*(np.log(2*np.pi)+glv+(gx-mean)**2/np.exp(glv))).sum(1) with mean=[.2,.9], glv=[-3,.5], gx=[.25,.1]
//                                                              -> [0.8070737986713726]
//   statistics.NormalDist().inv_cdf(q) for q in (.001,.025,.5,.8,.999)
#[test]
fn losses_match_numpy() {
    inline_elementwise();
    let d = Device::Cpu;
    let l = Tensor::new(
        &[[-50f32, -2., 0., 3., 80.], [1.5, -0.5, 10., -10., 0.1]],
        &d,
    )
    .unwrap();
    let x = Tensor::new(&[[0f32, 0.25, 1., 0.5, 1.], [1., 0., 0.3, 0.7, 0.5]], &d).unwrap();
    let bce = row_sums(loss::bce_with_logits_sum(&l, &x).unwrap());
    assert!(
        close(bce[0], 2.8686625431766597, 1e-5) && close(bce[1], 15.369977720034864, 1e-5),
        "{bce:?}"
    );
    // Extreme logits stay finite (a naive log(sigmoid) gives inf here).
    let big = Tensor::new(&[[1e4f32, -1e4]], &d).unwrap();
    let v = row_sums(
        loss::bce_with_logits_sum(&big, &Tensor::new(&[[0f32, 1.]], &d).unwrap()).unwrap(),
    );
    assert!(close(v[0], 2e4, 1e-6), "{v:?}");
    let mu = Tensor::new(&[[0.5f32, -1., 2.], [0., 0., 0.]], &d).unwrap();
    let lv = Tensor::new(&[[0.1f32, -2., 1.5], [0., 0., 0.]], &d).unwrap();
    let kl = row_sums(loss::kl_std_normal(&mu, &lv).unwrap());
    assert!(
        close(kl[0], 4.1860976358251625, 1e-5) && kl[1].abs() < 1e-7,
        "{kl:?}"
    );
    let g = row_sums(
        loss::gaussian_nll_sum(
            &Tensor::new(&[[0.2f32, 0.9]], &d).unwrap(),
            &Tensor::new(&[[-3f32, 0.5]], &d).unwrap(),
            &Tensor::new(&[[0.25f32, 0.1]], &d).unwrap(),
        )
        .unwrap(),
    );
    assert!(close(g[0], 0.8070737986713726, 1e-5), "{g:?}");
    for (q, z) in [
        (0.001, -3.090232306167813),
        (0.025, -1.9599639845400538),
        (0.5, 0.0),
        (0.8, 0.8416212335729144),
        (0.999, 3.090232306167813),
    ] {
        assert!((eval::probit(q) - z).abs() < 1e-8, "probit({q})");
    }
    let lse = loss::logsumexp0(&Tensor::new(&[[1000f32, -5.], [1000., -6.]], &d).unwrap())
        .unwrap()
        .to_vec1::<f32>()
        .unwrap();
    assert!(
        (lse[0] - (1000.0 + 2f32.ln())).abs() < 1e-3
            && (lse[1] - (-5f32 + (1.0 + (-1f32).exp()).ln())).abs() < 1e-5,
        "{lse:?}"
    );
}

#[test]
fn neg_elbo_is_recon_plus_kl_and_params_are_torch_named() {
    inline_elementwise();
    let d = Device::Cpu;
    let cfg = VaeConfig::new(Arch::Lecture, 28, 28, 20, Likelihood::Bernoulli);
    let m = vgae_core::vae::Vae::new(&cfg, &mut RunRng::new(1), &d).unwrap();
    let names: Vec<String> = m.params().iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(names[0], "encoder.fc1.weight");
    assert!(
        names.contains(&"decoder.fc_out.bias".to_string())
            && names.contains(&"encoder.fc_logvar.weight".to_string())
    );
    assert_eq!(m.params()[0].1.dims(), &[784, 500]);
    assert_eq!(m.export().unwrap()[0].1.dims(), &[500, 784]);
    // 784*500+500 + 500*250+250 + 2*(250*20+20) + 20*250+250 + 250*500+500 + 500*784+784
    assert_eq!(m.num_params(), 1_051_324);
    let x = RunRng::new(2).uniform(0.0, 1.0, &[4, 784], &d).unwrap();
    let eps = RunRng::new(3).normal(&[4, 20], &d).unwrap();
    let (ne, nll, kl) = m.neg_elbo(&x, &eps).unwrap();
    let (ne, nll, kl) = (row_sums(ne), row_sums(nll), row_sums(kl));
    for i in 0..4 {
        assert!(close(ne[i], nll[i] + kl[i], 1e-6));
        assert!(kl[i] >= 0.0 && nll[i] > 0.0);
        // An untrained decoder outputs p ≈ 0.5: BCE ≈ 784 ln 2 ≈ 543.4 per image.
        assert!((nll[i] - 543.4).abs() < 40.0, "{}", nll[i]);
    }
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
/// `cargo test --release -p vgae-core --test vae -- --ignored --nocapture step_timing`.
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

#[test]
fn fast_step_matches_autograd_loss_and_every_gradient() {
    inline_elementwise();
    let d = Device::Cpu;
    // Both architectures (ReLU with two hidden layers, tanh with one) on 5 × 6 images, z = 3, 7 rows.
    // And the default MNIST shape (784-500-250-20, batch 100), where sums run over hundreds of terms.
    for (arch, seed, (h, w, z, rows)) in [
        (Arch::Lecture, 5u64, (5, 6, 3, 7)),
        (Arch::Paper, 6, (5, 6, 3, 7)),
        (Arch::Lecture, 7, (28, 28, 20, 100)),
    ] {
        let cfg = VaeConfig::new(arch, h, w, z, Likelihood::Bernoulli);
        let m = vgae_core::vae::Vae::new(&cfg, &mut RunRng::new(seed), &d).unwrap();
        if arch == Arch::Paper {
            // N(0, 0.01²) weights leave every unit near 0: scale them up so tanh′ is exercised.
            for (_, v) in m.params() {
                v.set(&(v.as_tensor() * 40.0).unwrap()).unwrap();
            }
        }
        let mut rng = RunRng::new(seed + 10);
        let x = rng.uniform(0.0, 1.0, &[rows, h * w], &d).unwrap();
        let eps = rng.normal(&[rows, z], &d).unwrap();
        let (ne, _, _) = m.neg_elbo(&x, &eps).unwrap();
        let loss = ne.sum_all().unwrap();
        let want_loss = loss.to_scalar::<f32>().unwrap();
        let grads = loss.backward().unwrap();
        let (xv, ev): (Vec<f32>, Vec<f32>) = (
            x.flatten_all().unwrap().to_vec1().unwrap(),
            eps.flatten_all().unwrap().to_vec1().unwrap(),
        );
        // The step splits columns and rows across the pool's threads: 3 leaves ragged shares (and empty
        // ones on the 5 × 6 images), 1 runs it all on this thread.
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let (got_loss, got) = pool
                .install(|| m.fast_grads(&xv, &ev, rows))
                .unwrap()
                .expect("Bernoulli on the CPU takes the fast path");
            assert!(
                close(got_loss as f64, want_loss as f64, 1e-5),
                "{arch:?}, {threads} threads: loss {got_loss} vs {want_loss}"
            );
            let params = m.params();
            assert_eq!(got.len(), params.len());
            for ((name, v), g) in params.iter().zip(&got) {
                let want: Vec<f32> = grads
                    .get(v.as_tensor())
                    .unwrap()
                    .flatten_all()
                    .unwrap()
                    .to_vec1()
                    .unwrap();
                let g: Vec<f32> = g.flatten_all().unwrap().to_vec1().unwrap();
                let scale = want.iter().fold(0f32, |a, b| a.max(b.abs())) + 1e-6;
                assert!(
                    scale > 1e-4,
                    "{arch:?} {name}: gradient too small to compare"
                );
                for (a, b) in g.iter().zip(&want) {
                    assert!(
                        (a - b).abs() <= 2e-5 * scale,
                        "{arch:?}, {threads} threads, {name}: {a} vs {b} (scale {scale})"
                    );
                }
            }
        }
    }
    // A Gaussian decoder is left to autograd.
    let cfg = VaeConfig::new(Arch::Paper, 5, 6, 3, Likelihood::Gaussian);
    let m = vgae_core::vae::Vae::new(&cfg, &mut RunRng::new(1), &d).unwrap();
    assert!(m.fast_grads(&[0.5; 30], &[0.0; 3], 1).unwrap().is_none());
}
