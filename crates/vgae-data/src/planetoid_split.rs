//! The Planetoid public node split (Yang et al. 2016) as Kipf & Welling's GCN code draws it: the `len(y)`
//! labelled training nodes (140 on Cora, 120 on Citeseer, 60 on Pubmed), the next 500 nodes for validation,
//! and the 1000 nodes of `ind.<name>.test.index` (sorted) for test.
//!
//! Node ids are the loader's ([`crate::planetoid`]): node `i < allx.rows` is row `i` of `allx`, so the training
//! nodes are `0..len(y)` and the validation nodes `len(y)..len(y) + 500`.

use crate::error::{DataError, Result};
use crate::pickle::Pickle;
use crate::planetoid::{embedded_cora, file_name, parse_test_index};
use crate::source::{DataSource, GRAPH_DATASETS};
use std::path::{Path, PathBuf};

/// Validation nodes of the public split: `range(len(y), len(y) + 500)` in the GCN reference code.
pub const PUBLIC_VAL_SIZE: usize = 500;

/// Node ids of the three parts of the public split, each sorted and disjoint from the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicSplit {
    /// The labelled training nodes, `0..len(y)`.
    pub train: Vec<u32>,
    /// The validation nodes, `len(y)..len(y) + 500`.
    pub val: Vec<u32>,
    /// The test nodes: `ind.<name>.test.index`, sorted.
    pub test: Vec<u32>,
}

impl PublicSplit {
    /// The split from the bytes of `ind.<name>.y` (only its row count is used) and `ind.<name>.test.index`;
    /// the paths only name the files in errors. Fails if a test id falls in the training or validation range.
    pub fn from_bytes(y: (&Path, &[u8]), test_index: (&Path, &[u8])) -> Result<PublicSplit> {
        let p = Pickle::parse(y.0, y.1)?;
        let a = p.ndarray(p.root)?;
        let n_train = *a.shape.first().ok_or_else(|| {
            DataError::invalid(
                y.0,
                "label array has no rows dimension, expected [rows, classes]",
            )
        })?;
        let mut test: Vec<u32> = parse_test_index(test_index.0, test_index.1)?
            .into_iter()
            .map(|i| i as u32)
            .collect();
        test.sort_unstable();
        test.dedup();
        let val_end = n_train + PUBLIC_VAL_SIZE;
        if let Some(&t) = test.first().filter(|&&t| (t as usize) < val_end) {
            return Err(DataError::invalid(
                test_index.0,
                format!("test id {t} overlaps the training / validation nodes 0..{val_end}"),
            ));
        }
        Ok(PublicSplit {
            train: (0..n_train as u32).collect(),
            val: (n_train as u32..val_end as u32).collect(),
            test,
        })
    }

    /// The split of `name` from the folder holding its `ind.<name>.*` files.
    pub fn load_dir(name: &str, dir: &Path) -> Result<PublicSplit> {
        let y = dir.join(file_name(name, "y"));
        let ti = dir.join(file_name(name, "test.index"));
        let (yb, tb) = (crate::error::read_file(&y)?, crate::error::read_file(&ti)?);
        Self::from_bytes((&y, &yb), (&ti, &tb))
    }

    /// Cora's split from the embedded files.
    pub fn embedded_cora() -> Result<PublicSplit> {
        let part = |p: &str| {
            let path = PathBuf::from(format!("<embedded>/{}", file_name("cora", p)));
            (path, embedded_cora(p).expect("Cora's files are embedded"))
        };
        let (y, ti) = (part("y"), part("test.index"));
        Self::from_bytes((&y.0, y.1), (&ti.0, ti.1))
    }

    /// The split of `cora`, `citeseer` or `pubmed` from where [`DataSource::load_graph`] reads the graph
    /// (embedded Cora when no directory has it).
    pub fn from_source(source: &DataSource, name: &str) -> Result<PublicSplit> {
        let lower = name.to_ascii_lowercase();
        if !GRAPH_DATASETS.contains(&lower.as_str()) {
            return Err(DataError::Other(format!(
                "dataset '{name}' has no public node split: only {} do",
                GRAPH_DATASETS.join(", ")
            )));
        }
        match source.planetoid_dir(&lower) {
            Some(dir) => Self::load_dir(&lower, &dir),
            None if lower == "cora" => Self::embedded_cora(),
            None => {
                let dirs: Vec<String> = source
                    .dirs()
                    .iter()
                    .map(|d| d.display().to_string())
                    .collect();
                Err(DataError::Other(format!(
                    "dataset '{lower}' not found: looked for ind.{lower}.x in [{}] and the hub cache",
                    dirs.join(", ")
                )))
            }
        }
    }

    /// Checks that every node id is below `num_nodes` (the split belongs to the graph), naming `dataset`.
    pub fn check(&self, dataset: &str, num_nodes: usize) -> Result<()> {
        let max = [&self.train, &self.val, &self.test]
            .iter()
            .filter_map(|v| v.last())
            .max()
            .copied();
        match max {
            Some(m) if m as usize >= num_nodes => Err(DataError::Other(format!(
                "public split of '{dataset}': node id {m} outside the graph's {num_nodes} nodes"
            ))),
            _ => Ok(()),
        }
    }
}
