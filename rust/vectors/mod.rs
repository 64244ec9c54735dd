//! Similarity vectors: quantising them into codes and scanning codes and rows.

#[cfg(target_arch = "x86_64")]
mod avx2;
pub mod people;
pub mod quantize;
pub mod similarity;

/// The kernel the 2-bit scan runs on this CPU: `"avx2"` where the CPU has AVX2 (codes
/// of 128 values and more), else `"portable"`, which the compiler vectorises for the
/// target (SSE2 on x86-64, NEON on aarch64).
#[must_use]
pub fn scan_kernel() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        return "avx2";
    }
    "portable"
}

#[cfg(test)]
mod tests {
    #[test]
    fn scan_kernel_is_avx2_exactly_where_the_cpu_has_it() {
        #[cfg(target_arch = "x86_64")]
        let expected = if is_x86_feature_detected!("avx2") {
            "avx2"
        } else {
            "portable"
        };
        #[cfg(not(target_arch = "x86_64"))]
        let expected = "portable";
        assert_eq!(super::scan_kernel(), expected);
    }
}
