//! Similarity vectors: quantising them into codes and scanning codes and rows.

#[cfg(target_arch = "x86_64")]
mod avx2;
pub mod quantize;
pub mod similarity;
