//! The crate's error type: tensor, data and I/O failures, divergence, and plain messages for bad input.

use std::path::PathBuf;

/// Everything that can go wrong in vgae-core; `Display` gives a one-line message fit for the CLI.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A Candle tensor operation failed (shape mismatch, device error, …).
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// Loading or validating a dataset, split or image set failed.
    #[error(transparent)]
    Data(#[from] vgae_data::DataError),
    /// A file operation failed; the message names the file.
    #[error("{path}: {err}")]
    Io {
        /// The file or directory being read or written.
        path: PathBuf,
        /// The underlying OS error.
        err: std::io::Error,
    },
    /// A loss or metric became NaN / infinite: training stops instead of writing garbage.
    #[error("training diverged at epoch {epoch}: {what} is {value}")]
    NonFinite {
        /// The 1-based epoch at which the value was seen.
        epoch: usize,
        /// What went non-finite, e.g. `"training loss"`.
        what: String,
        /// The offending value (NaN or ±∞).
        value: f64,
    },
    /// Training stopped after an epoch because [`crate::run_loop::request_stop`] was called (SIGINT /
    /// SIGTERM in `vgae`); `resume` says where the state was saved.
    #[error("interrupted after epoch {epoch}: {resume}")]
    Interrupted {
        /// The last epoch completed.
        epoch: usize,
        /// What was saved and how to continue.
        resume: String,
    },
    /// Any other failure, usually invalid input or configuration, as a ready-made message.
    #[error("{0}")]
    Msg(String),
}

/// `std::result::Result` with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An [`Error::Msg`] from anything string-like.
    pub fn msg(m: impl Into<String>) -> Self {
        Error::Msg(m.into())
    }
    /// An [`Error::Io`] naming the `path` the OS error `source` is about.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            err: source,
        }
    }
}
