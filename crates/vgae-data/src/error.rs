//! The crate's error type: every failure names the file (or input) at fault and what was expected.

use std::path::PathBuf;

/// Every way loading or checking data can fail. Each variant names the file (or flag) and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Reading or writing a file failed.
    #[error("{path}: {err}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        err: std::io::Error,
    },
    /// A binary file is malformed at a known byte offset.
    #[error("{path}: at byte {offset}: {msg}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Where the problem starts.
        offset: u64,
        /// What was found and what was expected.
        msg: String,
    },
    /// A text file is malformed on a known line.
    #[error("{path}: line {line}: {msg}")]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was found and what was expected.
        msg: String,
    },
    /// A file (or a set of files) is readable but its content is inconsistent.
    #[error("{path}: {msg}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What was found and what was expected.
        msg: String,
    },
    /// A dataset given as a path (a separator or an extension) that names no file.
    #[error("{path}: file not found (a dataset is cora, citeseer, pubmed or the path of an edge-list file)")]
    FileNotFound {
        /// The path as given.
        path: PathBuf,
    },
    /// A dataset name that no loader knows.
    #[error("unknown dataset '{name}': expected one of {expected}")]
    UnknownDataset {
        /// The name asked for.
        name: String,
        /// The names that would have worked, comma-separated.
        expected: String,
    },
    /// A graph built from user data (edges, features, labels, weights) failed validation.
    #[error("graph: {0}")]
    Graph(String),
    /// Anything else (bad arguments, hub failures), with its full message.
    #[error("{0}")]
    Other(String),
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, DataError>;

impl DataError {
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            err: source,
        }
    }
    /// An inconsistency in `path`'s content.
    pub fn invalid(path: impl Into<PathBuf>, msg: impl Into<String>) -> Self {
        DataError::Invalid {
            path: path.into(),
            msg: msg.into(),
        }
    }
}

/// Reads a whole file, naming it in the error.
pub fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| DataError::io(path, e))
}
