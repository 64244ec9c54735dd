"""Top-k cosine scans over packed codes, float32 rows and int8 rows.

Each scan takes one query row and returns one :class:`Matches`;
:func:`scan_codes_batch` takes several and reads the scanned codes once for all of
them. Results are best first, equal scores by row number, so they are the order of a
brute-force stable sort whatever ``threads`` is (0: every core).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from homegallery import _core
from homegallery.similarity.codes import as_matrix
from homegallery.similarity.formats import HOMEGALLERY, CodeFormat


class Matches(NamedTuple):
    """Rows of the scanned matrix, best first, and their cosine similarity."""

    indices: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]


def _check(k: int, min_score: float) -> None:
    if k < 0:
        raise ValueError(f"k must be 0 or more, not {k}")
    if min_score != min_score:
        raise ValueError("min_score must be a number, not NaN")


def _query(query: Any, dtype: type[np.generic], name: str) -> npt.NDArray[Any]:
    array = np.asarray(query)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one row (1-D), not {array.ndim}-D")
    return as_matrix(array[None, :], dtype, name)


def scan_codes_batch(
    codes: npt.ArrayLike,
    queries: npt.ArrayLike,
    k: int = 100,
    min_score: float = 0.5,
    code_format: CodeFormat = HOMEGALLERY,
    threads: int = 0,
) -> list[Matches]:
    """Best ``k`` codes with cosine ≥ ``min_score`` for each query code (rows).

    Cosine of the decoded levels, (q/3)² for HomeGallery's codes, as its browser code
    ranks them; scores are exact (integer sums), equal to the numpy reference.
    """
    _check(k, min_score)
    matrix = as_matrix(codes, np.uint8, "codes")
    wanted = as_matrix(queries, np.uint8, "queries")
    for name, width in (("codes", matrix.shape[1]), ("queries", wanted.shape[1])):
        if width != code_format.code_bytes:
            raise ValueError(
                f"{name} have {width} bytes; format {code_format.label} "
                f"makes {code_format.code_bytes}"
            )
    return [
        Matches(indices, scores)
        for indices, scores in _core.scan_codes(
            matrix, wanted, code_format.values, code_format.levels, k, min_score, threads
        )
    ]


def scan_codes(
    codes: npt.ArrayLike,
    query: npt.ArrayLike,
    k: int = 100,
    min_score: float = 0.5,
    code_format: CodeFormat = HOMEGALLERY,
    threads: int = 0,
) -> Matches:
    """Best ``k`` codes with cosine ≥ ``min_score`` to one query code."""
    wanted = _query(query, np.uint8, "query")
    return scan_codes_batch(codes, wanted, k, min_score, code_format, threads)[0]


def _scan_rows(
    scan: Any,
    dtype: type[np.generic],
    matrix: Any,
    query: Any,
    k: int,
    min_score: float,
    candidates: Any,
    threads: int,
) -> Matches:
    _check(k, min_score)
    rows = as_matrix(matrix, dtype, "matrix")
    wanted = _query(query, dtype, "query")
    subset = None if candidates is None else np.ascontiguousarray(candidates, dtype=np.int64)
    if subset is not None and subset.ndim != 1:
        raise ValueError(f"candidates must be a 1-D array of row numbers, not {subset.ndim}-D")
    indices, scores = scan(rows, wanted, k, min_score, subset, threads)[0]
    return Matches(indices, scores)


def scan_float32(
    matrix: npt.ArrayLike,
    query: npt.ArrayLike,
    k: int = 100,
    min_score: float = -1.0,
    candidates: npt.ArrayLike | None = None,
    threads: int = 0,
) -> Matches:
    """Best ``k`` float32 rows by cosine, over all rows or only ``candidates``.

    Raises ValueError for a NaN or infinity in the query, or in a row it reads.
    """
    return _scan_rows(
        _core.scan_float32, np.float32, matrix, query, k, min_score, candidates, threads
    )


def scan_int8(
    matrix: npt.ArrayLike,
    query: npt.ArrayLike,
    k: int = 100,
    min_score: float = -1.0,
    candidates: npt.ArrayLike | None = None,
    threads: int = 0,
) -> Matches:
    """Best ``k`` int8 rows (:func:`quantize_int8`) by cosine, with exact integer sums."""
    return _scan_rows(_core.scan_int8, np.int8, matrix, query, k, min_score, candidates, threads)


def rescore(
    vectors: npt.ArrayLike,
    query: npt.ArrayLike,
    candidates: npt.ArrayLike,
    k: int = 100,
    min_score: float = 0.5,
) -> Matches:
    """Re-ranks ``candidates`` (rows, e.g. a 2-bit scan's best) by int8 cosine.

    The 2-bit pass finds the neighbourhood in a few milliseconds; this orders it by
    the near-exact similarity at the cost of reading only the candidates' rows.
    """
    return scan_int8(vectors, query, k, min_score, candidates, threads=1)
