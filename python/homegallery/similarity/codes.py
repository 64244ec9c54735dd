"""Vectors to codes: packed 2-bit codes, their base64 text, and int8 rows.

The work is done by the Rust core with the GIL released; these wrappers check shapes
and types first, so a wrong argument fails with a message about that argument rather
than about the core's view of memory.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from homegallery import _core
from homegallery.similarity.formats import HOMEGALLERY, LEVEL_VALUES, CodeFormat
from homegallery.similarity.reference import unpack_levels


def as_matrix(array: Any, dtype: type[np.generic], name: str) -> npt.NDArray[Any]:
    """A C-contiguous 2-D array of ``dtype``; copies only when the input is not one."""
    matrix = np.asarray(array)
    if matrix.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (rows × values), not {matrix.ndim}-D")
    if matrix.dtype != dtype:
        if dtype in (np.uint8, np.int8) and matrix.dtype.kind not in "iu":
            raise TypeError(
                f"{name} must hold integers ({np.dtype(dtype).name}), not {matrix.dtype}"
            )
        if dtype is np.float32 and matrix.dtype.kind not in "fiu":
            raise TypeError(f"{name} must hold numbers, not {matrix.dtype}")
        matrix = matrix.astype(dtype)
    return np.ascontiguousarray(matrix)


def quantize(
    vectors: npt.ArrayLike, code_format: CodeFormat = HOMEGALLERY, threads: int = 0
) -> npt.NDArray[np.uint8]:
    """Packed 2-bit codes of float vectors (rows), one row of bytes per vector.

    ``threads`` 0 uses every core. Raises ValueError naming the row and position of the
    first NaN or infinity, and for vectors whose length is not ``code_format.dims``.
    """
    matrix = as_matrix(vectors, np.float32, "vectors")
    if matrix.shape[1] != code_format.dims:
        raise ValueError(
            f"vectors have {matrix.shape[1]} values; format {code_format.label} "
            f"needs {code_format.dims}"
        )
    return _core.quantize_codes(
        matrix,
        code_format.stride,
        code_format.scale,
        code_format.levels,
        code_format.normalize,
        threads,
    )


def decode(codes: npt.ArrayLike, code_format: CodeFormat = HOMEGALLERY) -> npt.NDArray[np.float32]:
    """The values a code stands for: (q/3)² or (2q-3)/3 per kept value, times the scale.

    For looking at codes and for fitting formats; scans never decode.
    """
    matrix = as_matrix(codes, np.uint8, "codes")
    table = np.array(LEVEL_VALUES[code_format.levels], dtype=np.float32) * np.float32(
        code_format.scale
    )
    decoded: npt.NDArray[np.float32] = table[unpack_levels(matrix, code_format.values)]
    return decoded


def pack_base64(codes: npt.ArrayLike) -> list[str]:
    """Each code row as base64 text with padding, the form of HomeGallery's database."""
    matrix = as_matrix(codes, np.uint8, "codes")
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in matrix]


def unpack_base64(texts: Iterable[str], code_bytes: int | None = None) -> npt.NDArray[np.uint8]:
    """Codes from base64 texts, one row each; all must decode to the same length.

    ``code_bytes`` (e.g. ``HOMEGALLERY.code_bytes``) checks that length too.
    """
    rows: list[bytes] = []
    for number, text in enumerate(texts):
        try:
            row = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ValueError(f"code {number} is not valid base64: {error}") from None
        expected = code_bytes if code_bytes is not None else len(rows[0]) if rows else len(row)
        if len(row) != expected:
            raise ValueError(f"code {number} has {len(row)} bytes, expected {expected}")
        rows.append(row)
    if not rows:
        return np.zeros((0, code_bytes or 0), dtype=np.uint8)
    joined = np.frombuffer(b"".join(rows), dtype=np.uint8)
    matrix: npt.NDArray[np.uint8] = joined.reshape(len(rows), -1).copy()
    return matrix


def quantize_int8(
    vectors: npt.ArrayLike, threads: int = 0
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """int8 rows and one float32 scale per row, ``value ≈ code · scale``.

    The form kept for exact re-ranking: a quarter of float32's bytes. Cosine does not
    depend on a row's positive scale, so the scans read only the int8 values; the
    scale is there to get the vector back (:func:`dequantize_int8`).
    """
    return _core.quantize_int8(as_matrix(vectors, np.float32, "vectors"), threads)


def dequantize_int8(codes: npt.ArrayLike, scales: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """Float32 vectors back from :func:`quantize_int8` rows and scales."""
    matrix = as_matrix(codes, np.int8, "codes")
    factors = np.asarray(scales, dtype=np.float32)
    if factors.shape != (len(matrix),):
        raise ValueError(f"{factors.shape} scales for {len(matrix)} rows")
    return matrix.astype(np.float32) * factors[:, None]
