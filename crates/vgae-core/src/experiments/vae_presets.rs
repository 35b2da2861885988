//! Per-dataset VAE defaults. MNIST and Fashion-MNIST: Bernoulli decoder, Adagrad lr 0.01 (the seed's
//! setup), 28 × 28 images. Frey Face: Gaussian decoder and Adam lr 1e-3 (Adagrad's large first steps
//! destabilise the learned variances), 28 × 20 images. Every choice can be overridden.

use crate::vae::{Algorithm, Arch, Likelihood, OptimizerKind, TrainConfig, VaeConfig, VaeData};
use crate::{Error, Result};
use candle_core::Device;
use std::path::PathBuf;
use vgae_data::source::DataSource;

/// A run's choices; `None` fields take the dataset's default. [`Default`] is `vgae vae train`'s defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct VaeOverrides {
    /// Named architecture (lecture: 784-500-250 ReLU; paper: 500 tanh units).
    pub arch: Arch,
    /// Encoder hidden sizes replacing the architecture's (the decoder mirrors them).
    pub hidden: Option<Vec<usize>>,
    /// Decoder likelihood (default: Gaussian for Frey, Bernoulli otherwise).
    pub likelihood: Option<Likelihood>,
    /// Optimiser (default: Adam for Frey, Adagrad otherwise).
    pub optimizer: Option<OptimizerKind>,
    /// Learning rate (default: 0.01 for Adagrad, 1e-3 for Adam).
    pub lr: Option<f64>,
    /// Training epochs.
    pub epochs: usize,
    /// Images per optimisation step.
    pub batch_size: usize,
    /// Seed of the run's RNG.
    pub seed: u64,
    /// Dynamic binarisation of the training pixels.
    pub binarize: bool,
    /// Importance samples of the IWAE bound after training (0 = skip).
    pub iwae_k: usize,
    /// Test images of the IWAE bound.
    pub iwae_n: usize,
    /// Train on the first N training images only (0 = all).
    pub train_limit: usize,
    /// Periodic checkpoint every N epochs (0 = only the final one).
    pub checkpoint_every: usize,
    /// Periodic checkpoints kept.
    pub keep_last: usize,
    /// AEVB or wake-sleep.
    pub algorithm: Algorithm,
    /// λ of the Gaussian prior on the parameters (0: none).
    pub weight_decay: f64,
}

impl Default for VaeOverrides {
    fn default() -> Self {
        VaeOverrides {
            arch: Arch::Lecture,
            hidden: None,
            likelihood: None,
            optimizer: None,
            lr: None,
            epochs: 20,
            batch_size: 100,
            seed: 0,
            binarize: false,
            iwae_k: 1000,
            iwae_n: 1000,
            train_limit: 0,
            checkpoint_every: 0,
            keep_last: 3,
            algorithm: Algorithm::Aevb,
            weight_decay: 0.0,
        }
    }
}

/// Parses `--likelihood`: `bernoulli` or `gaussian`.
pub fn parse_likelihood(s: &str) -> Result<Likelihood> {
    match s {
        "bernoulli" => Ok(Likelihood::Bernoulli),
        "gaussian" => Ok(Likelihood::Gaussian),
        o => Err(Error::msg(format!(
            "--likelihood {o}: expected bernoulli or gaussian"
        ))),
    }
}

/// Image height and width of a dataset (Frey Face 28 × 20, the others 28 × 28), before loading it.
pub fn image_size(dataset: &str) -> (usize, usize) {
    if dataset.eq_ignore_ascii_case("frey") {
        (28, 20)
    } else {
        (28, 28)
    }
}

/// The model and training configuration of a run on `dataset` with latent size `z`.
pub fn preset(dataset: &str, z: usize, o: &VaeOverrides) -> Result<(VaeConfig, TrainConfig)> {
    let dataset = dataset.to_ascii_lowercase();
    let frey = dataset == "frey";
    let likelihood = o.likelihood.unwrap_or(if frey {
        Likelihood::Gaussian
    } else {
        Likelihood::Bernoulli
    });
    let (h, w) = image_size(&dataset);
    let mut v = VaeConfig::new(o.arch, h, w, z, likelihood);
    if let Some(hidden) = &o.hidden {
        if hidden.is_empty() || hidden.contains(&0) {
            return Err(Error::msg("--hidden needs positive sizes"));
        }
        v.hidden = hidden.clone();
    }
    let optimizer = o.optimizer.unwrap_or(if frey {
        OptimizerKind::Adam
    } else {
        OptimizerKind::Adagrad
    });
    let t = TrainConfig {
        dataset,
        epochs: o.epochs,
        batch_size: o.batch_size,
        lr: o.lr.unwrap_or(match optimizer {
            OptimizerKind::Adagrad => 0.01,
            OptimizerKind::Adam => 1e-3,
        }),
        optimizer,
        seed: o.seed,
        binarize: o.binarize,
        iwae_k: o.iwae_k,
        iwae_n: o.iwae_n,
        train_limit: o.train_limit,
        checkpoint_every: o.checkpoint_every,
        keep_last: o.keep_last,
        algorithm: o.algorithm,
        weight_decay: o.weight_decay,
        ..TrainConfig::default()
    };
    if t.batch_size == 0 {
        return Err(Error::msg("--batch-size must be positive"));
    }
    Ok((v, t))
}

/// Loads `t.dataset` onto `device` and sets the model's image size to the data's. Returns the data and
/// where it was read from (a directory, file or `hub:<repo>`).
pub fn load(
    source: &DataSource,
    v: &mut VaeConfig,
    t: &TrainConfig,
    device: &Device,
) -> Result<(VaeData, String)> {
    let ds = vgae_data::images::load(source, &t.dataset)?;
    let data = VaeData::new(&ds, t, device)?;
    v.input_dim = data.height * data.width;
    v.height = data.height;
    v.width = data.width;
    Ok((data, ds.origin))
}

/// A training run's default directory: `runs/vae/<dataset>-z<z>-seed<seed>`.
pub fn default_run_dir(v: &VaeConfig, t: &TrainConfig) -> PathBuf {
    PathBuf::from(format!("runs/vae/{}-z{}-seed{}", t.dataset, v.z, t.seed))
}

/// A sweep's default directory: `runs/vae/<dataset>-sweep`.
pub fn default_sweep_dir(t: &TrainConfig) -> PathBuf {
    PathBuf::from(format!("runs/vae/{}-sweep", t.dataset))
}

/// Checks a sweep's latent sizes: at least one, all positive.
pub fn check_latents(zs: &[usize]) -> Result<()> {
    if zs.is_empty() || zs.contains(&0) {
        return Err(Error::msg("--z needs positive latent sizes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frey_gets_a_gaussian_decoder_and_adam() {
        let (v, t) = preset("Frey", 5, &VaeOverrides::default()).unwrap();
        assert_eq!(v.likelihood, Likelihood::Gaussian);
        assert_eq!((v.height, v.width, v.input_dim, v.z), (28, 20, 560, 5));
        assert_eq!(t.optimizer, OptimizerKind::Adam);
        assert_eq!(t.lr, 1e-3);
        assert_eq!(t.dataset, "frey");
        assert_eq!(
            default_run_dir(&v, &t),
            PathBuf::from("runs/vae/frey-z5-seed0")
        );
    }

    #[test]
    fn mnist_gets_bernoulli_and_adagrad() {
        for ds in ["mnist", "fashion-mnist"] {
            let (v, t) = preset(ds, 20, &VaeOverrides::default()).unwrap();
            assert_eq!(v.likelihood, Likelihood::Bernoulli);
            assert_eq!(v.hidden, vec![500, 250]);
            assert_eq!((v.height, v.width, v.input_dim), (28, 28, 784));
            assert_eq!(t.optimizer, OptimizerKind::Adagrad);
            assert_eq!(t.lr, 0.01);
            assert_eq!(
                (t.epochs, t.batch_size, t.iwae_k, t.keep_last),
                (20, 100, 1000, 3)
            );
        }
        let (_, t) = preset("mnist", 2, &VaeOverrides::default()).unwrap();
        assert_eq!(default_sweep_dir(&t), PathBuf::from("runs/vae/mnist-sweep"));
    }

    #[test]
    fn overrides_win_and_adam_defaults_its_own_lr() {
        let o = VaeOverrides {
            likelihood: Some(Likelihood::Bernoulli),
            optimizer: Some(OptimizerKind::Adagrad),
            hidden: Some(vec![400, 200]),
            seed: 7,
            ..VaeOverrides::default()
        };
        let (v, t) = preset("frey", 5, &o).unwrap();
        assert_eq!(v.likelihood, Likelihood::Bernoulli);
        assert_eq!(v.hidden, vec![400, 200]);
        assert_eq!(
            (t.optimizer, t.lr, t.seed),
            (OptimizerKind::Adagrad, 0.01, 7)
        );
        let adam = VaeOverrides {
            optimizer: Some(OptimizerKind::Adam),
            ..VaeOverrides::default()
        };
        assert_eq!(preset("mnist", 20, &adam).unwrap().1.lr, 1e-3);
        let lr = VaeOverrides {
            lr: Some(0.05),
            ..adam
        };
        assert_eq!(preset("mnist", 20, &lr).unwrap().1.lr, 0.05);
    }

    #[test]
    fn bad_choices_name_their_flag() {
        let e = |o: VaeOverrides| preset("mnist", 20, &o).unwrap_err().to_string();
        let zero = VaeOverrides {
            hidden: Some(vec![500, 0]),
            ..VaeOverrides::default()
        };
        assert!(e(zero).contains("--hidden"));
        let empty = VaeOverrides {
            hidden: Some(vec![]),
            ..VaeOverrides::default()
        };
        assert!(e(empty).contains("--hidden"));
        let batch = VaeOverrides {
            batch_size: 0,
            ..VaeOverrides::default()
        };
        assert!(e(batch).contains("--batch-size"));
        assert_eq!(parse_likelihood("gaussian").unwrap(), Likelihood::Gaussian);
        let l = parse_likelihood("poisson").unwrap_err().to_string();
        assert_eq!(l, "--likelihood poisson: expected bernoulli or gaussian");
        assert!(check_latents(&[2, 20]).is_ok());
        assert!(check_latents(&[2, 0]).is_err());
        assert!(check_latents(&[]).is_err());
    }
}
