//! The library's error type. Every parse error names the file and the line (or the HDF5
//! dataset), what was expected and what was found.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A text file could not be parsed; `line` is 1-based (0 = the file as a whole).
    #[error("{path}:{line}: {msg}")]
    Parse {
        path: String,
        line: usize,
        msg: String,
    },
    /// An HDF5 dataset is missing, malformed or inconsistent.
    #[error("{path}: dataset '{dataset}': {msg}")]
    Dataset {
        path: String,
        dataset: String,
        msg: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// Inputs that parse but do not fit together (wrong atom counts, singular cells, ...).
    #[error("{0}")]
    Input(String),
    /// A numerical step failed (an eigensolver that did not converge, ...).
    #[error("{0}")]
    Numerical(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn parse(path: &Path, line: usize, msg: impl Into<String>) -> Self {
        Error::Parse {
            path: path.display().to_string(),
            line,
            msg: msg.into(),
        }
    }
    pub fn dataset(path: &Path, dataset: &str, msg: impl Into<String>) -> Self {
        Error::Dataset {
            path: path.display().to_string(),
            dataset: dataset.to_string(),
            msg: msg.into(),
        }
    }
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }
}
