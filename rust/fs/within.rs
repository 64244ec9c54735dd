//! Whether a file lies inside the folders it may be read from (its sources).
//!
//! A source may hold symbolic links that lead anywhere (`/etc/passwd`, another user's
//! home). Such a file is judged by where it really is: by the file that was opened
//! (Linux names it in `/proc/self/fd`), so that swapping a path for a link between a
//! check and a read cannot make us read a file elsewhere.

use std::fs;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// Whether `real` (a path without links) is one of `roots` or below one of them.
pub fn is_inside(real: &Path, roots: &[PathBuf]) -> bool {
    roots.iter().any(|root| real.starts_with(root))
}

/// Where the open `file` really is; `path` is the name it was opened by, resolved
/// again only where the system cannot name an open file.
fn real_path_of(file: &fs::File, path: &Path) -> std::io::Result<PathBuf> {
    match fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) {
        Ok(real) if real.is_absolute() => Ok(real),
        _ => fs::canonicalize(path),
    }
}

/// Whether the open `file` lies inside `roots`.
pub fn opened_inside(file: &fs::File, path: &Path, roots: &[PathBuf]) -> std::io::Result<bool> {
    Ok(is_inside(&real_path_of(file, path)?, roots))
}
