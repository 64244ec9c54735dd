"""Scans: the core against the numpy reference and a brute-force sort, limits, errors."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from homegallery.similarity import (
    HOMEGALLERY,
    CodeFormat,
    Matches,
    quantize,
    quantize_int8,
    reference,
    rescore,
    scan_codes,
    scan_codes_batch,
    scan_float32,
    scan_int8,
)

LARGE = float(np.float32(1e30))  # products overflow float32, not the f64 sums


def assert_same(
    found: Matches, expected: tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]
) -> None:
    np.testing.assert_array_equal(found.indices, expected[0])
    np.testing.assert_array_equal(found.scores, expected[1])


@st.composite
def code_cases(draw: st.DrawFn) -> tuple[npt.NDArray[np.uint8], CodeFormat, int, float]:
    # Widths below and above 32 bytes: the table kernel and the AVX2 kernel with its
    # overlapping last chunk; values not a multiple of 4 leave padding slots.
    values = draw(st.sampled_from([1, 3, 13, 127, 128, 130, 342, 515]))
    code_format = CodeFormat(
        dims=values, stride=1, scale=1.0, levels=draw(st.sampled_from(["sqrt", "signed"]))
    )
    rows = draw(st.integers(1, 300))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # Few distinct levels make many equal scores, which the order must break by row.
    codes = rng.choice(
        draw(st.sampled_from([[0, 255], [0, 0x55, 0xFF], list(range(256))])),
        (rows, code_format.code_bytes),
    ).astype(np.uint8)
    k = draw(st.integers(0, rows + 2))
    min_score = draw(st.sampled_from([-1.0, 0.0, 0.5, 0.9, 1.0]))
    return codes, code_format, k, min_score


@settings(deadline=None)
@given(code_cases(), st.integers(0, 1000))
def test_code_scan_equals_reference(
    case: tuple[npt.NDArray[np.uint8], CodeFormat, int, float], pick: int
) -> None:
    codes, code_format, k, min_score = case
    query = codes[pick % len(codes)]
    found = scan_codes(codes, query, k, min_score, code_format, threads=1)
    expected = reference.scan_codes(
        codes, query, code_format.values, code_format.levels, k, min_score
    )
    assert_same(found, expected)


def test_large_scan_splits_across_threads_and_keeps_brute_force_order() -> None:
    rng = np.random.default_rng(11)
    vectors = rng.gamma(0.5, 1.0, (60_000, 1024)).astype(np.float32)
    codes = quantize(vectors)
    query = codes[123]
    expected = reference.scan_codes(codes, query, 342, "sqrt", 500, 0.5)
    for threads in (1, 2, 0):
        assert_same(scan_codes(codes, query, 500, 0.5, threads=threads), expected)
    assert expected[0][0] == 123 and expected[1][0] == 1.0


def test_batch_equals_single_queries() -> None:
    codes = np.random.default_rng(2).integers(0, 256, (20_000, 86), dtype=np.uint8)
    queries = codes[[5, 17, 19_999]]
    batch = scan_codes_batch(codes, queries, 20, 0.55, threads=2)
    for query, found in zip(queries, batch, strict=True):
        assert_same(found, reference.scan_codes(codes, query, 342, "sqrt", 20, 0.55))


def test_zero_codes_score_zero() -> None:
    codes = np.zeros((3, 86), np.uint8)
    codes[1] = 0xFF
    found = scan_codes(codes, codes[1], 10, -1.0)
    assert found.indices.tolist() == [1, 0, 2] and found.scores.tolist() == [1.0, 0.0, 0.0]
    assert scan_codes(codes, codes[0], 10, 0.0).scores.tolist() == [0.0] * 3  # zero query
    assert scan_codes(codes, codes[0], 10, 0.01).indices.size == 0


def test_code_scan_errors() -> None:
    codes = np.zeros((3, 86), np.uint8)
    with pytest.raises(ValueError, match="makes 86"):
        scan_codes(codes, np.zeros(85, np.uint8))
    with pytest.raises(ValueError, match="one row"):
        scan_codes(codes, codes)
    with pytest.raises(ValueError, match="NaN"):
        scan_codes(codes, codes[0], min_score=float("nan"))
    with pytest.raises(ValueError, match="k must be"):
        scan_codes(codes, codes[0], k=-1)
    with pytest.raises(TypeError, match="integers"):
        scan_codes(codes.astype(np.float32), codes[0])


@settings(deadline=None)
@given(
    hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 60), st.integers(1, 40)),
        elements=st.floats(-LARGE, LARGE, width=32),
    ),
    st.integers(0, 70),
    st.sampled_from([-1.0, 0.0, 0.3]),
)
def test_float32_scan_matches_reference(
    matrix: npt.NDArray[np.float32], k: int, min_score: float
) -> None:
    query = matrix[len(matrix) // 2]
    found = scan_float32(matrix, query, k, min_score, threads=1)
    rows, scores = reference.scan_rows(matrix, query, len(matrix), -2.0)
    by_row = dict(zip(rows.tolist(), scores.tolist(), strict=True))
    # Both sum in f64, in another order: scores agree to rounding, and the order is a
    # brute-force order up to such near-ties.
    for row, score in zip(found.indices.tolist(), found.scores.tolist(), strict=True):
        assert score == pytest.approx(by_row[row], abs=1e-9)
    assert np.all(np.diff(found.scores) <= 0)
    passing = scores[scores >= min_score + 1e-9]
    assert found.indices.size >= min(k, passing.size)


@settings(deadline=None)
@given(
    hnp.arrays(np.int8, st.tuples(st.integers(1, 80), st.integers(1, 70))),
    st.integers(0, 90),
    st.sampled_from([-1.0, 0.0, 0.5]),
    st.booleans(),
)
def test_int8_scan_equals_reference(
    matrix: npt.NDArray[np.int8], k: int, min_score: float, subset: bool
) -> None:
    query = matrix[0]
    candidates = np.arange(len(matrix) - 1, -1, -2, dtype=np.int64) if subset else None
    found = scan_int8(matrix, query, k, min_score, candidates, threads=1)
    assert_same(found, reference.scan_rows(matrix, query, k, min_score, candidates))


def test_full_precision_errors() -> None:
    matrix = np.ones((4, 8), np.float32)
    matrix[2, 3] = np.nan
    with pytest.raises(ValueError, match="row 2 has a non-finite value"):
        scan_float32(matrix, np.ones(8, np.float32))
    with pytest.raises(ValueError, match="query 0 has a non-finite value at position 1"):
        scan_float32(np.ones((4, 8), np.float32), np.array([1, np.inf, 0, 0, 0, 0, 0, 0]))
    with pytest.raises(ValueError, match="candidate row 9 is outside the 4 rows"):
        scan_int8(np.ones((4, 8), np.int8), np.ones(8, np.int8), candidates=[0, 9])
    with pytest.raises(ValueError, match="query rows have 7 values, the matrix rows 8"):
        scan_int8(np.ones((4, 8), np.int8), np.ones(7, np.int8))


def test_rescore_orders_two_bit_candidates_by_int8_cosine() -> None:
    rng = np.random.default_rng(4)
    vectors = rng.gamma(0.5, 1.0, (5000, 1024)).astype(np.float32)
    codes = quantize(vectors)
    rows, _ = quantize_int8(vectors)
    pool = scan_codes(codes, codes[10], 200, 0.0)
    found = rescore(rows, rows[10], pool.indices, 20, 0.0)
    expected = reference.scan_rows(rows, rows[10], 20, 0.0, pool.indices)
    assert_same(found, expected)
    assert found.indices[0] == 10
    # int8 keeps each row's cosine to within a few thousandths of the float one.
    rows_exact, scores_exact = reference.scan_rows(vectors, vectors[10], 200, -1.0, pool.indices)
    exact = dict(zip(rows_exact.tolist(), scores_exact.tolist(), strict=True))
    for row, score in zip(found.indices.tolist(), found.scores.tolist(), strict=True):
        assert score == pytest.approx(exact[row], abs=5e-3)


def test_homegallery_format_is_the_default() -> None:
    assert scan_codes.__defaults__ is not None and HOMEGALLERY in scan_codes.__defaults__
