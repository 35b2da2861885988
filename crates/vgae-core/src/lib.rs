//! Candle models, losses, metrics, optimisers and training loops for VAEs on images and GAE / VGAE on graphs.
#![warn(missing_docs)]

pub mod baselines;
pub mod checkpoint;
pub mod collective;
pub mod device;
pub mod error;
pub mod experiments;
pub mod export;
pub mod fuzz_targets;
pub mod graph;
pub(crate) mod host_mat;
pub(crate) mod lockstep;
pub mod metrics;
pub mod model_card;
pub mod optim;
pub mod params;
pub mod plot;
pub mod rng;
pub mod run_loop;
pub mod run_state;
pub mod rundir;
pub mod simd;
pub mod tasks;
pub mod vae;

pub use error::{Error, Result};
