//! Graph autoencoders (Kipf & Welling 2016): GCN encoder, inner-product decoder, losses and training.

#[cfg(feature = "cuda")]
mod cuda;
pub mod decoder;
pub mod encoder;
pub mod gram;
#[cfg(target_arch = "x86_64")]
mod gram_avx512;
pub mod loss;
pub mod model;
pub mod norm;
pub mod pairdot;
pub mod paper;
pub mod resume;
pub mod run;
pub mod sparse;
pub mod train;

pub use decoder::InnerProductDecoder;
pub use encoder::{Encoded, GcnEncoder, Input};
pub use model::{GraphAutoencoder, LossKind, ModelKind};
pub use train::{EpochRecord, GraphRunResult, GraphTrainConfig, GraphTrainer};
