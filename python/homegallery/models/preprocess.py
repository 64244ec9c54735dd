"""Turning a decoded photo into a model's input, the same way at install and at extract.

EfficientNet-Lite0 follows the official TF Lite recipe: resize so the short side is
256, cut the central 224 × 224, scale each RGB value as ``(x − 127) / 128`` and lay
the result out as NCHW float32. The resize averages over the source pixels (Pillow's
reducing bilinear filter), as a preview made by libvips does, so feeding a preview or
the original gives nearly the same input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

EFFICIENTNET_RESIZE = 256
EFFICIENTNET_CROP = 224
EFFICIENTNET_MEAN = 127.0
EFFICIENTNET_SCALE = 128.0


def center_crop_box(
    width: int, height: int, resize: int, crop: int
) -> tuple[int, int, int, int, int, int]:
    """Resized size and crop box (left, top, right, bottom) for a short side of ``resize``."""
    if width <= 0 or height <= 0:
        raise ValueError(f"empty image ({width}×{height})")
    factor = resize / min(width, height)
    new_width = max(crop, round(width * factor))
    new_height = max(crop, round(height * factor))
    left = (new_width - crop) // 2
    top = (new_height - crop) // 2
    return new_width, new_height, left, top, left + crop, top + crop


def efficientnet_input(image: Image.Image | npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """One photo (Pillow image or H×W×3 uint8 RGB array) as a [3, 224, 224] input."""
    if isinstance(image, np.ndarray):
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an H×W×3 uint8 RGB array, got {image.shape} {image.dtype}")
        image = Image.fromarray(image, "RGB")
    elif image.mode != "RGB":
        image = image.convert("RGB")
    width, height, left, top, right, bottom = center_crop_box(
        image.width, image.height, EFFICIENTNET_RESIZE, EFFICIENTNET_CROP
    )
    resized = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=None)
    cropped = resized.crop((left, top, right, bottom))
    pixels: npt.NDArray[Any] = np.asarray(cropped, dtype=np.float32)
    normalised = (pixels - EFFICIENTNET_MEAN) / EFFICIENTNET_SCALE
    return np.ascontiguousarray(normalised.transpose(2, 0, 1))


def efficientnet_batch(
    images: Sequence[Image.Image | npt.NDArray[np.uint8]],
) -> npt.NDArray[np.float32]:
    """Several photos as one [N, 3, 224, 224] batch."""
    return np.stack([efficientnet_input(image) for image in images])
