//! Why a call into the core failed, kept as a kind until it reaches Python.
//!
//! Every fallible function the bindings call returns [`CoreError`] (or an error that
//! converts into it), and `bindings::errors` turns it into a Python exception in one
//! place: an I/O failure keeps its error number and the file it concerns, so Python
//! sees the `OSError` subclass its own file functions would raise
//! (`FileNotFoundError`, `PermissionError`, …); input the caller should not have sent
//! is a `ValueError`.

use std::io;
use std::path::{Path, PathBuf};

use crate::vectors::quantize::QuantizeError;
use crate::vectors::similarity::ScanError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// A file system call on `path` failed; `source` keeps the kind and the errno.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    /// SQLite could not write the database file at `path`.
    #[error("{}: cannot write: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    /// The caller passed a value the function cannot take.
    #[error("{0}")]
    Invalid(String),
}

impl CoreError {
    pub fn io(path: &Path, source: io::Error) -> Self {
        CoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    pub fn sqlite(path: &Path, source: rusqlite::Error) -> Self {
        CoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        }
    }

    /// The I/O error kind, for an I/O failure.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            CoreError::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }
}

impl From<QuantizeError> for CoreError {
    fn from(error: QuantizeError) -> Self {
        CoreError::Invalid(error.to_string())
    }
}

impl From<ScanError> for CoreError {
    fn from(error: ScanError) -> Self {
        CoreError::Invalid(error.to_string())
    }
}
