//! The one conversion of the core's errors into Python exceptions.
//!
//! | Rust                                   | Python                                      |
//! |----------------------------------------|---------------------------------------------|
//! | `CoreError::Io` with an errno          | `OSError(errno, strerror, filename)`: the   |
//! |   (or a kind that has one)             | subclass Python picks for the errno         |
//! | `CoreError::Sqlite` (disk full, …)     | `OSError` with the errno the SQLite code    |
//! |                                        | stands for and the file, else `OSError`     |
//! |                                        | with a message naming the file              |
//! | `CoreError::Invalid`                   | `ValueError`                                |
//!
//! Python's `OSError` constructor picks `FileNotFoundError`, `PermissionError`,
//! `IsADirectoryError`, `NotADirectoryError`, `FileExistsError`, … from the errno,
//! exactly as for its own file functions, so callers catch what they would catch for
//! `open()`.

use std::ffi::OsString;
use std::io;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::PyErr;
use rusqlite::ErrorCode;

use crate::errors::CoreError;

impl From<CoreError> for PyErr {
    fn from(error: CoreError) -> PyErr {
        match error {
            CoreError::Io { path, source } => {
                match source.raw_os_error().or_else(|| kind_errno(source.kind())) {
                    Some(errno) => os_error(errno, strerror(&source, errno), path.into()),
                    None => PyOSError::new_err(format!("{}: {source}", path.display())),
                }
            }
            CoreError::Sqlite { path, source } => match sqlite_errno(&source) {
                Some(errno) => os_error(errno, format!("cannot write: {source}"), path.into()),
                None => PyOSError::new_err(format!("{}: cannot write: {source}", path.display())),
            },
            CoreError::Invalid(message) => PyValueError::new_err(message),
        }
    }
}

/// `OSError(errno, strerror, filename)`, which Python turns into the subclass of the
/// errno with its attributes set.
fn os_error(errno: i32, strerror: String, filename: OsString) -> PyErr {
    PyOSError::new_err((errno, strerror, filename))
}

/// The message without Rust's " (os error N)" tail, as `strerror` reads in Python.
fn strerror(source: &io::Error, errno: i32) -> String {
    let text = source.to_string();
    text.strip_suffix(&format!(" (os error {errno})"))
        .unwrap_or(&text)
        .to_owned()
}

/// The errno of an error made from a kind alone (no system call behind it).
fn kind_errno(kind: io::ErrorKind) -> Option<i32> {
    use io::ErrorKind as Kind;
    Some(match kind {
        Kind::NotFound => libc::ENOENT,
        Kind::PermissionDenied => libc::EACCES,
        Kind::AlreadyExists => libc::EEXIST,
        Kind::IsADirectory => libc::EISDIR,
        Kind::NotADirectory => libc::ENOTDIR,
        Kind::DirectoryNotEmpty => libc::ENOTEMPTY,
        Kind::StorageFull => libc::ENOSPC,
        Kind::ReadOnlyFilesystem => libc::EROFS,
        Kind::TimedOut => libc::ETIMEDOUT,
        Kind::Interrupted => libc::EINTR,
        Kind::WouldBlock => libc::EAGAIN,
        _ => return None,
    })
}

/// The errno a SQLite failure stands for, where it stands for one.
fn sqlite_errno(error: &rusqlite::Error) -> Option<i32> {
    match error.sqlite_error_code()? {
        ErrorCode::DiskFull => Some(libc::ENOSPC),
        ErrorCode::PermissionDenied => Some(libc::EACCES),
        ErrorCode::ReadOnly => Some(libc::EROFS),
        ErrorCode::SystemIoFailure => Some(libc::EIO),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use pyo3::prelude::*;

    use super::*;

    fn io(errno: i32) -> CoreError {
        CoreError::io(Path::new("/g/x.db"), io::Error::from_raw_os_error(errno))
    }

    fn sqlite(code: i32) -> CoreError {
        let failure = rusqlite::ffi::Error::new(code);
        CoreError::sqlite(
            Path::new("/g/part.db"),
            rusqlite::Error::SqliteFailure(failure, None),
        )
    }

    /// (error, Python type, errno, filename)
    fn cases() -> Vec<(CoreError, &'static str, Option<i32>, Option<&'static str>)> {
        let file = Some("/g/x.db");
        vec![
            (
                io(libc::ENOENT),
                "FileNotFoundError",
                Some(libc::ENOENT),
                file,
            ),
            (
                io(libc::EACCES),
                "PermissionError",
                Some(libc::EACCES),
                file,
            ),
            (io(libc::EPERM), "PermissionError", Some(libc::EPERM), file),
            (
                io(libc::EISDIR),
                "IsADirectoryError",
                Some(libc::EISDIR),
                file,
            ),
            (
                io(libc::ENOTDIR),
                "NotADirectoryError",
                Some(libc::ENOTDIR),
                file,
            ),
            (
                io(libc::EEXIST),
                "FileExistsError",
                Some(libc::EEXIST),
                file,
            ),
            (io(libc::ENOSPC), "OSError", Some(libc::ENOSPC), file),
            (io(libc::EROFS), "OSError", Some(libc::EROFS), file),
            (io(libc::EIO), "OSError", Some(libc::EIO), file),
            (
                CoreError::io(
                    Path::new("/g/x.db"),
                    io::Error::new(io::ErrorKind::NotFound, "no such storage"),
                ),
                "FileNotFoundError",
                Some(libc::ENOENT),
                file,
            ),
            (
                CoreError::io(
                    Path::new("/g/x.db"),
                    io::Error::new(io::ErrorKind::InvalidData, "garbled"),
                ),
                "OSError",
                None,
                None,
            ),
            (
                sqlite(rusqlite::ffi::SQLITE_FULL),
                "OSError",
                Some(libc::ENOSPC),
                Some("/g/part.db"),
            ),
            (
                sqlite(rusqlite::ffi::SQLITE_READONLY),
                "OSError",
                Some(libc::EROFS),
                Some("/g/part.db"),
            ),
            (
                sqlite(rusqlite::ffi::SQLITE_PERM),
                "PermissionError",
                Some(libc::EACCES),
                Some("/g/part.db"),
            ),
            (sqlite(rusqlite::ffi::SQLITE_CORRUPT), "OSError", None, None),
            (
                CoreError::Invalid("bad pattern".into()),
                "ValueError",
                None,
                None,
            ),
        ]
    }

    #[test]
    fn each_kind_becomes_its_python_exception_with_errno_and_filename() {
        Python::initialize();
        Python::attach(|py| {
            for (error, name, errno, filename) in cases() {
                let shown = error.to_string();
                let err = PyErr::from(error);
                let value = err.value(py);
                let kind = value.get_type().name().unwrap().to_string();
                assert_eq!(kind, name, "{shown}");
                if name == "ValueError" {
                    assert_eq!(value.str().unwrap().to_string(), shown);
                    continue;
                }
                let got_errno: Option<i32> = value.getattr("errno").unwrap().extract().unwrap();
                let got_file: Option<String> =
                    value.getattr("filename").unwrap().extract().unwrap();
                assert_eq!(got_errno, errno, "{shown}");
                assert_eq!(got_file.as_deref(), filename, "{shown}");
                // Without a filename attribute, the message itself names the file.
                assert!(value.str().unwrap().to_string().contains("/g/"), "{shown}");
            }
        });
    }

    #[test]
    fn strerror_reads_as_in_python() {
        let source = io::Error::from_raw_os_error(libc::ENOENT);
        assert_eq!(strerror(&source, libc::ENOENT), "No such file or directory");
    }
}
