//! Quantising float vectors into packed 2-bit codes and into int8 rows.
//!
//! The 2-bit code is HomeGallery's similarity code and its generalisation: keep every
//! `stride`-th value, map each kept value to a level q in 0..=3, pack four levels per
//! byte with the first value in the two highest bits. Two level shapes exist:
//!
//! * [`Levels::Sqrt`] (HomeGallery): `q = round(3 * sqrt(clamp(v / scale, 0, 1)))`,
//!   decoded as `(q / 3)^2`. Made for ReLU activations, which are never negative and
//!   are dense near zero; the square root spends the levels where the values are.
//! * [`Levels::Signed`]: `q = round(1.5 * (clamp(v / scale, -1, 1) + 1))`, decoded as
//!   `(2q - 3) / 3`. For embeddings with both signs (CLIP and most others), where
//!   clamping at zero would throw half of the information away.
//!
//! Rounding is half up, as JavaScript's `Math.round`, and the arithmetic is done in f64
//! like the browser code that reads HomeGallery's codes, so the same float gives the
//! same code on both sides.

use rayon::prelude::*;
use std::fmt;

use crate::pool::with_threads;

/// How a kept value maps to one of four levels, and how a level is decoded again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Levels {
    Sqrt,
    Signed,
}

impl Levels {
    /// The level names Python uses for this enum.
    pub fn parse(name: &str) -> Option<Levels> {
        match name {
            "sqrt" => Some(Levels::Sqrt),
            "signed" => Some(Levels::Signed),
            _ => None,
        }
    }

    /// Decoded levels as small integers proportional to the real ones.
    ///
    /// Cosine similarity does not change when every value is scaled by the same factor,
    /// so `(q/3)^2` can be scanned as `q^2` and `(2q-3)/3` as `2q-3`: exact integer sums
    /// instead of float ones, identical on every machine and in the numpy reference.
    pub fn integer_levels(self) -> [i32; 4] {
        match self {
            Levels::Sqrt => [0, 1, 4, 9],
            Levels::Signed => [-3, -1, 1, 3],
        }
    }

    /// The level of one value already divided by the scale.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "the position is clamped to 0..=3 before the cast"
    )]
    pub fn level(self, x: f64) -> u8 {
        let position = match self {
            Levels::Sqrt => 3.0 * x.clamp(0.0, 1.0).sqrt(),
            Levels::Signed => 1.5 * (x.clamp(-1.0, 1.0) + 1.0),
        };
        // `position` is never negative here, where rounding half away from zero is
        // rounding half up.
        position.round() as u8
    }
}

/// Everything that decides the code of a vector.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CodeFormat {
    pub dims: usize,
    pub stride: usize,
    pub scale: f64,
    pub levels: Levels,
    /// Divide each vector by its L2 norm before the scale, so one scale fits vectors of
    /// any length (cosine ignores the length anyway).
    pub normalize: bool,
}

impl CodeFormat {
    /// Number of values kept from a vector: indices 0, stride, 2·stride, …
    pub fn values(&self) -> usize {
        self.dims.div_ceil(self.stride)
    }

    /// Bytes of one packed code.
    pub fn code_bytes(&self) -> usize {
        self.values().div_ceil(4)
    }

    pub fn check(&self) -> Result<(), QuantizeError> {
        if self.dims == 0 || self.stride == 0 {
            return Err(QuantizeError::Format(format!(
                "dims ({}) and stride ({}) must be at least 1",
                self.dims, self.stride
            )));
        }
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(QuantizeError::Format(format!(
                "scale must be a positive finite number, not {}",
                self.scale
            )));
        }
        Ok(())
    }
}

/// Why vectors could not be quantised.
#[derive(Debug, Clone, PartialEq)]
pub enum QuantizeError {
    Format(String),
    Shape(String),
    NonFinite {
        row: usize,
        column: usize,
        value: f32,
    },
}

impl fmt::Display for QuantizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuantizeError::Format(message) | QuantizeError::Shape(message) => f.write_str(message),
            QuantizeError::NonFinite { row, column, value } => write!(
                f,
                "vector {row} has a non-finite value ({value}) at position {column}; \
                 embeddings must be finite numbers"
            ),
        }
    }
}

impl std::error::Error for QuantizeError {}

/// Rows per parallel task: large enough that the split costs nothing measurable.
const ROWS_PER_TASK: usize = 1024;

fn first_non_finite(row: &[f32], index: usize) -> Result<(), QuantizeError> {
    match row.iter().position(|value| !value.is_finite()) {
        Some(column) => Err(QuantizeError::NonFinite {
            row: index,
            column,
            value: row[column],
        }),
        None => Ok(()),
    }
}

/// L2 norm summed left to right in f64, the order the numpy reference reproduces
/// with `cumsum`, so both agree to the last bit.
fn sequential_norm(row: &[f32]) -> f64 {
    let mut sum = 0.0f64;
    for &value in row {
        let value = f64::from(value);
        sum += value * value;
    }
    sum.sqrt()
}

fn quantize_row(row: &[f32], format: &CodeFormat, code: &mut [u8]) {
    // A zero vector has no direction: it keeps its zeros (norm taken as 1), which
    // decode to the level of zero, as in the browser.
    let norm = if format.normalize {
        match sequential_norm(row) {
            0.0 => 1.0,
            norm => norm,
        }
    } else {
        1.0
    };
    code.fill(0);
    for (slot, &value) in row.iter().step_by(format.stride).enumerate() {
        let q = format.levels.level(f64::from(value) / norm / format.scale);
        code[slot / 4] |= q << (6 - 2 * (slot % 4));
    }
}

/// Quantises `vectors` (rows of `format.dims` floats) into `codes` (rows of
/// `format.code_bytes()` bytes). Rejects the whole batch on the first non-finite value
/// (in row order), so a caller never stores codes of a partly broken batch.
pub fn quantize_codes(
    vectors: &[f32],
    format: &CodeFormat,
    codes: &mut [u8],
    threads: usize,
) -> Result<(), QuantizeError> {
    format.check()?;
    let dims = format.dims;
    let width = format.code_bytes();
    if vectors.len() % dims != 0 || codes.len() != vectors.len() / dims * width {
        return Err(QuantizeError::Shape(format!(
            "{} floats are not whole vectors of {dims} values for {} code bytes",
            vectors.len(),
            codes.len()
        )));
    }
    with_threads(threads, || {
        vectors
            .par_chunks(dims * ROWS_PER_TASK)
            .zip(codes.par_chunks_mut(width * ROWS_PER_TASK))
            .enumerate()
            .try_for_each(|(task, (rows, out))| {
                for (offset, (row, code)) in rows
                    .chunks_exact(dims)
                    .zip(out.chunks_exact_mut(width))
                    .enumerate()
                {
                    first_non_finite(row, task * ROWS_PER_TASK + offset)?;
                    quantize_row(row, format, code);
                }
                Ok(())
            })
    })
    .map_err(|error| earliest_error(vectors, dims).unwrap_or(error))
}

/// The first bad row in row order: parallel tasks may report a later one first.
fn earliest_error(vectors: &[f32], dims: usize) -> Option<QuantizeError> {
    vectors
        .chunks_exact(dims)
        .enumerate()
        .find_map(|(index, row)| first_non_finite(row, index).err())
}

/// Largest magnitude of an int8 value; -128 is left out so the range is symmetric.
pub const INT8_MAX: f32 = 127.0;

/// Quantises rows to int8 with one scale per row (`value ≈ code * scale`), the
/// full-precision form kept for re-ranking: a quarter of float32's size, and cosines
/// within a few thousandths of the float ones, below what a ranking depends on.
pub fn quantize_int8(
    vectors: &[f32],
    dims: usize,
    codes: &mut [i8],
    scales: &mut [f32],
    threads: usize,
) -> Result<(), QuantizeError> {
    if dims == 0 || vectors.len() % dims != 0 || codes.len() != vectors.len() {
        return Err(QuantizeError::Shape(format!(
            "{} floats are not whole vectors of {dims} values",
            vectors.len()
        )));
    }
    if scales.len() != vectors.len() / dims {
        return Err(QuantizeError::Shape(format!(
            "{} scales for {} vectors",
            scales.len(),
            vectors.len() / dims
        )));
    }
    with_threads(threads, || {
        vectors
            .par_chunks(dims * ROWS_PER_TASK)
            .zip(codes.par_chunks_mut(dims * ROWS_PER_TASK))
            .zip(scales.par_chunks_mut(ROWS_PER_TASK))
            .enumerate()
            .try_for_each(|(task, ((rows, out), row_scales))| {
                for (offset, ((row, code), scale)) in rows
                    .chunks_exact(dims)
                    .zip(out.chunks_exact_mut(dims))
                    .zip(row_scales.iter_mut())
                    .enumerate()
                {
                    first_non_finite(row, task * ROWS_PER_TASK + offset)?;
                    *scale = int8_row(row, code);
                }
                Ok(())
            })
    })
    .map_err(|error| earliest_error(vectors, dims).unwrap_or(error))
}

#[allow(
    clippy::cast_possible_truncation,
    reason = "values are rounded and clamped to -127..=127 before the cast"
)]
fn int8_row(row: &[f32], code: &mut [i8]) -> f32 {
    let largest = row.iter().fold(0.0f32, |largest, v| largest.max(v.abs()));
    // A row of tiny subnormals has a scale that underflows to zero; it decodes to zeros
    // whatever the codes are, so it is stored as the zero row it effectively is.
    let scale = largest / INT8_MAX;
    if scale == 0.0 {
        code.fill(0);
        return 0.0;
    }
    for (out, &value) in code.iter_mut().zip(row) {
        *out = (value / scale).round().clamp(-INT8_MAX, INT8_MAX) as i8;
    }
    scale
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOMEGALLERY: CodeFormat = CodeFormat {
        dims: 1024,
        stride: 3,
        scale: 2.875,
        levels: Levels::Sqrt,
        normalize: false,
    };

    #[test]
    fn homegallery_sizes() {
        assert_eq!(HOMEGALLERY.values(), 342);
        assert_eq!(HOMEGALLERY.code_bytes(), 86);
    }

    #[test]
    fn sqrt_levels_by_hand() {
        // 3·sqrt(x) crosses 0.5, 1.5, 2.5 at x = 1/36, 1/4, 25/36.
        let levels = Levels::Sqrt;
        assert_eq!(levels.level(-1.0), 0);
        assert_eq!(levels.level(0.02), 0);
        assert_eq!(levels.level(0.03), 1);
        assert_eq!(levels.level(0.25), 2);
        assert_eq!(levels.level(0.69), 2);
        assert_eq!(levels.level(0.70), 3);
        assert_eq!(levels.level(5.0), 3);
    }

    #[test]
    fn signed_levels_by_hand() {
        // Thresholds halfway between the levels -1, -1/3, 1/3, 1: at -2/3, 0, 2/3.
        let levels = Levels::Signed;
        assert_eq!(levels.level(-2.0), 0);
        assert_eq!(levels.level(-0.67), 0);
        assert_eq!(levels.level(-0.66), 1);
        assert_eq!(levels.level(-0.01), 1);
        assert_eq!(levels.level(0.0), 2); // 1.5 rounds half up
        assert_eq!(levels.level(0.66), 2);
        assert_eq!(levels.level(0.67), 3);
    }

    #[test]
    fn packs_first_value_in_high_bits() {
        let format = CodeFormat {
            dims: 5,
            stride: 1,
            scale: 1.0,
            levels: Levels::Sqrt,
            normalize: false,
        };
        let vector = [1.0f32, 0.0, 0.25, 0.03, 1.0];
        let mut code = [0u8; 2];
        quantize_codes(&vector, &format, &mut code, 1).unwrap();
        assert_eq!(code, [0b11_00_10_01, 0b11_00_00_00]);
    }

    #[test]
    fn keeps_every_third_value() {
        let mut vector = vec![0.0f32; 1024];
        vector[0] = 2.875;
        vector[1] = 2.875; // dropped
        vector[3] = 2.875;
        vector[1023] = 2.875; // index 1023 = 3·341, the last kept value
        let mut code = vec![0u8; 86];
        quantize_codes(&vector, &HOMEGALLERY, &mut code, 1).unwrap();
        assert_eq!(code[0], 0b11_11_00_00);
        assert_eq!(code[85], 0b00_11_00_00); // 341 = 4·85 + 1
        assert!(code[1..85].iter().all(|&b| b == 0));
    }

    #[test]
    fn rejects_non_finite_with_position() {
        let format = CodeFormat {
            dims: 3,
            ..HOMEGALLERY
        };
        let mut vectors = vec![0.5f32; 3 * 3000];
        vectors[3 * 2500 + 2] = f32::NAN;
        vectors[3 * 2900] = f32::INFINITY;
        let mut codes = vec![0u8; 3000];
        let error = quantize_codes(&vectors, &format, &mut codes, 2).unwrap_err();
        assert!(matches!(
            error,
            QuantizeError::NonFinite {
                row: 2500,
                column: 2,
                ..
            }
        ));
        assert!(error.to_string().contains("vector 2500"));
        assert!(error.to_string().contains("position 2"));
    }

    #[test]
    fn int8_round_trip() {
        let vectors = [0.5f32, -1.0, 0.25, 0.0, 0.0, 0.0];
        let mut codes = [0i8; 6];
        let mut scales = [0f32; 2];
        quantize_int8(&vectors, 3, &mut codes, &mut scales, 1).unwrap();
        assert_eq!(codes, [64, -127, 32, 0, 0, 0]);
        assert_eq!(scales[1].to_bits(), 0.0f32.to_bits());
        assert!((scales[0] - 1.0 / 127.0).abs() < 1e-9);
    }

    #[test]
    fn int8_subnormal_row_is_zero() {
        let vectors = [1e-45f32, 0.0];
        let mut codes = [1i8; 2];
        let mut scales = [1f32; 1];
        quantize_int8(&vectors, 2, &mut codes, &mut scales, 1).unwrap();
        assert_eq!(codes, [0, 0]);
        assert_eq!(scales[0].to_bits(), 0.0f32.to_bits());
    }
}
