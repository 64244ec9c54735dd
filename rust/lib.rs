//! Python bindings of the homegallery hot paths.
//!
//! Each hot path lives in a module of its own with plain Rust types so that it can be
//! tested with `cargo test` without Python; this file only binds them.

use pyo3::prelude::*;

/// Version of the compiled core, so Python can detect a stale extension build.
#[pyfunction]
fn core_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(core_version, m)?)?;
    Ok(())
}
