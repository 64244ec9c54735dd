"""Fitting a code format to a model's vectors.

HomeGallery's 2.875 suits MobileNet's activations; another model's values live on
another scale, and a scale too large puts every value in the middle levels while one
too small clamps most of them. The fit picks the scale whose codes keep the vectors'
directions best: the highest mean cosine between each vector (its kept values) and
its decoded code, over a sample.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from homegallery.similarity.codes import as_matrix, decode, quantize
from homegallery.similarity.formats import CodeFormat, Levels

SAMPLE_ROWS = 4096
COARSE_STEPS = 48
FINE_STEPS = 24


def code_fidelity(vectors: npt.ArrayLike, code_format: CodeFormat) -> float:
    """Mean cosine between vectors (their kept values) and their decoded codes."""
    matrix = as_matrix(vectors, np.float32, "vectors").astype(np.float64)
    kept = matrix[:, :: code_format.stride]
    decoded = decode(quantize(matrix, code_format), code_format).astype(np.float64)
    dots = np.einsum("ij,ij->i", kept, decoded)
    norms = np.linalg.norm(kept, axis=1) * np.linalg.norm(decoded, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosines = np.where(norms > 0, dots / norms, 0.0)
    return float(cosines.mean())


def fit_format(
    sample: npt.ArrayLike,
    levels: Levels = "signed",
    stride: int = 1,
    normalize: bool = True,
    name: str = "",
    seed: int = 0,
) -> CodeFormat:
    """A format for vectors like ``sample`` (rows of one model), its scale fitted.

    Uses at most 4096 rows of the sample; a few hundred typical vectors are enough.
    """
    matrix = as_matrix(sample, np.float32, "sample")
    if len(matrix) == 0:
        raise ValueError("cannot fit a code format to an empty sample")
    if not np.isfinite(matrix).all():
        raise ValueError("the sample has NaN or infinite values")
    if len(matrix) > SAMPLE_ROWS:
        rows = np.random.default_rng(seed).choice(len(matrix), SAMPLE_ROWS, replace=False)
        matrix = matrix[np.sort(rows)]
    values = matrix.astype(np.float64)
    if normalize:
        norms = np.linalg.norm(values, axis=1, keepdims=True)
        values = values / np.where(norms == 0, 1.0, norms)
    kept = values[:, ::stride]
    magnitudes = kept[kept > 0] if levels == "sqrt" else np.abs(kept).ravel()
    magnitudes = magnitudes[magnitudes > 0]
    if magnitudes.size == 0:
        raise ValueError("the sample has no values the levels can tell apart (all zero)")

    def fidelity(scale: float) -> float:
        code_format = CodeFormat(matrix.shape[1], stride, scale, levels, normalize, name)
        return code_fidelity(matrix, code_format)

    low, high = np.quantile(magnitudes, [0.5, 1.0])
    coarse = np.geomspace(max(low, high * 1e-3), high, COARSE_STEPS)
    best = int(np.argmax([fidelity(float(scale)) for scale in coarse]))
    fine = np.geomspace(
        coarse[max(best - 1, 0)], coarse[min(best + 1, COARSE_STEPS - 1)], FINE_STEPS
    )
    scale = float(fine[int(np.argmax([fidelity(float(scale)) for scale in fine]))])
    # Six significant digits: the same format whether read from JSON or made here.
    return CodeFormat(matrix.shape[1], stride, float(f"{scale:.6g}"), levels, normalize, name)
