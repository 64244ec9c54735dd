//! The catalog build: what extract stored, made into entries, their docs and rows.

pub mod build_plan;
pub mod casefold;
pub mod entry_doc;
pub mod entry_make;
pub mod entry_rows;
pub mod fields;
pub mod grouping;
pub mod part_write;
pub mod storage_layout;
pub mod storage_read;
pub mod storage_record;
