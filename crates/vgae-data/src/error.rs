use std::path::PathBuf;

/// Every way loading or checking data can fail. Each variant names the file (or flag) and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    #[error("{path}: at byte {offset}: {msg}")]
    Format {
        path: PathBuf,
        offset: u64,
        msg: String,
    },
    #[error("{path}: line {line}: {msg}")]
    Line {
        path: PathBuf,
        line: usize,
        msg: String,
    },
    #[error("{path}: {msg}")]
    Invalid { path: PathBuf, msg: String },
    #[error("unknown dataset '{name}': expected one of {expected}")]
    UnknownDataset { name: String, expected: String },
    /// A graph built from user data (edges, features, labels, weights) failed validation.
    #[error("graph: {0}")]
    Graph(String),
    #[error("{0}")]
    Other(String),
}

pub type Result<T> = std::result::Result<T, DataError>;

impl DataError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            err: source,
        }
    }
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
