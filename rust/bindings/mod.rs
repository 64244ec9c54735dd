//! The Python face of the core: each file binds one group of modules, converting
//! Python values to plain Rust types and back, and releasing the GIL around the work.
#![allow(
    clippy::needless_pass_by_value,
    reason = "pyo3 hands a function its arguments as owned values"
)]

pub mod catalog;
pub mod errors;
pub mod fs;
pub mod search;
pub mod vectors;
