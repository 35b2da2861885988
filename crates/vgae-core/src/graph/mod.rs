//! Graph autoencoders (Kipf & Welling 2016) as a kit of parts: an [`Encoder`] (the paper's [`GcnEncoder`], or
//! your own), a [`Decoder`] ([`InnerProduct`]), the models [`GraphAutoencoder`] and
//! [`VariationalGraphAutoencoder`] generic over both, their losses ([`ReconLoss`], [`loss::kl_loss`]), a
//! [`NegativeSampler`], and the [`LinkTrainer`] that fits any [`LinkModel`] with checkpoints and resume.
//! [`GraphTrainer`] is the paper's configuration of all of it, as the `vgae` command runs it. Directed graphs
//! ([`vgae_data::Graph::directed`]) get the out-degree-normalised Â and the asymmetric [`SourceTarget`] and
//! [`Gravity`] decoders.

pub mod adversarial;
pub mod all_pairs_launch;
pub mod all_pairs_sharded;
pub mod all_pairs_softplus;
#[cfg(feature = "cuda")]
pub(crate) mod cuda;
#[cfg(feature = "cuda")]
pub mod cuda_all_pairs;
pub mod decoder;
pub mod decoder_kind;
pub mod directed_decoder;
pub mod discriminator_grad;
pub mod encoder;
pub mod gcn;
pub mod loss;
pub mod memory;
pub mod minibatch;
pub mod model;
pub mod negatives;
pub mod norm;
pub mod pairdot;
pub mod paper;
pub mod resume;
pub mod run;
pub mod softplus_tile;
pub mod softplus_vec;
pub mod sparse;
pub mod tile_row_grad;
pub mod train;
pub mod train_config;
pub mod trainer;

pub use adversarial::{AdversarialRegulariser, Arga, Argva, Discriminator, DiscriminatorConfig};
pub use decoder::{Decoder, InnerProduct, InnerProductDecoder};
pub use decoder_kind::{AnyDecoder, DecoderKind};
pub use directed_decoder::{Gravity, SourceTarget};
pub use encoder::{Encoded, Encoder, GraphInput};
pub use gcn::{GcnConfig, GcnEncoder};
pub use loss::ReconLoss;
pub use model::{GraphAutoencoder, LinkModel, LossKind, ModelKind, VariationalGraphAutoencoder};
pub use negatives::NegativeSampler;
pub use train::{GraphTrainConfig, GraphTrainer, PaperModel};
pub use trainer::{EpochRecord, FitConfig, GraphRunResult, LinkTrainer};
