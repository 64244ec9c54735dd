//! What a search reads: the catalog's columns, crossed from SQLite as joined text and
//! held compact (`joined`, `text_column`), and what a word is (`words`).

pub mod joined;
pub mod text_column;
pub mod words;
