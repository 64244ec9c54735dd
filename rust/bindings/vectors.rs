//! Vector quantisation and top-k cosine scans (`vectors::quantize`, `vectors::similarity`).

use numpy::ndarray::Dimension;
use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray, PyReadonlyArray1, PyReadonlyArray2,
};
use pyo3::prelude::*;

use crate::errors::CoreError;
use crate::vectors::people;
use crate::vectors::quantize::{self, CodeFormat, Levels};
use crate::vectors::similarity::{self, Codes, Match};

type Found<'py> = Vec<(Bound<'py, PyArray1<i64>>, Bound<'py, PyArray1<f64>>)>;
type Int8Rows<'py> = (Bound<'py, PyArray2<i8>>, Bound<'py, PyArray1<f32>>);

fn invalid(message: String) -> PyErr {
    CoreError::Invalid(message).into()
}

/// A view of the array's memory: the scans never copy what they read.
fn view<'a, T: numpy::Element, D: Dimension>(
    array: &'a PyReadonlyArray<'_, T, D>,
    name: &str,
) -> PyResult<&'a [T]> {
    array
        .as_slice()
        .map_err(|_| invalid(format!("{name} must be a C-contiguous array")))
}

fn levels(name: &str) -> PyResult<Levels> {
    Levels::parse(name)
        .ok_or_else(|| invalid(format!("levels must be 'sqrt' or 'signed', not {name:?}")))
}

fn check_min_score(min_score: f64) -> PyResult<()> {
    if min_score.is_nan() {
        return Err(invalid("min_score must be a number, not NaN".into()));
    }
    Ok(())
}

fn to_python(py: Python<'_>, found: Vec<Vec<Match>>) -> Found<'_> {
    found
        .into_iter()
        .map(|matches| {
            let indices = matches
                .iter()
                .map(|m| i64::try_from(m.index).expect("a row index fits in i64"))
                .collect();
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
    format.check().map_err(CoreError::from)?;
    let data = view(&vectors, "vectors")?;
    let width = format.code_bytes();
    let mut codes = vec![0u8; rows * width];
    py.detach(|| quantize::quantize_codes(data, &format, &mut codes, threads))
        .map_err(CoreError::from)?;
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
        .map_err(CoreError::from)?;
    Ok((
        PyArray1::from_vec(py, codes).reshape([rows, dims])?,
        PyArray1::from_vec(py, scales),
    ))
}

/// Top-k rows of packed codes by cosine of the decoded levels, per query row.
#[pyfunction]
#[pyo3(signature = (codes, queries, values, levels, k, min_score, threads = 0))]
#[allow(
    clippy::too_many_arguments,
    reason = "the arguments of the Python function"
)]
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
        return Err(invalid(format!(
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
        .map_err(CoreError::from)?;
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
        return Err(invalid(format!(
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
        .detach(|| similarity::scan_rows(data, dims, queries, candidates, k, min_score, threads))
        .map_err(CoreError::from)?;
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

type Grouped<'py> = (
    Bound<'py, PyArray1<i64>>,
    Bound<'py, PyArray2<f32>>,
    Bound<'py, PyArray1<i64>>,
);

/// Faces grouped into people under must-link and cannot-link constraints
/// (`vectors::people`): the person of each face, every person's descriptor sum and
/// face count (to pass back in when more faces come).
#[pyfunction]
#[pyo3(signature = (
    descriptors, photos, anchors, alone, forbidden, sums, counts, known_photos, threshold,
    threads = 0
))]
#[allow(
    clippy::too_many_arguments,
    clippy::needless_pass_by_value,
    reason = "the arguments of the Python function"
)]
fn group_people<'py>(
    py: Python<'py>,
    descriptors: PyReadonlyArray2<'py, f32>,
    photos: PyReadonlyArray1<'py, u64>,
    anchors: PyReadonlyArray1<'py, i64>,
    alone: PyReadonlyArray1<'py, bool>,
    forbidden: Vec<(usize, usize)>,
    sums: PyReadonlyArray2<'py, f32>,
    counts: PyReadonlyArray1<'py, u64>,
    known_photos: Vec<(usize, u64)>,
    threshold: f32,
    threads: usize,
) -> PyResult<Grouped<'py>> {
    let dims = descriptors.as_array().dim().1;
    if sums.as_array().dim().1 != dims && sums.as_array().dim().0 > 0 {
        return Err(invalid(format!(
            "sums have {} values per person, descriptors {dims}",
            sums.as_array().dim().1
        )));
    }
    let grouping = people::Grouping {
        descriptors: view(&descriptors, "descriptors")?,
        dims,
        photos: view(&photos, "photos")?,
        anchors: view(&anchors, "anchors")?,
        alone: view(&alone, "alone")?,
        forbidden: &forbidden,
        sums: view(&sums, "sums")?,
        counts: view(&counts, "counts")?,
        known_photos: &known_photos,
        threshold,
    };
    let found = py
        .detach(|| people::group(&grouping, threads))
        .map_err(PyErr::from)?;
    let persons = found.counts.len();
    let person_of = found
        .person_of
        .iter()
        .map(|&person| i64::try_from(person).expect("a person index fits in i64"))
        .collect();
    let counts = found
        .counts
        .iter()
        .map(|&count| i64::try_from(count).expect("a face count fits in i64"))
        .collect();
    Ok((
        PyArray1::from_vec(py, person_of),
        PyArray1::from_vec(py, found.sums).reshape([persons, dims])?,
        PyArray1::from_vec(py, counts),
    ))
}

/// Which scan kernel this CPU gets, for `homegallery doctor` and the benchmarks.
#[pyfunction]
fn scan_kernel() -> &'static str {
    crate::vectors::scan_kernel()
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(scan_kernel, m)?)?;
    m.add_function(wrap_pyfunction!(quantize_codes, m)?)?;
    m.add_function(wrap_pyfunction!(quantize_int8, m)?)?;
    m.add_function(wrap_pyfunction!(scan_codes, m)?)?;
    m.add_function(wrap_pyfunction!(scan_float32, m)?)?;
    m.add_function(wrap_pyfunction!(scan_int8, m)?)?;
    m.add_function(wrap_pyfunction!(group_people, m)?)?;
    Ok(())
}
