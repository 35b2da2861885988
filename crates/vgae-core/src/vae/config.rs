//! Model and training configuration, serialised into `config.json` and the checkpoint metadata.

use serde::{Deserialize, Serialize};

/// The nonlinearity after every hidden layer, encoder and decoder alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `max(0, x)`: the lecture's MLP.
    Relu,
    /// `tanh(x)`: Kingma & Welling's MLP.
    Tanh,
}

/// How the decoder models a pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Likelihood {
    /// Bernoulli with logits; the loss is binary cross-entropy summed over pixels (MNIST).
    Bernoulli,
    /// Diagonal Gaussian with a sigmoid mean and a learned per-pixel log-variance (Frey Face).
    Gaussian,
}

/// Weight initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// `torch.nn.Linear`'s default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    Torch,
    /// Every weight and bias ~ N(0, std²) (the original paper: std = 0.01).
    Normal(f32),
}

/// Named architectures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// The lecture's MLP: encoder D-500-250 (ReLU) → μ, log σ²; decoder z-250-500-D (ReLU); torch init.
    Lecture,
    /// Kingma & Welling 2014: one hidden layer of 500 tanh units each side, weights ~ N(0, 0.01²).
    Paper,
}

impl std::str::FromStr for Arch {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "lecture" => Ok(Arch::Lecture),
            "paper" => Ok(Arch::Paper),
            _ => Err(format!(
                "unknown architecture '{s}': expected lecture or paper"
            )),
        }
    }
}

/// The shape of an MLP VAE: image size, hidden layers, latent size, nonlinearity, likelihood and init.
/// Usually built by [`VaeConfig::new`] from an [`Arch`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VaeConfig {
    /// Pixels per image (784 for MNIST, 560 for Frey).
    pub input_dim: usize,
    /// Image height in pixels, for grids (28 for MNIST and Frey; height × width = input_dim).
    pub height: usize,
    /// Image width in pixels (28 for MNIST, 20 for Frey).
    pub width: usize,
    /// Encoder hidden sizes; the decoder uses them reversed.
    pub hidden: Vec<usize>,
    /// Latent dimension: μ and log σ² are `[batch, z]`.
    pub z: usize,
    /// The hidden layers' nonlinearity.
    pub activation: Activation,
    /// The decoder's pixel model, which fixes the reconstruction loss.
    pub likelihood: Likelihood,
    /// How weights and biases are drawn at construction.
    pub init: Init,
}

impl VaeConfig {
    /// The configuration of `arch` for `height × width` images with a `z`-dimensional latent.
    pub fn new(arch: Arch, height: usize, width: usize, z: usize, likelihood: Likelihood) -> Self {
        let (hidden, activation, init) = match arch {
            Arch::Lecture => (vec![500, 250], Activation::Relu, Init::Torch),
            Arch::Paper => (vec![500], Activation::Tanh, Init::Normal(0.01)),
        };
        VaeConfig {
            input_dim: height * width,
            height,
            width,
            hidden,
            z,
            activation,
            likelihood,
            init,
        }
    }
}

/// Which optimiser trains the VAE; parses from `adagrad` or `adam`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// [`crate::optim::Adagrad`], as in Kingma & Welling 2014.
    Adagrad,
    /// [`crate::optim::Adam`].
    Adam,
}

impl std::str::FromStr for OptimizerKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "adagrad" => Ok(OptimizerKind::Adagrad),
            "adam" => Ok(OptimizerKind::Adam),
            _ => Err(format!("unknown optimizer '{s}': expected adagrad or adam")),
        }
    }
}

/// How a VAE is trained and evaluated; the default is MNIST, Adagrad at 0.01, batches of 100, 20 epochs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Dataset name as vgae-data knows it (`mnist`, `fashion-mnist`, `frey`); recorded in checkpoints.
    pub dataset: String,
    /// Passes over the training set.
    pub epochs: usize,
    /// Images per minibatch (the paper's M = 100); must be positive.
    pub batch_size: usize,
    /// Learning rate of the optimiser.
    pub lr: f64,
    /// Which optimiser to use.
    pub optimizer: OptimizerKind,
    /// Seed of the run's [`crate::rng::RunRng`]: weight init, shuffling, ε noise and binarisation.
    pub seed: u64,
    /// Fresh Bernoulli draw of every training pixel each epoch (test set binarised once, with `eval_seed`).
    pub binarize: bool,
    /// Seed of the fixed evaluation noise (the same every epoch and run, so numbers are comparable).
    pub eval_seed: u64,
    /// Importance samples for the IWAE bound; 0 skips it.
    pub iwae_k: usize,
    /// Test images the IWAE bound is computed on (the first ones).
    pub iwae_n: usize,
    /// Use only the first `train_limit` training images (0 = all), for quick runs and tests.
    pub train_limit: usize,
    /// Write a periodic checkpoint every N epochs into `<run>/checkpoints` (0: only the final one).
    #[serde(default)]
    pub checkpoint_every: usize,
    /// Keep the last K periodic checkpoints.
    #[serde(default = "default_keep_last")]
    pub keep_last: usize,
    /// How the encoder and decoder are fitted: AEVB (the reparameterised ELBO) or wake-sleep.
    #[serde(default, skip_serializing_if = "is_default")]
    pub algorithm: Algorithm,
    /// λ of a Gaussian prior on the parameters: `λ θ` is added to every gradient of the batch-summed
    /// loss. The paper's N(0, I) prior split over the minibatches of an epoch is λ = batch / n_train.
    #[serde(default, skip_serializing_if = "is_default")]
    pub weight_decay: f64,
}

fn is_default<T: Default + PartialEq>(x: &T) -> bool {
    *x == T::default()
}

/// The training algorithm of a VAE's two networks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Algorithm {
    /// Auto-encoding variational Bayes (Kingma & Welling 2014): both networks follow the gradient of the
    /// reparameterised lower bound.
    #[default]
    Aevb,
    /// Wake-sleep (Hinton, Dayan, Frey & Neal 1995): the wake phase fits the decoder to z ~ q(z | x), the
    /// sleep phase fits the encoder to recover z ~ p(z) from x ~ p(x | z) ([`super::wake_sleep`]).
    WakeSleep,
}

impl std::str::FromStr for Algorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "aevb" => Ok(Algorithm::Aevb),
            "wake-sleep" => Ok(Algorithm::WakeSleep),
            _ => Err(format!(
                "unknown algorithm '{s}': expected aevb or wake-sleep"
            )),
        }
    }
}

fn default_keep_last() -> usize {
    3
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            dataset: "mnist".into(),
            epochs: 20,
            batch_size: 100,
            lr: 0.01,
            optimizer: OptimizerKind::Adagrad,
            seed: 0,
            binarize: false,
            eval_seed: 12345,
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
