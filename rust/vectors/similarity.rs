//! Top-k cosine scans: packed 2-bit codes, float32 rows and int8 rows.
//!
//! The 2-bit scan is the hot path of `similar:` queries. For each query it builds one
//! table per code byte position: entry `b` holds, for a candidate byte `b` at that
//! position, the query-candidate dot product of its four levels and the candidate's own
//! squared norm, packed into one u64 (dot plus a bias in the low half, norm in the high
//! half). A candidate then costs one table load and one add per byte, with integer sums
//! that are exact, so scores equal the numpy reference to the last bit.
//!
//! Candidates are split in ranges across rayon threads; each range keeps its own
//! bounded heap and the heaps are merged at the end. Results are ordered by score,
//! best first, and among equal scores by row, so the order is the one of a stable
//! brute-force sort and never depends on the thread count.

use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fmt;

use crate::pool::{thread_count, with_threads};
#[cfg(target_arch = "x86_64")]
use crate::vectors::avx2;
use crate::vectors::quantize::Levels;

/// One result: a row of the scanned matrix and its cosine similarity to the query.
#[derive(Clone, Copy, Debug)]
pub struct Match {
    pub index: usize,
    pub score: f64,
}

// A Match is "greater" when it ranks worse, so a max-heap keeps the worst on top, and
// a sorted vector lists the best first.
impl Ord for Match {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.index.cmp(&other.index))
    }
}

impl PartialOrd for Match {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Match {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Match {}

/// The best `k` matches with a score of at least `min_score`.
#[derive(Clone, Debug)]
pub struct TopK {
    k: usize,
    min_score: f64,
    heap: BinaryHeap<Match>,
}

impl TopK {
    pub fn new(k: usize, min_score: f64) -> TopK {
        TopK {
            k,
            min_score,
            heap: BinaryHeap::new(),
        }
    }

    /// The lowest score that can still enter.
    #[inline]
    fn floor(&self) -> f64 {
        if self.heap.len() < self.k {
            self.min_score
        } else {
            self.heap.peek().map_or(f64::INFINITY, |worst| worst.score)
        }
    }

    #[inline]
    pub fn offer(&mut self, index: usize, score: f64) {
        // Adding 0.0 turns -0.0 into 0.0: both are the same score to a sort.
        let candidate = Match {
            index,
            score: score + 0.0,
        };
        // NaN compares false, so it never enters either.
        let passes = candidate.score >= self.min_score;
        if !passes || self.k == 0 {
            return;
        }
        if self.heap.len() < self.k {
            self.heap.push(candidate);
        } else if let Some(mut worst) = self.heap.peek_mut() {
            if candidate < *worst {
                *worst = candidate;
            }
        }
    }

    pub fn merge(mut self, other: TopK) -> TopK {
        for candidate in other.heap {
            self.offer(candidate.index, candidate.score);
        }
        self
    }

    pub fn into_sorted(self) -> Vec<Match> {
        self.heap.into_sorted_vec()
    }
}

/// Why a scan could not run.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanError {
    Shape(String),
    NonFiniteQuery { query: usize, column: usize },
    NonFiniteRow { row: usize },
    RowOutOfRange { row: i64, rows: usize },
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::Shape(message) => f.write_str(message),
            ScanError::NonFiniteQuery { query, column } => write!(
                f,
                "query {query} has a non-finite value at position {column}; \
                 queries must be finite numbers"
            ),
            ScanError::NonFiniteRow { row } => write!(
                f,
                "row {row} has a non-finite value; vectors must be finite numbers"
            ),
            ScanError::RowOutOfRange { row, rows } => {
                write!(f, "candidate row {row} is outside the {rows} rows scanned")
            }
        }
    }
}

impl std::error::Error for ScanError {}

/// Cosine from integer or float sums; 0 where either vector has no direction.
#[inline]
fn cosine(dot: f64, query_norm: f64, row_norm: f64) -> f64 {
    if query_norm == 0.0 || row_norm == 0.0 {
        0.0
    } else {
        dot / (query_norm * row_norm).sqrt()
    }
}

/// Rows scanned between two passes over the queries of a batch: a block of codes stays
/// in L1 while every query's table reads it.
const BLOCK_ROWS: usize = 256;

/// Fewest rows worth a parallel task.
const MIN_TASK_ROWS: usize = 8192;

/// Splits `rows` into ranges for the threads and merges their per-query results.
fn split_rows<F>(
    rows: usize,
    queries: usize,
    k: usize,
    min_score: f64,
    threads: usize,
    scan: F,
) -> Result<Vec<TopK>, ScanError>
where
    F: Fn(usize, usize, &mut [TopK]) -> Result<(), ScanError> + Sync,
{
    let fresh = || vec![TopK::new(k, min_score); queries];
    let workers = thread_count(threads);
    if workers <= 1 || rows <= MIN_TASK_ROWS {
        let mut found = fresh();
        scan(0, rows, &mut found)?;
        return Ok(found);
    }
    // A few ranges per thread even out threads that get less of the CPU.
    let per_task = rows.div_ceil(workers * 4).max(MIN_TASK_ROWS);
    let tasks = rows.div_ceil(per_task);
    with_threads(threads, || {
        (0..tasks)
            .into_par_iter()
            .map(|task| {
                let mut found = fresh();
                let start = task * per_task;
                scan(start, (start + per_task).min(rows), &mut found)?;
                Ok(found)
            })
            .try_reduce(fresh, |left, right| {
                Ok(left
                    .into_iter()
                    .zip(right)
                    .map(|(a, b)| a.merge(b))
                    .collect())
            })
    })
}

fn sorted(found: Vec<TopK>) -> Vec<Vec<Match>> {
    found.into_iter().map(TopK::into_sorted).collect()
}

/// Packed 2-bit codes: `width` bytes per row holding `values` levels.
#[derive(Clone, Copy, Debug)]
pub struct Codes<'a> {
    pub data: &'a [u8],
    pub width: usize,
    pub values: usize,
    pub levels: Levels,
}

impl Codes<'_> {
    fn check(&self) -> Result<usize, ScanError> {
        if self.width == 0 || self.values.div_ceil(4) != self.width {
            return Err(ScanError::Shape(format!(
                "{} values do not fill codes of {} bytes",
                self.values, self.width
            )));
        }
        if self.width > 1 << 20 {
            return Err(ScanError::Shape(format!(
                "codes of {} bytes are longer than the scan supports (1 MiB)",
                self.width
            )));
        }
        if self.data.len() % self.width != 0 {
            return Err(ScanError::Shape(format!(
                "{} bytes are not whole codes of {} bytes",
                self.data.len(),
                self.width
            )));
        }
        Ok(self.data.len() / self.width)
    }
}

/// Bias added to each byte's dot product so the low half of a table entry never goes
/// negative: four products of at most max|level|² each.
fn byte_bias(levels: Levels) -> i64 {
    let largest = i64::from(
        levels
            .integer_levels()
            .iter()
            .map(|l| l.abs())
            .max()
            .unwrap_or(0),
    );
    4 * largest * largest
}

pub(super) fn level_at(code: &[u8], slot: usize) -> usize {
    ((code[slot / 4] >> (6 - 2 * (slot % 4))) & 3) as usize
}

/// A query prepared for scanning: per-position lookup tables for any CPU, and the
/// weights of the AVX2 kernel where the CPU has it.
pub(super) struct CodeQuery {
    tables: Vec<[u64; 256]>,
    bias: i64,
    norm: f64,
    #[cfg(target_arch = "x86_64")]
    pub(super) simd: Option<avx2::Weights>,
}

impl CodeQuery {
    #[allow(
        clippy::cast_precision_loss,
        reason = "the norm is at most 81 per value, far below 2^53"
    )]
    fn new(query: &[u8], codes: &Codes<'_>) -> CodeQuery {
        let level = codes.levels.integer_levels();
        let mut norm = 0i64;
        for slot in 0..codes.values {
            let q = i64::from(level[level_at(query, slot)]);
            norm += q * q;
        }
        #[cfg(target_arch = "x86_64")]
        let simd = avx2::Weights::new(query, codes);
        #[cfg(target_arch = "x86_64")]
        let need_tables = simd.is_none();
        #[cfg(not(target_arch = "x86_64"))]
        let need_tables = true;
        // The tables cost about 0.1 ms a query: made only for the kernel that reads them.
        let (tables, bias) = if need_tables {
            Self::tables(query, codes)
        } else {
            (Vec::new(), 0)
        };
        CodeQuery {
            tables,
            bias,
            norm: norm as f64,
            #[cfg(target_arch = "x86_64")]
            simd,
        }
    }

    /// Per byte position, for each byte value: dot product with the query's levels
    /// plus a bias (low half) and the byte's own squared norm (high half).
    #[allow(
        clippy::cast_sign_loss,
        reason = "the bias keeps each dot product at zero or above, and norms are squares"
    )]
    fn tables(query: &[u8], codes: &Codes<'_>) -> (Vec<[u64; 256]>, i64) {
        let level = codes.levels.integer_levels();
        let bias = byte_bias(codes.levels);
        let mut tables = vec![[0u64; 256]; codes.width];
        for (position, table) in tables.iter_mut().enumerate() {
            // Slots past `values` are padding: they count for neither sum.
            let slots = (codes.values - 4 * position).min(4);
            for (byte, entry) in table.iter_mut().enumerate() {
                let (mut dot, mut own) = (bias, 0i64);
                for slot in 0..slots {
                    let shift = 6 - 2 * slot;
                    let c = i64::from(level[(byte >> shift) & 3]);
                    let q = i64::from(level[((query[position] as usize) >> shift) & 3]);
                    dot += q * c;
                    own += c * c;
                }
                *entry = dot as u64 | (own as u64) << 32;
            }
        }
        let width = i64::try_from(codes.width).expect("codes are at most 1 MiB wide");
        (tables, bias * width)
    }

    /// Dot product with the query and squared norm of one candidate code.
    #[inline(always)]
    #[allow(
        clippy::inline_always,
        clippy::cast_possible_wrap,
        reason = "the inner loop of the scan; the low half is below 2^32 after the mask"
    )]
    fn sums(&self, code: &[u8]) -> (i64, u64) {
        let mut lanes = [0u64; 4];
        let mut tables = self.tables.chunks_exact(4);
        let mut bytes = code.chunks_exact(4);
        for (table, byte) in (&mut tables).zip(&mut bytes) {
            lanes[0] += table[0][byte[0] as usize];
            lanes[1] += table[1][byte[1] as usize];
            lanes[2] += table[2][byte[2] as usize];
            lanes[3] += table[3][byte[3] as usize];
        }
        for (table, &byte) in tables.remainder().iter().zip(bytes.remainder()) {
            lanes[0] += table[byte as usize];
        }
        let total = lanes[0] + lanes[1] + lanes[2] + lanes[3];
        ((total & 0xffff_ffff) as i64 - self.bias, total >> 32)
    }
}

/// Offers one row to the heap, skipping the square root for rows that cannot enter.
#[inline(always)]
#[allow(
    clippy::inline_always,
    clippy::cast_precision_loss,
    reason = "called for every row scanned; dot products of codes are far below 2^53"
)]
fn consider(top: &mut TopK, row: usize, dot: i64, query_norm: f64, norm: f64) {
    let floor = top.floor();
    let dot = dot as f64;
    if floor > 0.0 {
        // score >= floor  <=>  dot >= 0 and dot² >= floor²·|q|²·|c|². The slack keeps
        // rounding from dropping a row that the exact score would keep.
        if dot <= 0.0 || dot * dot < floor * floor * query_norm * norm * (1.0 - 1e-9) {
            return;
        }
    }
    top.offer(row, cosine(dot, query_norm, norm));
}

/// Scans rows `start..end` in blocks, every query over each block.
#[inline(always)]
#[allow(
    clippy::inline_always,
    clippy::cast_precision_loss,
    reason = "inlined into each kernel so its sums inline too; norms are far below 2^53"
)]
pub(super) fn scan_code_range<F>(
    codes: &Codes<'_>,
    prepared: &[CodeQuery],
    start: usize,
    end: usize,
    found: &mut [TopK],
    sums: F,
) where
    F: Fn(&CodeQuery, &[u8]) -> (i64, u64),
{
    let mut block = start;
    while block < end {
        let stop = (block + BLOCK_ROWS).min(end);
        let data = &codes.data[block * codes.width..stop * codes.width];
        for (query, top) in prepared.iter().zip(found.iter_mut()) {
            for (offset, code) in data.chunks_exact(codes.width).enumerate() {
                let (dot, norm) = sums(query, code);
                consider(top, block + offset, dot, query.norm, norm as f64);
            }
        }
        block = stop;
    }
}

fn scan_code_rows(
    codes: &Codes<'_>,
    prepared: &[CodeQuery],
    start: usize,
    end: usize,
    found: &mut [TopK],
) {
    #[cfg(target_arch = "x86_64")]
    if avx2::scan_if_prepared(codes, prepared, start, end, found) {
        return;
    }
    scan_code_range(codes, prepared, start, end, found, CodeQuery::sums);
}

/// Best `k` codes for each query (rows of `queries`, each `codes.width` bytes), with
/// cosine of the decoded levels of at least `min_score`.
pub fn scan_codes(
    codes: &Codes<'_>,
    queries: &[u8],
    k: usize,
    min_score: f64,
    threads: usize,
) -> Result<Vec<Vec<Match>>, ScanError> {
    let rows = codes.check()?;
    if queries.len() % codes.width != 0 {
        return Err(ScanError::Shape(format!(
            "queries of {} bytes are not whole codes of {} bytes",
            queries.len(),
            codes.width
        )));
    }
    let prepared: Vec<CodeQuery> = queries
        .chunks_exact(codes.width)
        .map(|query| CodeQuery::new(query, codes))
        .collect();
    let k = k.min(rows);
    let found = split_rows(
        rows,
        prepared.len(),
        k,
        min_score,
        threads,
        |start, end, found| {
            scan_code_rows(codes, &prepared, start, end, found);
            Ok(())
        },
    )?;
    Ok(sorted(found))
}

/// Element types of the full-precision scans.
pub trait Element: Copy + Sync {
    fn is_finite(self) -> bool;
    /// Dot product of `query` and `row`, and the squared norm of `row`.
    fn dot_norm(query: &[Self], row: &[Self]) -> (f64, f64);
}

impl Element for f32 {
    fn is_finite(self) -> bool {
        f32::is_finite(self)
    }

    #[inline]
    fn dot_norm(query: &[f32], row: &[f32]) -> (f64, f64) {
        // f64 sums: float32 products of tiny values would vanish and of large ones
        // overflow. Four independent lanes keep the adds pipelined.
        let (mut dot, mut norm) = ([0f64; 4], [0f64; 4]);
        let mut queries = query.chunks_exact(4);
        let mut values = row.chunks_exact(4);
        for (q, v) in (&mut queries).zip(&mut values) {
            for lane in 0..4 {
                let (q, v) = (f64::from(q[lane]), f64::from(v[lane]));
                dot[lane] += q * v;
                norm[lane] += v * v;
            }
        }
        for (&q, &v) in queries.remainder().iter().zip(values.remainder()) {
            let (q, v) = (f64::from(q), f64::from(v));
            dot[0] += q * v;
            norm[0] += v * v;
        }
        (dot.iter().sum(), norm.iter().sum())
    }
}

impl Element for i8 {
    fn is_finite(self) -> bool {
        true
    }

    #[inline]
    #[allow(
        clippy::cast_precision_loss,
        reason = "sums of at most 127^2 per value stay below 2^53 for any vector"
    )]
    fn dot_norm(query: &[i8], row: &[i8]) -> (f64, f64) {
        let (mut dot, mut norm) = ([0i32; 16], [0i32; 16]);
        let mut queries = query.chunks_exact(16);
        let mut values = row.chunks_exact(16);
        for (q, v) in (&mut queries).zip(&mut values) {
            for lane in 0..16 {
                dot[lane] += i32::from(q[lane]) * i32::from(v[lane]);
                norm[lane] += i32::from(v[lane]) * i32::from(v[lane]);
            }
        }
        for (q, v) in queries.remainder().iter().zip(values.remainder()) {
            dot[0] += i32::from(*q) * i32::from(*v);
            norm[0] += i32::from(*v) * i32::from(*v);
        }
        // i64 sums: exact for any length a vector can have here.
        let sum = |lanes: [i32; 16]| lanes.iter().map(|&x| i64::from(x)).sum::<i64>() as f64;
        (sum(dot), sum(norm))
    }
}

/// Best `k` rows of `matrix` (rows of `dims` values) for each query by cosine, over all
/// rows or only over `candidates` (row numbers, e.g. the best of a 2-bit scan).
pub fn scan_rows<T: Element>(
    matrix: &[T],
    dims: usize,
    queries: &[T],
    candidates: Option<&[i64]>,
    k: usize,
    min_score: f64,
    threads: usize,
) -> Result<Vec<Vec<Match>>, ScanError> {
    if dims == 0 || matrix.len() % dims != 0 || queries.len() % dims != 0 {
        return Err(ScanError::Shape(format!(
            "matrix of {} values and queries of {} values are not whole rows of {dims}",
            matrix.len(),
            queries.len()
        )));
    }
    let rows = matrix.len() / dims;
    for (number, query) in queries.chunks_exact(dims).enumerate() {
        if let Some(column) = query.iter().position(|value| !value.is_finite()) {
            return Err(ScanError::NonFiniteQuery {
                query: number,
                column,
            });
        }
    }
    let query_norms: Vec<f64> = queries
        .chunks_exact(dims)
        .map(|query| T::dot_norm(query, query).1)
        .collect();
    if let Some(candidates) = candidates {
        if let Some(&row) = candidates
            .iter()
            .find(|&&row| usize::try_from(row).map_or(true, |row| row >= rows))
        {
            return Err(ScanError::RowOutOfRange { row, rows });
        }
    }
    let scanned = candidates.map_or(rows, <[i64]>::len);
    let k = k.min(scanned);
    let found = split_rows(
        scanned,
        query_norms.len(),
        k,
        min_score,
        threads,
        |start, end, found| {
            for position in start..end {
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_sign_loss,
                    reason = "every candidate was checked to be a row above"
                )]
                let row = candidates.map_or(position, |rows| rows[position] as usize);
                let values = &matrix[row * dims..(row + 1) * dims];
                for ((query, &query_norm), top) in queries
                    .chunks_exact(dims)
                    .zip(&query_norms)
                    .zip(found.iter_mut())
                {
                    let (dot, norm) = T::dot_norm(query, values);
                    if !(dot.is_finite() && norm.is_finite()) {
                        return Err(ScanError::NonFiniteRow { row });
                    }
                    top.offer(row, cosine(dot, query_norm, norm));
                }
            }
            Ok(())
        },
    )?;
    Ok(sorted(found))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute_force(scores: &[f64], k: usize, min_score: f64) -> Vec<usize> {
        let mut order: Vec<usize> = (0..scores.len())
            .filter(|&i| scores[i] >= min_score)
            .collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        order.truncate(k);
        order
    }

    fn decode(code: &[u8], values: usize, levels: Levels) -> Vec<f64> {
        let table = levels.integer_levels();
        (0..values)
            .map(|slot| f64::from(table[level_at(code, slot)]))
            .collect()
    }

    fn pseudo_random_bytes(count: usize, seed: u64) -> Vec<u8> {
        let mut state = seed;
        (0..count)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 56) as u8
            })
            .collect()
    }

    fn check_against_decoded(levels: Levels, values: usize, threads: usize) {
        let width = values.div_ceil(4);
        let rows = 20_000;
        let mut data = pseudo_random_bytes(rows * width, 7);
        data[5 * width..6 * width].fill(0); // a zero code
        let codes = Codes {
            data: &data,
            width,
            values,
            levels,
        };
        let query = data[3 * width..4 * width].to_vec();
        let found = scan_codes(&codes, &query, 50, -1.0, threads).unwrap();
        let q = decode(&query, values, levels);
        let scores: Vec<f64> = data
            .chunks_exact(width)
            .map(|code| {
                let c = decode(code, values, levels);
                let dot: f64 = q.iter().zip(&c).map(|(a, b)| a * b).sum();
                let qn: f64 = q.iter().map(|a| a * a).sum();
                let cn: f64 = c.iter().map(|a| a * a).sum();
                cosine(dot, qn, cn)
            })
            .collect();
        let expected = brute_force(&scores, 50, -1.0);
        let indices: Vec<usize> = found[0].iter().map(|m| m.index).collect();
        assert_eq!(indices, expected);
        assert_eq!(indices[0], 3);
        for m in &found[0] {
            assert_eq!(m.score.to_bits(), scores[m.index].to_bits()); // to the last bit
        }
    }

    #[test]
    fn code_scan_equals_brute_force() {
        check_against_decoded(Levels::Sqrt, 342, 1);
        check_against_decoded(Levels::Sqrt, 13, 2);
        check_against_decoded(Levels::Signed, 130, 2);
        check_against_decoded(Levels::Signed, 7, 1);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn simd_kernel_equals_tables() {
        if !is_x86_feature_detected!("avx2") {
            return;
        }
        for levels in [Levels::Sqrt, Levels::Signed] {
            for values in [125usize, 128, 129, 171, 342, 512, 1024, 2000] {
                let width = values.div_ceil(4);
                let mut data = pseudo_random_bytes(64 * width, values as u64);
                data[..width].fill(0xff); // padding bits set: they must not count
                let codes = Codes {
                    data: &data,
                    width,
                    values,
                    levels,
                };
                let query = CodeQuery::new(&data[width..2 * width], &codes);
                let weights = query.simd.as_ref().expect("AVX2 weights");
                let (tables, bias) = CodeQuery::tables(&data[width..2 * width], &codes);
                let query = CodeQuery {
                    tables,
                    bias,
                    norm: query.norm,
                    simd: None,
                };
                for code in data.chunks_exact(width) {
                    let simd = avx2::checked_sums(weights, code);
                    assert_eq!(simd, query.sums(code), "{levels:?} {values}");
                }
            }
        }
    }

    #[test]
    fn min_score_and_k_limit_results() {
        let data = pseudo_random_bytes(1000 * 86, 3);
        let codes = Codes {
            data: &data,
            width: 86,
            values: 342,
            levels: Levels::Sqrt,
        };
        let all = scan_codes(&codes, &data[..86], 5000, 0.5, 1).unwrap();
        assert!(all[0].len() <= 1000);
        assert!(all[0].iter().all(|m| m.score >= 0.5));
        assert!(scan_codes(&codes, &data[..86], 0, 0.5, 1).unwrap()[0].is_empty());
        let above_one = scan_codes(&codes, &data[..86], 10, 1.01, 1).unwrap();
        assert!(above_one[0].is_empty());
    }

    #[test]
    fn batch_equals_single_queries() {
        let data = pseudo_random_bytes(30_000 * 20, 11);
        let codes = Codes {
            data: &data,
            width: 20,
            values: 80,
            levels: Levels::Signed,
        };
        let queries = &data[..3 * 20];
        let batch = scan_codes(&codes, queries, 10, 0.0, 2).unwrap();
        for (number, query) in queries.chunks_exact(20).enumerate() {
            let single = scan_codes(&codes, query, 10, 0.0, 1).unwrap();
            let a: Vec<usize> = single[0].iter().map(|m| m.index).collect();
            let b: Vec<usize> = batch[number].iter().map(|m| m.index).collect();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn float_scan_finds_itself_and_rejects_nan() {
        let dims = 5;
        let matrix: Vec<f32> = (0..dims * 100)
            .map(|i| f32::from(u16::try_from((i * 37) % 11).unwrap()) - 5.0)
            .collect();
        let query = matrix[7 * dims..8 * dims].to_vec();
        let found = scan_rows(&matrix, dims, &query, None, 3, 0.0, 1).unwrap();
        assert!((found[0][0].score - 1.0).abs() < 1e-6);
        let mut broken = matrix.clone();
        broken[42 * dims + 1] = f32::NAN;
        let error = scan_rows(&broken, dims, &query, None, 3, 0.0, 1).unwrap_err();
        assert_eq!(error, ScanError::NonFiniteRow { row: 42 });
    }

    #[test]
    fn int8_scan_over_candidates() {
        let dims = 33;
        let matrix: Vec<i8> = (0..dims * 200)
            .map(|i| i8::try_from(i32::try_from((i * 7919) % 255).unwrap() - 127).unwrap())
            .collect();
        let query = matrix[10 * dims..11 * dims].to_vec();
        let candidates = [3i64, 10, 150];
        let found = scan_rows(&matrix, dims, &query, Some(&candidates), 10, -1.0, 1).unwrap();
        assert_eq!(found[0].len(), 3);
        assert_eq!(found[0][0].index, 10);
        assert_eq!(found[0][0].score.to_bits(), 1.0f64.to_bits());
        let error = scan_rows(&matrix, dims, &query, Some(&[200]), 1, 0.0, 1).unwrap_err();
        assert_eq!(
            error,
            ScanError::RowOutOfRange {
                row: 200,
                rows: 200
            }
        );
    }
}
