//! Search columns (`search::text_column`, `search::joined`) and the word rule.

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::errors::CoreError;
use crate::search::{joined, text_column, words};

type Rows<'py> = Bound<'py, PyArray1<i64>>;

/// The rows an optional `within` array names, copied so the scan can run without
/// the GIL (they are few: the rows an earlier search found).
fn rows_of(within: Option<PyReadonlyArray1<'_, i64>>) -> PyResult<Option<Vec<i64>>> {
    within
        .map(|array| array.as_slice().map(<[i64]>::to_vec))
        .transpose()
        .map_err(|_| CoreError::Invalid("within must be a C-contiguous array".into()).into())
}

/// Runs `search` over the rows `within` names (every row without it), without the GIL.
fn search_within<'py>(
    py: Python<'py>,
    within: Option<PyReadonlyArray1<'py, i64>>,
    search: impl FnOnce(Option<&[i64]>) -> Vec<i64> + Send,
) -> PyResult<Rows<'py>> {
    let within = rows_of(within)?;
    let rows = py.detach(|| search(within.as_deref()));
    Ok(PyArray1::from_vec(py, rows))
}

fn separator_char(separator: &str) -> PyResult<char> {
    let mut characters = separator.chars();
    match (characters.next(), characters.next()) {
        (Some(character), None) => Ok(character),
        _ => Err(
            CoreError::Invalid(format!("a separator is one character, not {separator:?}")).into(),
        ),
    }
}

/// One text column of the catalog (casefolded values, one per row), held as one
/// text; every search returns ascending row numbers.
#[pyclass(frozen, name = "TextColumn", module = "homegallery._core")]
pub struct PyTextColumn {
    column: text_column::TextColumn,
}

#[pymethods]
impl PyTextColumn {
    /// A column of these values (None: empty).
    #[new]
    fn new(values: Vec<Option<String>>) -> Self {
        PyTextColumn {
            column: text_column::TextColumn::from_values(
                values.iter().map(|value| value.as_deref().unwrap_or("")),
            ),
        }
    }

    /// `count` values joined by `separator` (as `group_concat` gives them), value `k`
    /// in row `placement[k]` of `size` rows (row `k` of `count` without a placement).
    #[staticmethod]
    #[pyo3(signature = (joined, count, placement = None, size = None, separator = "\0"))]
    fn from_joined(
        py: Python<'_>,
        joined: &str,
        count: usize,
        placement: Option<PyReadonlyArray1<'_, i64>>,
        size: Option<usize>,
        separator: &str,
    ) -> PyResult<Self> {
        let separator = separator_char(separator)?;
        let placement = rows_of(placement)?;
        let column = py.detach(|| {
            text_column::TextColumn::from_joined(
                joined,
                separator,
                count,
                placement.as_deref(),
                size.unwrap_or(count),
            )
        })?;
        Ok(PyTextColumn { column })
    }

    /// Row `i` holds `distinct[codes[i]]` (empty where the code is -1).
    #[staticmethod]
    fn from_codes(distinct: Vec<String>, codes: PyReadonlyArray1<'_, i64>) -> PyResult<Self> {
        let codes = codes
            .as_slice()
            .map_err(|_| CoreError::Invalid("codes must be a C-contiguous array".into()))?;
        Ok(PyTextColumn {
            column: text_column::TextColumn::from_codes(&distinct, codes)?,
        })
    }

    /// Each row's values of `columns` joined by `separator`.
    #[staticmethod]
    fn concatenated(columns: Vec<PyRef<'_, PyTextColumn>>, separator: &str) -> PyResult<Self> {
        let parts: Vec<&text_column::TextColumn> =
            columns.iter().map(|part| &part.column).collect();
        Ok(PyTextColumn {
            column: text_column::TextColumn::concatenated(&parts, separator)?,
        })
    }

    /// Each value up to its last `/` (empty when it has none).
    fn parents(&self, py: Python<'_>) -> Self {
        PyTextColumn {
            column: py.detach(|| self.column.parents()),
        }
    }

    fn __len__(&self) -> usize {
        self.column.len()
    }

    /// The bytes the column holds.
    #[getter]
    fn nbytes(&self) -> usize {
        self.column.size_in_bytes()
    }

    fn value(&self, row: usize) -> PyResult<&str> {
        if row >= self.column.len() {
            return Err(pyo3::exceptions::PyIndexError::new_err(format!(
                "row {row} of a column of {} rows",
                self.column.len()
            )));
        }
        Ok(self.column.value(row))
    }

    fn rows_containing<'py>(&self, py: Python<'py>, text: &str) -> Rows<'py> {
        let rows = py.detach(|| self.column.rows_containing(text));
        PyArray1::from_vec(py, rows)
    }

    #[pyo3(signature = (text, within = None))]
    fn rows_with_word<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        within: Option<PyReadonlyArray1<'py, i64>>,
    ) -> PyResult<Rows<'py>> {
        search_within(py, within, |rows| self.column.rows_with_word(text, rows))
    }

    #[pyo3(signature = (text, within = None))]
    fn rows_equal<'py>(
        &self,
        py: Python<'py>,
        text: &str,
        within: Option<PyReadonlyArray1<'py, i64>>,
    ) -> PyResult<Rows<'py>> {
        search_within(py, within, |rows| self.column.rows_equal(text, rows))
    }

    #[pyo3(signature = (prefix, within = None))]
    fn rows_starting_with<'py>(
        &self,
        py: Python<'py>,
        prefix: &str,
        within: Option<PyReadonlyArray1<'py, i64>>,
    ) -> PyResult<Rows<'py>> {
        search_within(py, within, |rows| {
            self.column.rows_starting_with(prefix, rows)
        })
    }

    /// Whether each row has a value other than white space.
    fn present<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<bool>> {
        let present = py.detach(|| self.column.present());
        PyArray1::from_vec(py, present)
    }

    /// The sorted distinct values (the empty one left out) and each row's index among
    /// them (-1: empty).
    fn dictionary<'py>(&self, py: Python<'py>) -> (Vec<String>, Rows<'py>) {
        let (distinct, codes) = py.detach(|| {
            let (distinct, codes) = self.column.dictionary();
            (distinct.into_iter().map(str::to_owned).collect(), codes)
        });
        (distinct, PyArray1::from_vec(py, codes))
    }

    /// Each row's place among the sorted distinct values (-1: none).
    fn ranks<'py>(&self, py: Python<'py>) -> Rows<'py> {
        let ranks = py.detach(|| self.column.ranks().to_vec());
        PyArray1::from_vec(py, ranks)
    }
}

/// The numbers of a comma-joined column (`nan`: unknown), `count` of them.
#[pyfunction]
fn parse_numbers<'py>(
    py: Python<'py>,
    text: &str,
    count: usize,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let numbers = py.detach(|| joined::parse_numbers(text, count))?;
    Ok(PyArray1::from_vec(py, numbers))
}

/// The integers of a comma-joined column (`count` of them, when given).
#[pyfunction]
#[pyo3(signature = (text, count = None))]
fn parse_integers<'py>(py: Python<'py>, text: &str, count: Option<usize>) -> PyResult<Rows<'py>> {
    let numbers = py.detach(|| joined::parse_integers(text, count))?;
    Ok(PyArray1::from_vec(py, numbers))
}

/// Whether `word` occurs in `value` as a word of its own (no letter or digit
/// right before or after it).
#[pyfunction]
fn has_word(value: &str, word: &str) -> bool {
    words::has_word(value, word)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTextColumn>()?;
    m.add_function(wrap_pyfunction!(parse_numbers, m)?)?;
    m.add_function(wrap_pyfunction!(parse_integers, m)?)?;
    m.add_function(wrap_pyfunction!(has_word, m)?)?;
    Ok(())
}
