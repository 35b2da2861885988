use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    #[error(transparent)]
    Data(#[from] vgae_data::DataError),
    #[error("{path}: {err}")]
    Io { path: PathBuf, err: std::io::Error },
    /// A loss or metric became NaN / infinite: training stops instead of writing garbage.
    #[error("training diverged at epoch {epoch}: {what} is {value}")]
    NonFinite {
        epoch: usize,
        what: String,
        value: f64,
    },
    #[error("{0}")]
    Msg(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn msg(m: impl Into<String>) -> Self {
        Error::Msg(m.into())
    }
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            err: source,
        }
    }
}
