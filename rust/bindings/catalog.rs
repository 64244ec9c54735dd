//! Catalog entries from media groups and the storage, and their rows
//! (`catalog::entry_make`, `catalog::entry_rows`).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::catalog::entry_make::{Group, GroupFile};
use crate::catalog::entry_rows::{self, FileRow, Value, ValueRow};
use crate::catalog::part_write::{self, PartTask};
use crate::errors::CoreError;

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
    let outcome = py.detach(|| part_write::write_part(&path, &storage_root, &schema, &task))?;
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
        return Err(CoreError::Invalid(format!(
            "{} docs but {} signatures",
            docs.len(),
            signatures.len()
        ))
        .into());
    }
    let made = py.detach(|| {
        docs.iter()
            .zip(&signatures)
            .zip(first_rowid..)
            .map(|((doc, signature), rowid)| {
                let entry = crate::catalog::entry_doc::decode(doc)?;
                Ok(entry_rows::entry_rows(rowid, &entry, signature))
            })
            .collect::<Result<Vec<_>, CoreError>>()
    })?;
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
