//! The 2-bit scan in AVX2: 32 code bytes per instruction instead of one table load
//! per byte.
//!
//! Each 32-byte chunk of a code is split into its four 2-bit planes (the slots
//! 4j, 4j+1, 4j+2, 4j+3 of every byte j); a byte shuffle turns each plane into decoded
//! levels, and `maddubs` multiplies them with the query's levels of the same slots.
//! Codes whose length is not a multiple of 32 are read with a last chunk that
//! overlaps the one before; the overlap, and the padding slots past the last value,
//! have weight zero, so every slot counts exactly once. Sums stay integers and equal
//! the table kernel's.
//!
//! The one module of the crate with unsafe code: intrinsics are unsafe to call, and
//! run here only where the CPU has AVX2 (a query gets [`Weights`] only then, and
//! [`scan_if_prepared`] scans only queries that have them).
#![allow(
    unsafe_code,
    reason = "SIMD intrinsics are unsafe to call; this module checks the CPU first"
)]

use std::arch::x86_64::{
    __m256i, _mm256_add_epi16, _mm256_add_epi32, _mm256_and_si256, _mm256_broadcastsi128_si256,
    _mm256_castsi256_si128, _mm256_extracti128_si256, _mm256_loadu_si256, _mm256_madd_epi16,
    _mm256_maddubs_epi16, _mm256_set1_epi16, _mm256_set1_epi8, _mm256_setzero_si256,
    _mm256_shuffle_epi8, _mm256_srli_epi16, _mm_add_epi32, _mm_cvtsi128_si32, _mm_loadu_si128,
    _mm_shuffle_epi32,
};

use crate::vectors::similarity::{level_at, scan_code_range, CodeQuery, Codes, TopK};

pub struct Weights {
    /// Start byte of each 32-byte chunk of a code.
    offsets: Vec<usize>,
    /// Query level per slot, index `chunk * 4 + plane`; 0 where a slot must not count.
    query: Vec<[i8; 32]>,
    /// 1 where a slot counts for the candidate's norm, else 0.
    counted: Vec<[i8; 32]>,
    /// Candidate level plus `shift`, so that it is unsigned as `maddubs` needs.
    level: [u8; 16],
    /// Candidate level squared.
    square: [u8; 16],
    /// `shift` times the sum of the counted query levels, taken off the dot product.
    correction: i64,
}

impl Weights {
    pub fn new(query: &[u8], codes: &Codes<'_>) -> Option<Weights> {
        if codes.width < 32 || !is_x86_feature_detected!("avx2") {
            return None;
        }
        let levels = codes.levels.integer_levels();
        let shift = -levels.iter().copied().min().unwrap_or(0).min(0);
        let mut offsets: Vec<usize> = (0..codes.width / 32).map(|chunk| chunk * 32).collect();
        if codes.width % 32 != 0 {
            offsets.push(codes.width - 32);
        }
        let (mut weights, mut counted) = (Vec::new(), Vec::new());
        let mut covered = 0;
        let mut query_sum = 0i64;
        for &offset in &offsets {
            for plane in 0..4 {
                let (mut w, mut c) = ([0i8; 32], [0i8; 32]);
                for position in 0..32 {
                    let byte = offset + position;
                    let slot = 4 * byte + plane;
                    if byte >= covered && slot < codes.values {
                        let q = levels[level_at(query, slot)];
                        w[position] = i8::try_from(q).expect("levels are small integers");
                        c[position] = 1;
                        query_sum += i64::from(q);
                    }
                }
                weights.push(w);
                counted.push(c);
            }
            covered = offset + 32;
        }
        let (mut level, mut square) = ([0u8; 16], [0u8; 16]);
        for (x, &l) in levels.iter().enumerate() {
            level[x] = u8::try_from(l + shift).expect("shifted levels are 0 or more");
            square[x] = u8::try_from(l * l).expect("squared levels are at most 81");
        }
        Some(Weights {
            offsets,
            query: weights,
            counted,
            level,
            square,
            correction: i64::from(shift) * query_sum,
        })
    }
}

#[inline(always)]
#[allow(
    clippy::inline_always,
    reason = "four calls per 32 code bytes in the scan's inner loop"
)]
unsafe fn plane<const SHIFT: i32>(
    chunk: __m256i,
    weights: &Weights,
    index: usize,
    level: __m256i,
    square: __m256i,
    dot: __m256i,
    norm: __m256i,
) -> (__m256i, __m256i) {
    // 16-bit shifts carry bits across bytes; the mask keeps each byte's own two.
    let x = _mm256_and_si256(_mm256_srli_epi16::<SHIFT>(chunk), _mm256_set1_epi8(3));
    let q = _mm256_loadu_si256(weights.query[index].as_ptr().cast());
    let c = _mm256_loadu_si256(weights.counted[index].as_ptr().cast());
    let dot = _mm256_add_epi16(dot, _mm256_maddubs_epi16(_mm256_shuffle_epi8(level, x), q));
    let norm = _mm256_add_epi16(
        norm,
        _mm256_maddubs_epi16(_mm256_shuffle_epi8(square, x), c),
    );
    (dot, norm)
}

#[inline(always)]
#[allow(clippy::inline_always, reason = "two calls per code scanned")]
unsafe fn horizontal_sum(lanes: __m256i) -> i64 {
    let half = _mm_add_epi32(
        _mm256_castsi256_si128(lanes),
        _mm256_extracti128_si256::<1>(lanes),
    );
    let pairs = _mm_add_epi32(half, _mm_shuffle_epi32::<0b01_00_11_10>(half));
    let total = _mm_add_epi32(pairs, _mm_shuffle_epi32::<0b10_11_00_01>(pairs));
    i64::from(_mm_cvtsi128_si32(total))
}

#[target_feature(enable = "avx2")]
#[allow(clippy::cast_sign_loss, reason = "a norm is a sum of squares")]
unsafe fn sums(weights: &Weights, code: &[u8]) -> (i64, u64) {
    let table = |bytes: &[u8; 16]| unsafe {
        _mm256_broadcastsi128_si256(_mm_loadu_si128(bytes.as_ptr().cast()))
    };
    let (level, square) = (table(&weights.level), table(&weights.square));
    let ones = _mm256_set1_epi16(1);
    let (mut dot, mut norm) = (_mm256_setzero_si256(), _mm256_setzero_si256());
    for (chunk, &offset) in weights.offsets.iter().enumerate() {
        debug_assert!(offset + 32 <= code.len());
        // In bounds: every offset is at most the code's length minus 32.
        let bytes = _mm256_loadu_si256(code.as_ptr().add(offset).cast());
        let zero = _mm256_setzero_si256();
        let (d, n) = plane::<6>(bytes, weights, 4 * chunk, level, square, zero, zero);
        let (d, n) = plane::<4>(bytes, weights, 4 * chunk + 1, level, square, d, n);
        let (d, n) = plane::<2>(bytes, weights, 4 * chunk + 2, level, square, d, n);
        let (d, n) = plane::<0>(bytes, weights, 4 * chunk + 3, level, square, d, n);
        // Four planes of at most 2·81 per 16-bit lane fit; widen before the next chunk.
        dot = _mm256_add_epi32(dot, _mm256_madd_epi16(d, ones));
        norm = _mm256_add_epi32(norm, _mm256_madd_epi16(n, ones));
    }
    (
        horizontal_sum(dot) - weights.correction,
        horizontal_sum(norm) as u64,
    )
}

/// # Safety
/// The CPU must have AVX2, and every query must carry its `Weights`.
#[target_feature(enable = "avx2")]
unsafe fn scan(
    codes: &Codes<'_>,
    prepared: &[CodeQuery],
    start: usize,
    end: usize,
    found: &mut [TopK],
) {
    scan_code_range(codes, prepared, start, end, found, |query, code| unsafe {
        sums(query.simd.as_ref().unwrap_unchecked(), code)
    });
}
/// Scans rows `start..end` with this kernel when every query has its weights (made
/// only where the CPU has AVX2); false, with nothing scanned, otherwise.
pub fn scan_if_prepared(
    codes: &Codes<'_>,
    prepared: &[CodeQuery],
    start: usize,
    end: usize,
    found: &mut [TopK],
) -> bool {
    if !prepared.iter().all(|query| query.simd.is_some()) {
        return false;
    }
    // SAFETY: weights exist only where the CPU has AVX2 (`Weights::new` checks).
    unsafe { scan(codes, prepared, start, end, found) };
    true
}

/// The kernel's sums of one code, for comparing with the table kernel in tests.
#[cfg(test)]
pub fn checked_sums(weights: &Weights, code: &[u8]) -> (i64, u64) {
    assert!(is_x86_feature_detected!("avx2") && code.len() >= 32);
    // SAFETY: AVX2 is there (checked above), and weights were made for this width.
    unsafe { sums(weights, code) }
}

/// The grouping's cosines of face rows with a tile of centroids, compiled for AVX2
/// (`vectors::people::tile_cosines`, vectorised eight floats wide); false, with
/// nothing done, where the CPU lacks AVX2.
pub fn tile_cosines(rows: &[&[f32]], tile: &[f32], dims: usize, out: &mut [f32]) -> bool {
    if !is_x86_feature_detected!("avx2") {
        return false;
    }
    // SAFETY: the CPU has AVX2 (checked above); the body is safe Rust.
    unsafe { tile_cosines_avx2(rows, tile, dims, out) };
    true
}

#[target_feature(enable = "avx2")]
unsafe fn tile_cosines_avx2(rows: &[&[f32]], tile: &[f32], dims: usize, out: &mut [f32]) {
    crate::vectors::people::tile_cosines(rows, tile, dims, out);
}
