//! Mini-batch training for graphs past one process's full-batch memory: edge batches (positives plus as many
//! uniform negatives), the encoder run only on each batch's receptive field — every neighbour, or a sampled
//! `fanout` per node and layer (GraphSAGE style) — and W₀ of the featureless GAE* updated only in the rows a
//! batch touched. Resident: Â, W₀ with its two Adam moments (12·N·width bytes), the training edges; each
//! batch adds its receptive field.

pub mod checkpoint;
mod config;
mod forward;
mod history;
mod resume;
pub mod run;
mod sampler;
mod table;
mod trainer;

pub use config::MiniBatchConfig;
pub use history::{History, SplitRows};
pub use resume::FORMAT;
pub use sampler::{Block, NeighbourSampler};
pub use table::{AdamSettings, EmbeddingTable};
pub use trainer::{MiniBatchResult, MiniBatchTrainer};
