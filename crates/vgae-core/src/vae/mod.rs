//! MLP VAE (Kingma & Welling 2014): model, loss, training and evaluation.
//!
//! - [`config`]: architectures (the lecture's 784-500-250 ReLU MLP, the paper's 500 tanh units), likelihoods
//!   (Bernoulli for MNIST, Gaussian for Frey Face) and training settings.
//! - [`model`]: the encoder / decoder, parameters named like the PyTorch reference (`encoder.fc1.weight`).
//! - [`loss`]: stable BCE-with-logits, closed-form KL, Gaussian NLL, all summed per image in nats.
//! - `manual_grad` (crate-private): the hand-derived forward/backward used for Bernoulli decoders on the CPU (autograd elsewhere).
//! - [`data`]: images on the device, the Frey Face test rule, the data fingerprint.
//! - [`train`]: the seeded epoch loop (all noise from [`crate::rng::RunRng`]).
//! - [`checkpoint`]: exact checkpoints (parameters, optimiser and run state).
//! - [`eval`]: test −ELBO with fixed noise, the IWAE bound, the z = 2 manifold.
//! - [`run`]: a whole run written to a directory, and the z sweep; [`plots`]: its pictures.

pub mod checkpoint;
pub mod config;
pub mod data;
mod device_step;
pub mod eval;
pub mod loss;
pub(crate) mod manual_grad;
pub mod model;
pub mod plots;
pub mod run;
pub mod train;
pub mod wake_sleep;

pub use config::{Algorithm, Arch, Likelihood, OptimizerKind, TrainConfig, VaeConfig};
pub use device_step::{with_host_kernels, HostKernels, KernelGeometry};
pub use model::Vae;
pub use train::{EpochMetrics, Progress, Trainer, VaeData};
