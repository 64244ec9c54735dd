//! Similarity vectors: quantising them into codes and scanning codes and rows.

pub mod quantize;
pub mod similarity;
