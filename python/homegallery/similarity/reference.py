"""Plain numpy versions of the Rust quantisers and scans.

They state the formulas as directly as numpy allows, so the property tests can hold
the Rust core to them, and the benchmarks measure the Rust core against them. They
compute exactly what the core computes (same f64 operations, same rounding, integer
sums where the core sums integers), so codes, int8 rows and 2-bit scores are equal to
the last bit; float32 scans differ only by summation order.

Scans decode in chunks of rows, so a 1M-row scan needs tens of MB, not gigabytes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from homegallery.similarity.formats import INTEGER_LEVELS, CodeFormat, Levels

Matches = tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]

CHUNK_ROWS = 16_384


def _round_half_up(position: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Exact half-up rounding (JavaScript's Math.round) of non-negative numbers.

    ``floor(x + 0.5)`` would round 0.49999999999999994 up; ``np.round`` rounds half
    to even. The fraction ``x - floor(x)`` is exact, so this is neither.
    """
    whole = np.floor(position)
    return whole + (position - whole >= 0.5)


def quantize(vectors: npt.NDArray[np.float32], code_format: CodeFormat) -> npt.NDArray[np.uint8]:
    """Packed codes, rows of ``code_format.code_bytes`` bytes."""
    values = np.asarray(vectors, dtype=np.float32).astype(np.float64)
    if not np.isfinite(values).all():
        raise ValueError("vectors must be finite")
    if code_format.normalize:
        # cumsum adds left to right, the order the core uses.
        norms = np.sqrt(np.cumsum(values * values, axis=1)[:, -1:])
        values = values / np.where(norms == 0, 1.0, norms)
    kept = values[:, :: code_format.stride] / code_format.scale
    if code_format.levels == "sqrt":
        position = 3.0 * np.sqrt(np.clip(kept, 0.0, 1.0))
    else:
        position = 1.5 * (np.clip(kept, -1.0, 1.0) + 1.0)
    levels = _round_half_up(position).astype(np.uint8)
    padded = np.zeros((len(levels), 4 * code_format.code_bytes), dtype=np.uint8)
    padded[:, : levels.shape[1]] = levels
    slots = padded.reshape(len(levels), code_format.code_bytes, 4)
    packed = (slots[:, :, 0] << 6) | (slots[:, :, 1] << 4) | (slots[:, :, 2] << 2) | slots[:, :, 3]
    return packed.astype(np.uint8)


def unpack_levels(codes: npt.NDArray[np.uint8], values: int) -> npt.NDArray[np.uint8]:
    """The level q (0..3) of each of the first ``values`` slots of each code."""
    codes = np.asarray(codes, dtype=np.uint8)
    shifts = np.array([6, 4, 2, 0], dtype=np.uint8)
    slots = (codes[:, :, None] >> shifts) & np.uint8(3)
    levels: npt.NDArray[np.uint8] = slots.reshape(len(codes), -1)[:, :values].astype(np.uint8)
    return levels


def decode(
    codes: npt.NDArray[np.uint8],
    values: int,
    levels: Levels,
    dtype: type[np.floating[Any]] = np.float64,
) -> npt.NDArray[np.floating[Any]]:
    """Decoded integer levels (q² or 2q-3) of the kept values, as floats.

    One lookup per byte in a 256 × 4 table of the byte's four decoded slots.
    """
    table = np.array(INTEGER_LEVELS[levels], dtype=dtype)
    every_byte = np.arange(256, dtype=np.uint8)[:, None]
    by_byte = table[unpack_levels(every_byte, 4)]
    codes = np.asarray(codes, dtype=np.uint8)
    decoded: npt.NDArray[np.floating[Any]] = by_byte[codes].reshape(len(codes), -1)[:, :values]
    return decoded


def _top(
    scores: npt.NDArray[np.float64], rows: npt.NDArray[np.int64], k: int, min_score: float
) -> Matches:
    """Best ``k`` by score, then by row: a brute-force stable sort."""
    keep = scores >= min_score
    scores, rows = scores[keep], rows[keep]
    order = np.lexsort((rows, -scores))[:k]
    return rows[order].astype(np.int64), scores[order] + 0.0


def _cosine(
    dots: npt.NDArray[np.float64], query_norm: float, norms: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = dots / np.sqrt(query_norm * norms)
    return np.where((norms == 0) | (query_norm == 0), 0.0, scores)


def scan_codes(
    codes: npt.NDArray[np.uint8],
    query: npt.NDArray[np.uint8],
    values: int,
    levels: Levels,
    k: int,
    min_score: float,
) -> Matches:
    """Best ``k`` codes by cosine of the decoded levels (f64 sums of small integers: exact)."""
    decoded_query = decode(np.asarray(query, dtype=np.uint8)[None, :], values, levels)[0]
    query_norm = float(decoded_query @ decoded_query)
    scores = np.empty(len(codes), dtype=np.float64)
    for start in range(0, len(codes), CHUNK_ROWS):
        # float32 sums of these small integers are exact below 2^24 (any order), and
        # BLAS adds float32 twice as fast as float64.
        decoded = decode(codes[start : start + CHUNK_ROWS], values, levels, np.float32)
        dots = decoded @ decoded_query.astype(np.float32)
        norms = np.einsum("ij,ij->i", decoded, decoded)
        scores[start : start + len(decoded)] = _cosine(
            dots.astype(np.float64), query_norm, norms.astype(np.float64)
        )
    return _top(scores, np.arange(len(codes), dtype=np.int64), k, min_score)


def scan_rows(
    matrix: npt.NDArray[Any],
    query: npt.NDArray[Any],
    k: int,
    min_score: float,
    candidates: npt.NDArray[np.int64] | None = None,
) -> Matches:
    """Best ``k`` rows of a float32 or int8 matrix by cosine, in f64."""
    rows = np.arange(len(matrix), dtype=np.int64) if candidates is None else np.asarray(candidates)
    wanted = np.asarray(query, dtype=np.float64)
    query_norm = float(wanted @ wanted)
    scores = np.empty(len(rows), dtype=np.float64)
    for start in range(0, len(rows), CHUNK_ROWS):
        chunk = np.asarray(matrix[rows[start : start + CHUNK_ROWS]], dtype=np.float64)
        norms = np.einsum("ij,ij->i", chunk, chunk)
        scores[start : start + len(chunk)] = _cosine(chunk @ wanted, query_norm, norms)
    return _top(scores, rows, k, min_score)


def quantize_int8(
    vectors: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """int8 rows with one scale per row: ``value ≈ code · scale``, scale = max|v| / 127."""
    values = np.asarray(vectors, dtype=np.float32)
    if not np.isfinite(values).all():
        raise ValueError("vectors must be finite")
    largest = np.abs(values).max(axis=1) if values.shape[1] else np.zeros(len(values), np.float32)
    scales = (largest / np.float32(127.0)).astype(np.float32)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = (values / scales[:, None]).astype(np.float64)
    # Half away from zero, like Rust's f32::round (np.round rounds half to even).
    rounded = np.sign(ratios) * np.floor(np.abs(ratios) + 0.5)
    codes = np.where(scales[:, None] == 0, 0, np.clip(rounded, -127, 127)).astype(np.int8)
    return codes, scales
