//! Where datasets come from: `--data-dir`, then `VGAE_DATA_DIR`, then the hub cache, then (Cora) the
//! embedded copy.

use crate::error::{DataError, Result};
use crate::graph::Graph;
use crate::planetoid;
use std::path::{Path, PathBuf};

/// Environment variable naming the data directory, searched after `--data-dir`.
pub const ENV_DATA_DIR: &str = "VGAE_DATA_DIR";

/// Graph datasets known by name; anything else must be a path to an edge-list file.
pub const GRAPH_DATASETS: [&str; 3] = planetoid::NAMES;

/// Where to look for dataset files; the environment is read at each lookup, not captured here.
#[derive(Debug, Clone, Default)]
pub struct DataSource {
    /// `--data-dir`, if given.
    pub data_dir: Option<PathBuf>,
}

impl DataSource {
    /// A source searching `data_dir` (the `--data-dir` flag) first, when given.
    pub fn new(data_dir: Option<PathBuf>) -> Self {
        DataSource { data_dir }
    }

    /// The directories searched, in order: the flag, then the environment variable.
    pub fn dirs(&self) -> Vec<PathBuf> {
        let env = std::env::var_os(ENV_DATA_DIR).map(PathBuf::from);
        self.data_dir.iter().cloned().chain(env).collect()
    }

    /// Finds a directory holding `ind.<name>.x`, directly or under `planetoid/`.
    pub fn planetoid_dir(&self, name: &str) -> Option<PathBuf> {
        let probe = |d: &Path| {
            [d.join("planetoid"), d.to_path_buf()]
                .into_iter()
                .find(|c| c.join(planetoid::file_name(name, "x")).is_file())
        };
        if let Some(d) = self.dirs().iter().find_map(|d| probe(d)) {
            return Some(d);
        }
        #[cfg(feature = "hub")]
        if let Some(d) = crate::hub::cached_planetoid(name) {
            return Some(d);
        }
        None
    }

    /// Loads a graph by dataset name (`cora`, `citeseer`, `pubmed`) or edge-list path.
    pub fn load_graph(&self, name: &str) -> Result<Graph> {
        let lower = name.to_ascii_lowercase();
        if GRAPH_DATASETS.contains(&lower.as_str()) {
            return match self.planetoid_dir(&lower) {
                Some(dir) => planetoid::load_dir(&lower, &dir),
                None if lower == "cora" => planetoid::load_embedded_cora(),
                None => Err(DataError::Other(format!(
                    "dataset '{lower}' not found: looked for ind.{lower}.x in {} and the hub cache; \
                     pass --data-dir, set {ENV_DATA_DIR}, or run `vgae data pull {lower}`",
                    describe(&self.dirs())
                ))),
            };
        }
        let p = Path::new(name);
        if p.is_file() {
            return crate::edgelist::load(p, &crate::edgelist::EdgeListOptions::default());
        }
        Err(DataError::UnknownDataset {
            name: name.to_string(),
            expected: format!(
                "{} or the path of an edge-list file",
                GRAPH_DATASETS.join(", ")
            ),
        })
    }

    /// Finds a file of an image dataset (e.g. `mnist/train-images-idx3-ubyte.gz`) in the data dirs.
    pub fn find_file(&self, rel: &str) -> Option<PathBuf> {
        self.dirs()
            .into_iter()
            .map(|d| d.join(rel))
            .find(|p| p.is_file())
    }
}

fn describe(dirs: &[PathBuf]) -> String {
    if dirs.is_empty() {
        "no data directory (none given)".to_string()
    } else {
        dirs.iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}
