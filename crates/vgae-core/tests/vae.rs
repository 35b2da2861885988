//! VAE: losses against independently computed values, parameter names and counts, and the fast CPU step
//! against autograd. The determinism, exact-resume and short real trainings on MNIST / Frey Face are in
//! `vae_training.rs`.

use candle_core::{Device, Tensor};
use vgae_core::rng::RunRng;
use vgae_core::vae::{eval, loss, Arch, Likelihood, VaeConfig};

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
