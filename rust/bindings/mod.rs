//! The Python face of the core: each file binds one group of modules, converting
//! Python values to plain Rust types and back, and releasing the GIL around the work.

pub mod catalog;
pub mod errors;
pub mod fs;
pub mod vectors;
