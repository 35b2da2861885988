//! Datasets, hub download, edge splits and negative sampling for vgae-rs.

#![warn(missing_docs)]

pub mod directed_split;
pub mod edgelist;
pub mod edgelist_format;
pub mod error;
pub mod fault;
pub mod fsio;
pub mod fuzz_targets;
pub mod graph;
mod graph_build;
#[cfg(feature = "hub")]
pub mod hub;
#[cfg(feature = "hub")]
pub mod hub_model;
#[cfg(feature = "hub")]
pub mod hub_push;
pub mod idx;
pub mod images;
pub mod mat;
pub mod pairset;
pub mod pickle;
pub mod planetoid;
pub mod planetoid_split;
pub mod source;
pub mod split;
mod split_file;
pub mod synth;

pub use directed_split::DirectedTask;
pub use error::{DataError, Result};
pub use graph::{CsrMatrix, Graph, GraphInfo};
pub use split::{EdgeSplit, SplitConfig};
