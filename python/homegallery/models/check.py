"""A fixed, generated input that every install runs through a converted model.

The same pixels everywhere (no photo, no random generator whose stream could change
between numpy versions): smooth colour gradients with a few edges, so a convolution
network gives a non-trivial answer whose values a spec can pin.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def check_pattern(height: int, width: int) -> npt.NDArray[np.uint8]:
    """An H×W×3 uint8 RGB picture made from integer arithmetic only."""
    rows = np.arange(height, dtype=np.int64)[:, None]
    cols = np.arange(width, dtype=np.int64)[None, :]
    red = (rows * 255) // max(1, height - 1) + 0 * cols
    green = (cols * 255) // max(1, width - 1) + 0 * rows
    blue = ((rows // 16 + cols // 16) % 2) * 160 + ((rows + cols) * 40) // max(1, height + width)
    picture = np.stack([red, green, blue], axis=-1)
    result: npt.NDArray[np.uint8] = np.clip(picture, 0, 255).astype(np.uint8)
    return result
