//! Where datasets come from: `--data-dir`, then `VGAE_DATA_DIR`, then the hub cache, then (Cora) the
//! embedded copy.

use crate::edgelist::EdgeListOptions;
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

    /// Loads a graph by dataset name (`cora`, `citeseer`, `pubmed`) or edge-list path, with default
    /// edge-list options.
    pub fn load_graph(&self, name: &str) -> Result<Graph> {
        self.load_graph_with(name, &EdgeListOptions::default())
    }

    /// Loads a graph by dataset name or edge-list path (read with `opts`). A name that looks like a path
    /// (a separator or an extension) but names no file fails with [`DataError::FileNotFound`]; any other
    /// unknown name with [`DataError::UnknownDataset`], suggesting the nearest known name.
    pub fn load_graph_with(&self, name: &str, opts: &EdgeListOptions) -> Result<Graph> {
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
            return crate::edgelist::load(p, opts);
        }
        if looks_like_path(name) {
            return Err(DataError::FileNotFound {
                path: std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()),
            });
        }
        let hint = did_you_mean(&lower, &GRAPH_DATASETS)
            .map(|m| format!(" (did you mean '{m}'?)"))
            .unwrap_or_default();
        Err(DataError::UnknownDataset {
            name: name.to_string(),
            expected: format!(
                "{} or the path of an edge-list file{hint}",
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

/// A separator or a file extension: the user meant a file, not a dataset name.
pub fn looks_like_path(name: &str) -> bool {
    name.contains('/')
        || name.contains(std::path::MAIN_SEPARATOR)
        || Path::new(name).extension().is_some()
}

/// The candidate within edit distance 2 of `name` (the closest; ties: the first), if any.
pub fn did_you_mean<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(name, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + (ca != *cb) as usize)
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_files_and_misspelled_names_are_told_apart() {
        let src = DataSource::default();
        let e = src.load_graph("no/such/lesmis.csv").unwrap_err();
        assert!(matches!(e, DataError::FileNotFound { .. }), "{e}");
        assert!(e.to_string().contains("file not found"), "{e}");
        let e = src.load_graph("lesmis.csv").unwrap_err().to_string();
        assert!(
            e.contains("lesmis.csv") && e.contains("file not found"),
            "{e}"
        );
        let e = src.load_graph("coraa").unwrap_err().to_string();
        assert!(
            e.contains("unknown dataset 'coraa'") && e.contains("did you mean 'cora'"),
            "{e}"
        );
        assert_eq!(did_you_mean("pubmd", &GRAPH_DATASETS), Some("pubmed"));
        assert_eq!(did_you_mean("karate", &GRAPH_DATASETS), None);
    }
}
