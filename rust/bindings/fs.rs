//! The walk of a source, its exclude rules and the checksums of its files (`fs`).

use pyo3::prelude::*;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::fs::checksum;
use crate::fs::exclude::ExcludeRules;
use crate::fs::walk::{self, WalkOptions};

/// One walked file: (relative path, size, mtime ns, ctime ns, inode, device).
type WalkedFile = (OsString, u64, i64, i64, u64, u64);
/// What `walk_source` returns: files, (path, message) errors and three counters.
type WalkOutcome = (Vec<WalkedFile>, Vec<(OsString, String)>, u64, u64, u64);

/// Walks a source folder in parallel with gitignore-style exclude rules.
///
/// Paths cross as `str` decoded like `os.fsdecode`, so names that are not UTF-8
/// survive the trip back to the file system.
#[pyfunction]
#[pyo3(signature = (root, excludes, exclude_if_present=None, max_file_size=None, link_roots=Vec::new()))]
fn walk_source(
    py: Python<'_>,
    root: PathBuf,
    excludes: Vec<String>,
    exclude_if_present: Option<String>,
    max_file_size: Option<u64>,
    link_roots: Vec<PathBuf>,
) -> PyResult<WalkOutcome> {
    let exclude = ExcludeRules::new(&root, &excludes)?;
    let options = WalkOptions {
        exclude,
        exclude_if_present,
        max_file_size,
        link_roots,
    };
    let result = py.detach(|| walk::walk(&root, &options))?;
    let files = result
        .files
        .into_iter()
        .map(|f| {
            (
                f.relative.into_os_string(),
                f.size,
                f.mtime_ns,
                f.ctime_ns,
                f.inode,
                f.device,
            )
        })
        .collect();
    let errors = result
        .errors
        .into_iter()
        .map(|e| (e.relative.into_os_string(), e.message))
        .collect();
    Ok((
        files,
        errors,
        result.excluded,
        result.too_large,
        result.marked_folders,
    ))
}

/// Which of `paths` (relative, `/`-separated) the exclude rules leave out.
#[pyfunction]
fn match_excludes(
    py: Python<'_>,
    excludes: Vec<String>,
    paths: Vec<String>,
    is_dir: bool,
) -> PyResult<Vec<bool>> {
    let rules = ExcludeRules::new(Path::new("/"), &excludes)?;
    Ok(py.detach(|| {
        paths
            .iter()
            .map(|path| rules.is_excluded(Path::new(path), is_dir))
            .collect()
    }))
}

/// blake3 digests of many files in parallel: (hex or None, bytes read, error or None).
///
/// With `roots`, a file is read only when the opened file lies inside one of them.
#[pyfunction]
#[pyo3(signature = (paths, threads=0, roots=None))]
fn hash_files(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    threads: usize,
    roots: Option<Vec<PathBuf>>,
) -> Vec<(Option<String>, u64, Option<String>)> {
    py.detach(|| checksum::hash_files(&paths, threads, roots.as_deref()))
        .into_iter()
        .map(|result| match result {
            Ok(digest) => (Some(digest.hex), digest.bytes, None),
            Err(problem) => (None, 0, Some(problem.to_string())),
        })
        .collect()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(walk_source, m)?)?;
    m.add_function(wrap_pyfunction!(match_excludes, m)?)?;
    m.add_function(wrap_pyfunction!(hash_files, m)?)?;
    Ok(())
}
