//! Catalog entries from media groups and the storage, and their rows
//! (`catalog::entry_make`, `catalog::entry_rows`).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{IntoPyDict, PyBytes, PyTuple};

use crate::catalog::build_plan::BuildPlan;
use crate::catalog::entry_doc::{self, DetectedObject, Entry, EntryFile, Face, Label};
use crate::catalog::entry_make::{Group, Options};
use crate::catalog::entry_rows::{self, FileRow, Value, ValueRow};
use crate::catalog::fields::field_names;
use crate::catalog::grouping::SourceColumns;
use crate::catalog::part_write::{self, PartTask};
use crate::catalog::storage_read::{StoredLabel, StoredLabels, StoredMeta, StoredPlace};
use crate::catalog::{storage_layout, storage_record};
use crate::errors::CoreError;

/// (source, path, size, mtime ns, id, kind), as `catalog.grouping.GroupFile`.
type FileTuple = (String, String, i64, i64, String, String);
/// (id, kind, files, twin ids) of a media group.
type GroupTuple = (String, String, Vec<FileTuple>, Vec<String>);
type Rows<'py> = (Vec<Bound<'py, PyTuple>>, Vec<ValueRow>, Vec<FileRow>);

/// (source folder, paths, sizes, mtimes in ns, ids, kinds): one source's index files.
type SourceTuple = (
    String,
    Vec<String>,
    Vec<i64>,
    Vec<i64>,
    Vec<String>,
    Vec<String>,
);
/// Added, changed ids, unchanged, held (id, signature, doc), entries written, problems.
type Part<'py> = (
    i64,
    Vec<String>,
    i64,
    Vec<(String, String, Bound<'py, PyBytes>)>,
    i64,
    Vec<String>,
);

/// The media groups of a build and the catalog's signatures (`catalog::build_plan`),
/// held in the core: the parts read slices of it, Python sees only what it asks for.
#[pyclass(frozen, name = "BuildPlan", module = "homegallery._core")]
pub struct PyBuildPlan {
    plan: BuildPlan,
}

#[pymethods]
impl PyBuildPlan {
    #[new]
    fn new(py: Python<'_>, sources: Vec<SourceTuple>, stored: String) -> PyResult<Self> {
        let sources: Vec<SourceColumns> = sources
            .into_iter()
            .map(
                |(source, paths, sizes, mtimes_ns, ids, kinds)| SourceColumns {
                    source,
                    paths,
                    sizes,
                    mtimes_ns,
                    ids,
                    kinds,
                },
            )
            .collect();
        let plan = py.detach(|| BuildPlan::new(sources, &stored))?;
        Ok(PyBuildPlan { plan })
    }

    fn __len__(&self) -> usize {
        self.plan.groups.len()
    }

    /// Group id → its RAW twins, for the groups that have any.
    fn twins(&self) -> HashMap<String, Vec<String>> {
        self.plan
            .groups
            .iter()
            .filter(|group| !group.twin_ids.is_empty())
            .map(|group| (group.id.clone(), group.twin_ids.clone()))
            .collect()
    }

    /// The groups from `start` to `end` as (id, kind, files, twin ids).
    fn groups(&self, start: usize, end: usize) -> Vec<GroupTuple> {
        let end = end.min(self.plan.groups.len());
        self.plan.groups[start.min(end)..end]
            .iter()
            .map(group_tuple)
            .collect()
    }

    /// Stored ids no group has any more, but those whose signature starts with `kept_prefix`.
    fn gone(&self, kept_prefix: &str) -> Vec<String> {
        self.plan.stored.gone(&self.plan.groups, kept_prefix)
    }
}

fn group_tuple(group: &Group) -> GroupTuple {
    let files = group
        .files
        .iter()
        .map(|file| {
            (
                file.source.to_string(),
                file.path.clone(),
                file.size,
                file.mtime_ns,
                file.id.clone(),
                file.kind.to_string(),
            )
        })
        .collect();
    (
        group.id.clone(),
        group.kind.clone(),
        files,
        group.twin_ids.clone(),
    )
}

/// Makes groups `start` to `end` of a plan into a SQLite file (GIL released; see
/// `part_write.rs`).
#[pyfunction]
#[pyo3(signature = (
    path, storage_root, schema, plan, start, end, held, vector_ids,
    labels_kind=None, label_threshold=0.0, vector_kind=None, objects_kind=None, object_score=0.0
))]
#[allow(clippy::too_many_arguments)] // one binding mirrors the Python call's keywords
fn write_part<'py>(
    py: Python<'py>,
    path: PathBuf,
    storage_root: String,
    schema: Vec<String>,
    plan: &Bound<'py, PyBuildPlan>,
    start: usize,
    end: usize,
    held: HashSet<String>,
    vector_ids: HashSet<String>,
    labels_kind: Option<String>,
    label_threshold: f64,
    vector_kind: Option<String>,
    objects_kind: Option<String>,
    object_score: f64,
) -> PyResult<Part<'py>> {
    if !(0.0..=1.0).contains(&label_threshold) {
        return Err(PyValueError::new_err(format!(
            "label_threshold must be a probability from 0 to 1, not {label_threshold}"
        )));
    }
    if !(0.0..=1.0).contains(&object_score) {
        return Err(PyValueError::new_err(format!(
            "object_score must be a score from 0 to 1, not {object_score}"
        )));
    }
    let plan = &plan.get().plan;
    if start > end || end > plan.groups.len() {
        return Err(PyValueError::new_err(format!(
            "groups {start} to {end} are not a part of a plan of {}",
            plan.groups.len()
        )));
    }
    let options = Options {
        labels_kind,
        label_threshold,
        vector_kind,
        objects_kind,
        object_score,
    };
    let task = PartTask {
        groups: &plan.groups[start..end],
        stored: &plan.stored,
        held: &held,
        vector_ids: &vector_ids,
        options: &options,
    };
    let outcome = py.detach(|| part_write::write_part(&path, &storage_root, &schema, &task))?;
    let held_docs = outcome
        .held_docs
        .into_iter()
        .map(|(id, signature, doc)| (id, signature, PyBytes::new(py, &doc)))
        .collect();
    Ok((
        outcome.added,
        outcome.changed_ids,
        outcome.unchanged,
        held_docs,
        outcome.written,
        outcome.problems,
    ))
}

fn python_value(py: Python<'_>, value: Value) -> PyResult<Bound<'_, PyAny>> {
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
fn rows_of_docs(
    py: Python<'_>,
    docs: Vec<Vec<u8>>,
    signatures: Vec<String>,
    first_rowid: i64,
) -> PyResult<Rows<'_>> {
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
                let entry = entry_doc::decode(doc)?;
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

/// The doc decoded into the core's entry and encoded again: what the core keeps of a
/// doc Python made (the contract tests compare the two).
#[pyfunction]
fn entry_doc_round_trip<'py>(py: Python<'py>, doc: &[u8]) -> PyResult<Bound<'py, PyBytes>> {
    let entry = entry_doc::decode(doc)?;
    Ok(PyBytes::new(py, &entry_doc::encode(&entry)))
}

/// The path of a stored file below the storage root (`ab/cd/ef01…-meta.json`).
#[pyfunction]
fn storage_relative(media_id: &str, kind: &str) -> String {
    storage_layout::relative(media_id, kind)
}

/// The folder below the storage root (`ab/cd`) and the name stem of a media id.
#[pyfunction]
fn storage_split(media_id: &str) -> (String, String) {
    let (_, _, stem) = storage_layout::split_id(media_id);
    (storage_layout::folder(media_id), stem.to_string())
}

/// (stem, kind) of a name in a storage folder; None unless it is a finished file.
#[pyfunction]
fn storage_name(name: &str) -> Option<(String, String)> {
    storage_layout::parse_name(name).map(|(stem, kind)| (stem.to_string(), kind.to_string()))
}

/// Whether a kind is kept in an id's record (`storage_layout::in_record`).
#[pyfunction]
fn storage_in_record(kind: &str) -> bool {
    storage_layout::in_record(kind)
}

/// A record's bytes from its parts, (kind, bytes) pairs.
#[pyfunction]
fn storage_record_encode<'py>(
    py: Python<'py>,
    parts: Vec<(String, Bound<'py, PyBytes>)>,
) -> PyResult<Bound<'py, PyBytes>> {
    let parts: Vec<(String, &[u8])> = parts
        .iter()
        .map(|(kind, data)| (kind.clone(), data.as_bytes()))
        .collect();
    let record = storage_record::encode(&parts).map_err(PyValueError::new_err)?;
    Ok(PyBytes::new(py, &record))
}

/// The (kind, bytes) parts of a record; `ValueError` with the cause when it is broken.
#[pyfunction]
fn storage_record_decode<'py>(
    py: Python<'py>,
    data: &[u8],
) -> PyResult<Vec<(String, Bound<'py, PyBytes>)>> {
    let parts = storage_record::decode(data).map_err(PyValueError::new_err)?;
    Ok(parts
        .into_iter()
        .map(|(kind, bytes)| (kind, PyBytes::new(py, &bytes)))
        .collect())
}

/// The field names of the core's structs, by the Python struct each one mirrors.
fn doc_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("Entry", field_names::<Entry>().to_vec()),
        ("EntryFile", field_names::<EntryFile>().to_vec()),
        ("DetectedObject", field_names::<DetectedObject>().to_vec()),
        ("Face", field_names::<Face>().to_vec()),
        ("Label", field_names::<Label>().to_vec()),
    ]
}

fn stored_fields() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("MediaMeta", field_names::<StoredMeta>().to_vec()),
        ("Place", field_names::<StoredPlace>().to_vec()),
        ("Labels", field_names::<StoredLabels>().to_vec()),
        ("StoredLabel", field_names::<StoredLabel>().to_vec()),
    ]
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyBuildPlan>()?;
    m.add_function(wrap_pyfunction!(write_part, m)?)?;
    m.add_function(wrap_pyfunction!(rows_of_docs, m)?)?;
    m.add_function(wrap_pyfunction!(entry_doc_round_trip, m)?)?;
    m.add_function(wrap_pyfunction!(casefold, m)?)?;
    m.add_function(wrap_pyfunction!(storage_relative, m)?)?;
    m.add_function(wrap_pyfunction!(storage_split, m)?)?;
    m.add_function(wrap_pyfunction!(storage_name, m)?)?;
    m.add_function(wrap_pyfunction!(storage_in_record, m)?)?;
    m.add_function(wrap_pyfunction!(storage_record_encode, m)?)?;
    m.add_function(wrap_pyfunction!(storage_record_decode, m)?)?;
    m.add(
        "CASEFOLD_UNICODE_VERSION",
        crate::catalog::casefold::UNICODE_VERSION,
    )?;
    m.add("ENTRY_COLUMNS", entry_rows::ENTRY_COLUMNS.to_vec())?;
    m.add("DOC_FIELDS", doc_fields().into_py_dict(m.py())?)?;
    m.add("STORED_FIELDS", stored_fields().into_py_dict(m.py())?)?;
    m.add(
        "STORAGE_KINDS",
        storage_layout::kinds().into_py_dict(m.py())?,
    )?;
    m.add(
        "MEDIA_KINDS",
        crate::catalog::grouping::MEDIA_KINDS.to_vec(),
    )?;
    m.add(
        "SIGNATURE_FORMAT",
        crate::catalog::entry_make::SIGNATURE_FORMAT,
    )?;
    Ok(())
}
