//! The file system side of indexing: the walk of a source, its exclude rules, the
//! checksums of files, and the check that a file lies inside the sources.

pub mod checksum;
pub mod exclude;
pub mod walk;
pub mod within;
