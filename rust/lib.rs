//! Python bindings of the homegallery hot paths.
//!
//! Each hot path lives in a module of its own with plain Rust types so that it can be
//! tested with `cargo test` without Python; this file only binds them.

mod catalog;
mod fs;
mod vectors;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// One walked file: (relative path, size, mtime ns, ctime ns, inode, device).
type WalkedFile = (OsString, u64, i64, i64, u64, u64);
/// What `walk_source` returns: files, (path, message) errors and three counters.
type WalkOutcome = (Vec<WalkedFile>, Vec<(OsString, String)>, u64, u64, u64);

/// An `OSError` of the subclass Python picks for the error number (FileNotFoundError,
/// PermissionError, …), with `errno`, `strerror` and `filename` set as Python's own
/// file functions set them.
fn os_error(cause: &std::io::Error, path: &Path) -> PyErr {
    let filename = path.as_os_str().to_owned();
    match cause.raw_os_error() {
        Some(number) => {
            let text = cause.to_string();
            let strerror = text
                .strip_suffix(&format!(" (os error {number})"))
                .unwrap_or(&text)
                .to_owned();
            PyOSError::new_err((number, strerror, filename))
        }
        None => PyOSError::new_err(format!("{}: {cause}", path.display())),
    }
}

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
    let exclude =
        fs::exclude::ExcludeRules::new(&root, &excludes).map_err(PyValueError::new_err)?;
    let options = fs::walk::WalkOptions {
        exclude,
        exclude_if_present,
        max_file_size,
        link_roots,
    };
    let result = py
        .detach(|| fs::walk::walk(&root, &options))
        .map_err(|cause| os_error(&cause, &root))?;
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
    let rules = fs::exclude::ExcludeRules::new(std::path::Path::new("/"), &excludes)
        .map_err(PyValueError::new_err)?;
    Ok(py.detach(|| {
        paths
            .iter()
            .map(|path| rules.is_excluded(std::path::Path::new(path), is_dir))
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
    py.detach(|| fs::checksum::hash_files(&paths, threads, roots.as_deref()))
        .into_iter()
        .map(|result| match result {
            Ok(digest) => (Some(digest.hex), digest.bytes, None),
            Err(message) => (None, 0, Some(message)),
        })
        .collect()
}

/// Version of the compiled core, so Python can detect a stale extension build.
#[pyfunction]
fn core_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(core_version, m)?)?;
    similarity_bindings::register(m)?;
    catalog_bindings::register(m)?;
    m.add_function(wrap_pyfunction!(walk_source, m)?)?;
    m.add_function(wrap_pyfunction!(match_excludes, m)?)?;
    m.add_function(wrap_pyfunction!(hash_files, m)?)?;
    Ok(())
}

/// Vector quantisation and top-k cosine scans (`quantize.rs`, `similarity.rs`).
mod similarity_bindings {
    use numpy::ndarray::Dimension;
    use numpy::{
        PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray, PyReadonlyArray1, PyReadonlyArray2,
    };
    use pyo3::exceptions::PyValueError;
    use pyo3::prelude::*;

    use crate::vectors::quantize::{self, CodeFormat, Levels};
    use crate::vectors::similarity::{self, Codes, Match};

    type Found<'py> = Vec<(Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<f64>>)>;
    type Int8Rows<'py> = (Bound<'py, PyArray2<i8>>, Bound<'py, PyArray1<f32>>);

    fn value_error(error: impl std::fmt::Display) -> PyErr {
        PyValueError::new_err(error.to_string())
    }

    /// A view of the array's memory: the scans never copy what they read.
    fn view<'a, T: numpy::Element, D: Dimension>(
        array: &'a PyReadonlyArray<'_, T, D>,
        name: &str,
    ) -> PyResult<&'a [T]> {
        array
            .as_slice()
            .map_err(|_| PyValueError::new_err(format!("{name} must be a C-contiguous array")))
    }

    fn levels(name: &str) -> PyResult<Levels> {
        Levels::parse(name).ok_or_else(|| {
            PyValueError::new_err(format!("levels must be 'sqrt' or 'signed', not {name:?}"))
        })
    }

    fn check_min_score(min_score: f64) -> PyResult<()> {
        if min_score.is_nan() {
            return Err(PyValueError::new_err("min_score must be a number, not NaN"));
        }
        Ok(())
    }

    fn to_python(py: Python<'_>, found: Vec<Vec<Match>>) -> Found<'_> {
        found
            .into_iter()
            .map(|matches| {
                let indices = matches.iter().map(|m| m.index as i64).collect();
                let scores = matches.iter().map(|m| m.score).collect();
                (
                    PyArray1::from_vec(py, indices),
                    PyArray1::from_vec(py, scores),
                )
            })
            .collect()
    }

    /// Packed 2-bit codes of float32 vectors (rows); see `quantize.rs` for the layout.
    #[pyfunction]
    #[pyo3(signature = (vectors, stride, scale, levels, normalize, threads = 0))]
    fn quantize_codes<'py>(
        py: Python<'py>,
        vectors: PyReadonlyArray2<'py, f32>,
        stride: usize,
        scale: f64,
        levels: &str,
        normalize: bool,
        threads: usize,
    ) -> PyResult<Bound<'py, PyArray2<u8>>> {
        let (rows, dims) = vectors.as_array().dim();
        let format = CodeFormat {
            dims,
            stride,
            scale,
            levels: self::levels(levels)?,
            normalize,
        };
        format.check().map_err(value_error)?;
        let data = view(&vectors, "vectors")?;
        let width = format.code_bytes();
        let mut codes = vec![0u8; rows * width];
        py.detach(|| quantize::quantize_codes(data, &format, &mut codes, threads))
            .map_err(value_error)?;
        PyArray1::from_vec(py, codes).reshape([rows, width])
    }

    /// int8 rows and one scale per row (value ≈ code · scale).
    #[pyfunction]
    #[pyo3(signature = (vectors, threads = 0))]
    fn quantize_int8<'py>(
        py: Python<'py>,
        vectors: PyReadonlyArray2<'py, f32>,
        threads: usize,
    ) -> PyResult<Int8Rows<'py>> {
        let (rows, dims) = vectors.as_array().dim();
        let data = view(&vectors, "vectors")?;
        let mut codes = vec![0i8; rows * dims];
        let mut scales = vec![0f32; rows];
        py.detach(|| quantize::quantize_int8(data, dims, &mut codes, &mut scales, threads))
            .map_err(value_error)?;
        Ok((
            PyArray1::from_vec(py, codes).reshape([rows, dims])?,
            PyArray1::from_vec(py, scales),
        ))
    }

    /// Top-k rows of packed codes by cosine of the decoded levels, per query row.
    #[pyfunction]
    #[pyo3(signature = (codes, queries, values, levels, k, min_score, threads = 0))]
    #[allow(clippy::too_many_arguments)]
    fn scan_codes<'py>(
        py: Python<'py>,
        codes: PyReadonlyArray2<'py, u8>,
        queries: PyReadonlyArray2<'py, u8>,
        values: usize,
        levels: &str,
        k: usize,
        min_score: f64,
        threads: usize,
    ) -> PyResult<Found<'py>> {
        check_min_score(min_score)?;
        let width = codes.as_array().dim().1;
        if queries.as_array().dim().1 != width {
            return Err(PyValueError::new_err(format!(
                "queries have {} bytes per code, the scanned codes {width}",
                queries.as_array().dim().1
            )));
        }
        let codes = Codes {
            data: view(&codes, "codes")?,
            width,
            values,
            levels: self::levels(levels)?,
        };
        let queries = view(&queries, "queries")?;
        let found = py
            .detach(|| similarity::scan_codes(&codes, queries, k, min_score, threads))
            .map_err(value_error)?;
        Ok(to_python(py, found))
    }

    fn scan_rows<'py, T: numpy::Element + similarity::Element>(
        py: Python<'py>,
        matrix: PyReadonlyArray2<'py, T>,
        queries: PyReadonlyArray2<'py, T>,
        k: usize,
        min_score: f64,
        candidates: Option<PyReadonlyArray1<'py, i64>>,
        threads: usize,
    ) -> PyResult<Found<'py>> {
        check_min_score(min_score)?;
        let dims = matrix.as_array().dim().1;
        if queries.as_array().dim().1 != dims {
            return Err(PyValueError::new_err(format!(
                "query rows have {} values, the matrix rows {dims}",
                queries.as_array().dim().1
            )));
        }
        let data = view(&matrix, "matrix")?;
        let queries = view(&queries, "queries")?;
        let candidates = match &candidates {
            Some(rows) => Some(view(rows, "candidates")?),
            None => None,
        };
        let found = py
            .detach(|| {
                similarity::scan_rows(data, dims, queries, candidates, k, min_score, threads)
            })
            .map_err(value_error)?;
        Ok(to_python(py, found))
    }

    /// Top-k rows of a float32 matrix by cosine, per query row.
    #[pyfunction]
    #[pyo3(signature = (matrix, queries, k, min_score, candidates = None, threads = 0))]
    fn scan_float32<'py>(
        py: Python<'py>,
        matrix: PyReadonlyArray2<'py, f32>,
        queries: PyReadonlyArray2<'py, f32>,
        k: usize,
        min_score: f64,
        candidates: Option<PyReadonlyArray1<'py, i64>>,
        threads: usize,
    ) -> PyResult<Found<'py>> {
        scan_rows(py, matrix, queries, k, min_score, candidates, threads)
    }

    /// Top-k rows of an int8 matrix by cosine, per query row (exact integer sums).
    #[pyfunction]
    #[pyo3(signature = (matrix, queries, k, min_score, candidates = None, threads = 0))]
    fn scan_int8<'py>(
        py: Python<'py>,
        matrix: PyReadonlyArray2<'py, i8>,
        queries: PyReadonlyArray2<'py, i8>,
        k: usize,
        min_score: f64,
        candidates: Option<PyReadonlyArray1<'py, i64>>,
        threads: usize,
    ) -> PyResult<Found<'py>> {
        scan_rows(py, matrix, queries, k, min_score, candidates, threads)
    }

    pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add_function(wrap_pyfunction!(quantize_codes, m)?)?;
        m.add_function(wrap_pyfunction!(quantize_int8, m)?)?;
        m.add_function(wrap_pyfunction!(scan_codes, m)?)?;
        m.add_function(wrap_pyfunction!(scan_float32, m)?)?;
        m.add_function(wrap_pyfunction!(scan_int8, m)?)?;
        Ok(())
    }
}

/// Catalog entries from media groups and the storage, and their rows
/// (`entry_make.rs`, `entry_rows.rs`).
mod catalog_bindings {
    use std::collections::{HashMap, HashSet};
    use std::path::PathBuf;

    use pyo3::exceptions::{PyOSError, PyValueError};
    use pyo3::prelude::*;
    use pyo3::types::{PyBytes, PyTuple};

    use crate::catalog::entry_make::{Group, GroupFile};
    use crate::catalog::entry_rows::{self, FileRow, Value, ValueRow};
    use crate::catalog::part_write::{self, PartTask};

    /// (source, path, size, mtime ns, id, kind), as `catalog.grouping.GroupFile`.
    type FileTuple = (String, String, i64, i64, String, String);
    /// (id, kind, files, twin ids, has vector) of a media group.
    type GroupTuple = (String, String, Vec<FileTuple>, Vec<String>, bool);
    /// Signatures, remade flags, held (id, doc), entries written, problems.
    type Part<'py> = (
        Vec<String>,
        Vec<bool>,
        Vec<(String, Bound<'py, PyBytes>)>,
        i64,
        Vec<String>,
    );
    type Rows<'py> = (Vec<Bound<'py, PyTuple>>, Vec<ValueRow>, Vec<FileRow>);

    fn group(tuple: GroupTuple) -> Group {
        let (id, kind, files, twin_ids, has_vector) = tuple;
        let files = files
            .into_iter()
            .map(|(source, path, size, mtime_ns, id, kind)| GroupFile {
                source,
                path,
                size,
                mtime_ns,
                id,
                kind,
            })
            .collect();
        Group {
            id,
            kind,
            files,
            twin_ids,
            has_vector,
        }
    }

    /// Makes one part of a build into a SQLite file (GIL released; see `part_write.rs`).
    #[pyfunction]
    fn write_part<'py>(
        py: Python<'py>,
        path: PathBuf,
        storage_root: String,
        schema: Vec<String>,
        groups: Vec<GroupTuple>,
        stored: HashMap<String, String>,
        held: HashSet<String>,
    ) -> PyResult<Part<'py>> {
        let groups: Vec<Group> = groups.into_iter().map(group).collect();
        let task = PartTask {
            groups: &groups,
            stored: &stored,
            held: &held,
        };
        let outcome = py
            .detach(|| part_write::write_part(&path, &storage_root, &schema, &task))
            .map_err(PyOSError::new_err)?;
        let held_docs = outcome
            .held_docs
            .into_iter()
            .map(|(id, doc)| (id, PyBytes::new(py, &doc)))
            .collect();
        Ok((
            outcome.signatures,
            outcome.remade,
            held_docs,
            outcome.written,
            outcome.problems,
        ))
    }

    fn python_value<'py>(py: Python<'py>, value: Value) -> PyResult<Bound<'py, PyAny>> {
        Ok(match value {
            Value::Null => py.None().into_bound(py),
            Value::Int(number) => number.into_pyobject(py)?.into_any(),
            Value::Real(number) => number.into_pyobject(py)?.into_any(),
            Value::Text(text) => text.into_pyobject(py)?.into_any(),
        })
    }

    /// The `entries`, `entry_values` and `entry_files` rows of stored docs, with
    /// rowids from `first_rowid` on.
    #[pyfunction]
    #[pyo3(name = "entry_rows")]
    fn rows_of_docs<'py>(
        py: Python<'py>,
        docs: Vec<Vec<u8>>,
        signatures: Vec<String>,
        first_rowid: i64,
    ) -> PyResult<Rows<'py>> {
        if docs.len() != signatures.len() {
            return Err(PyValueError::new_err(format!(
                "{} docs but {} signatures",
                docs.len(),
                signatures.len()
            )));
        }
        let made = py.detach(|| {
            docs.iter()
                .zip(&signatures)
                .zip(first_rowid..)
                .map(|((doc, signature), rowid)| {
                    let entry = crate::catalog::entry_doc::decode(doc)?;
                    Ok(entry_rows::entry_rows(rowid, &entry, signature))
                })
                .collect::<Result<Vec<_>, String>>()
        });
        let made = made.map_err(PyValueError::new_err)?;
        let mut entries = Vec::with_capacity(made.len());
        let (mut values, mut files) = (Vec::new(), Vec::new());
        for rows in made {
            let row = rows
                .entry
                .into_iter()
                .map(|value| python_value(py, value))
                .collect::<PyResult<Vec<_>>>()?;
            entries.push(PyTuple::new(py, row)?);
            values.extend(rows.values);
            files.extend(rows.files);
        }
        Ok((entries, values, files))
    }

    /// Python's `str.casefold`, as the catalog stores searchable text.
    #[pyfunction]
    fn casefold(text: &str) -> String {
        crate::catalog::casefold::casefold(text)
    }

    pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
        m.add_function(wrap_pyfunction!(write_part, m)?)?;
        m.add_function(wrap_pyfunction!(rows_of_docs, m)?)?;
        m.add_function(wrap_pyfunction!(casefold, m)?)?;
        m.add(
            "CASEFOLD_UNICODE_VERSION",
            crate::catalog::casefold::UNICODE_VERSION,
        )?;
        m.add("ENTRY_COLUMNS", entry_rows::ENTRY_COLUMNS.to_vec())?;
        m.add(
            "SIGNATURE_FORMAT",
            crate::catalog::entry_make::SIGNATURE_FORMAT,
        )?;
        Ok(())
    }
}
