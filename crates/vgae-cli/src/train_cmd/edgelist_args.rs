//! The flags that say how to read a user's edge list, shared by `data info`, `train` and the commands that
//! reload a run's dataset.

use clap::Args;
use std::path::PathBuf;
use vgae_data::edgelist::{Delimiter, EdgeListFormat, EdgeListOptions, HeaderMode};

/// How to read an edge-list file (ignored for cora, citeseer and pubmed).
#[derive(Args, Clone, Debug, Default)]
pub struct EdgeListArgs {
    /// Edge lists: is the first row a header? yes, no or auto (auto: the first row is a header iff one of
    /// its fields is not a number in a column that is a number on every later row, or both its ids are
    /// non-numeric and neither appears on a later row).
    #[arg(long, default_value = "auto", value_name = "yes|no|auto")]
    pub header: HeaderMode,
    /// Edge lists: the field delimiter, comma, tab or whitespace (default: a comma if the first row has
    /// one, else a tab if it has one, else whitespace).
    #[arg(long, value_name = "comma|tab|whitespace")]
    pub delimiter: Option<Delimiter>,
    /// Node-feature file for an edge-list graph: `id,f1,f2,...` per row, with the edge list's ids.
    #[arg(long, value_name = "FILE")]
    pub node_features: Option<PathBuf>,
    /// Edge lists: each row `source,target` is the arc source → target (a directed graph: the encoder
    /// propagates along arcs, splits hold out arcs; pair with --decoder gravity or source-target).
    #[arg(long)]
    pub directed: bool,
}

impl EdgeListArgs {
    /// The reader options, the feature file's path made absolute (it is recorded in the run's config).
    pub fn options(&self) -> EdgeListOptions {
        EdgeListOptions {
            features: self
                .node_features
                .as_ref()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone())),
            header: self.header,
            delimiter: self.delimiter,
            directed: self.directed,
        }
    }

    /// True when any flag differs from its default.
    pub fn given(&self) -> bool {
        self.header != HeaderMode::Auto
            || self.delimiter.is_some()
            || self.node_features.is_some()
            || self.directed
    }
}

/// Prints the reader's decisions as `data info` aligns its lines.
pub fn print_format(f: &EdgeListFormat) {
    for (k, v) in f.lines() {
        println!("{k:<18} {v}");
    }
}
