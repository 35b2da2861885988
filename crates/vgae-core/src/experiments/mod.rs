//! Experiments as library calls that return results: the paper's Table 1, the benchmarks and the VAE presets.
//! Each `vgae` command that runs one is argument parsing, one call here and printing.
//!
//! - [`table1`](mod@table1): Kipf & Welling (2016) Table 1 over seeds, mean ± std beside the paper, markdown and JSON.
//! - [`mod@bench`]: epoch time and peak memory on Planetoid graphs and synthetic SBM graphs.
//! - [`directed_tasks`]: the gravity paper's three directed link-prediction tasks for every decoder.
//! - [`vae_presets`]: per-dataset VAE defaults (Frey Face: Gaussian decoder, Adam 1e-3).
//! - [`tasks_table`]: node clustering, node classification and link ranking for GAE / VGAE over seeds
//!   ([`node_tasks`]: the protocols; [`arga_paper`]: the ARGA paper's clustering numbers).
//! - [`grid`]: experiment grids from a TOML file, run by [`grid_run`] (resumable, one run directory per cell,
//!   [`grid_cell`]; in parallel processes: [`grid_jobs`]) and summarised by [`grid_tables`] and [`grid_chart`].

#![warn(missing_docs)]

pub mod arga_paper;
pub mod bench;
pub mod directed_tasks;
pub mod figure2;
pub mod grid;
pub mod grid_cell;
pub mod grid_chart;
pub mod grid_jobs;
pub mod grid_run;
pub mod grid_tables;
pub mod node_tasks;
pub mod table1;
pub mod tasks_markdown;
pub mod tasks_summary;
pub mod tasks_table;
pub mod vae_presets;

pub use table1::{table1, Table1Config, Table1Result};
