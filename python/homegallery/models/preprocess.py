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


def plain_input(
    picture: npt.NDArray[np.uint8],
    color: str,
    mean: float | Sequence[float],
    scale: float | Sequence[float],
) -> npt.NDArray[np.float32]:
    """An H×W×3 RGB uint8 array already at the model's size, as a [3, H, W] input.

    ``mean`` and ``scale`` are one value or one per channel, in the model's channel
    order (after ``color`` put the channels in it).
    """
    if picture.ndim != 3 or picture.shape[2] != 3:
        raise ValueError(f"expected an H×W×3 array, got {picture.shape}")
    channels = picture[:, :, ::-1] if color == "BGR" else picture
    values = (channels.astype(np.float32) - np.asarray(mean, dtype=np.float32)) / np.asarray(
        scale, dtype=np.float32
    )
    return np.ascontiguousarray(values.transpose(2, 0, 1))


YUNET_SIZE = 640


def yunet_input(image: Image.Image) -> tuple[npt.NDArray[np.float32], float]:
    """A photo letterboxed for YuNet: long side to 640, padded right and bottom, BGR 0–255.

    Returns the [3, 640, 640] input and the scale; box coordinates the detector gives
    divided by the scale are coordinates in the photo.
    """
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    factor = YUNET_SIZE / max(rgb.width, rgb.height)
    width = max(1, min(YUNET_SIZE, round(rgb.width * factor)))
    height = max(1, min(YUNET_SIZE, round(rgb.height * factor)))
    canvas = np.zeros((YUNET_SIZE, YUNET_SIZE, 3), dtype=np.uint8)
    canvas[:height, :width] = np.asarray(rgb.resize((width, height), Image.Resampling.BILINEAR))
    return plain_input(canvas, "BGR", 0.0, 1.0), factor


NANODET_SIZE = 416
NANODET_MEAN = (103.53, 116.28, 123.675)  # B, G, R: NanoDet's training normalisation
NANODET_SCALE = (57.375, 57.12, 58.395)


def nanodet_input(image: Image.Image) -> tuple[npt.NDArray[np.float32], float]:
    """A photo letterboxed for NanoDet: long side to 416, padded right and bottom, BGR.

    Returns the [3, 416, 416] input and the scale; a box in input pixels divided by
    the scale is in the photo's pixels. The padding is black before normalisation,
    as NanoDet's own demo pads.
    """
    rgb = image.convert("RGB") if image.mode != "RGB" else image
    factor = NANODET_SIZE / max(rgb.width, rgb.height)
    width = max(1, min(NANODET_SIZE, round(rgb.width * factor)))
    height = max(1, min(NANODET_SIZE, round(rgb.height * factor)))
    canvas = np.zeros((NANODET_SIZE, NANODET_SIZE, 3), dtype=np.uint8)
    canvas[:height, :width] = np.asarray(rgb.resize((width, height), Image.Resampling.BILINEAR))
    return plain_input(canvas, "BGR", NANODET_MEAN, NANODET_SCALE), factor
