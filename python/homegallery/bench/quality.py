"""How close a preview is to its original: SSIM against a high-quality downscale.

The reference is the original decoded at full resolution, turned upright and to 8-bit
sRGB, and downscaled to the preview's exact width and height with a Lanczos-3 kernel
over every source pixel (libvips ``resize`` with no box pre-shrink): what a careful
resize of the original would show, with no JPEG loss. The preview is compared with it
by SSIM (Wang et al. 2004: an 11x11 Gaussian window with sigma 1.5, K1 0.01, K2 0.03,
pixels in 0-255, the border where the window does not fit left out), on luma and on
each chroma plane (BT.601 YCbCr), combined 4:1:1 as video tools weigh the planes. Luma
alone would miss what chroma subsampling costs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from homegallery.extract.preview import as_srgb

Array = npt.NDArray[np.float64]

_SIGMA = 1.5
_RADIUS = 5
_C1 = (0.01 * 255) ** 2
_C2 = (0.03 * 255) ** 2
# BT.601 full-range RGB → YCbCr (the offsets do not matter to SSIM's variances, but keep
# the means in range for its constants).
_YCBCR = np.array(
    [
        [0.299, 0.587, 0.114],
        [-0.168736, -0.331264, 0.5],
        [0.5, -0.418688, -0.081312],
    ]
)
_OFFSETS = np.array([0.0, 128.0, 128.0])
PLANE_WEIGHTS = (4.0, 1.0, 1.0)


def _kernel() -> Array:
    offsets = np.arange(-_RADIUS, _RADIUS + 1, dtype=np.float64)
    weights: Array = np.exp(-(offsets**2) / (2 * _SIGMA**2))
    return np.asarray(weights / weights.sum(), dtype=np.float64)


_KERNEL = _kernel()


def _blur(plane: Array) -> Array:
    """Separable Gaussian, "valid" part only (no padding invents pixels at the border)."""
    size = len(_KERNEL)
    rows = plane.shape[0] - size + 1
    columns = plane.shape[1] - size + 1
    vertical = sum(_KERNEL[i] * plane[i : i + rows, :] for i in range(size))
    return np.asarray(sum(_KERNEL[i] * vertical[:, i : i + columns] for i in range(size)))


def ssim_plane(a: Array, b: Array) -> float:
    """Mean SSIM of two planes of the same shape (0-255 values)."""
    if a.shape != b.shape:
        raise ValueError(f"planes differ in shape: {a.shape} and {b.shape}")
    if min(a.shape) < len(_KERNEL):
        raise ValueError(f"a plane of {a.shape} is smaller than the SSIM window")
    mu_a, mu_b = _blur(a), _blur(b)
    var_a = _blur(a * a) - mu_a * mu_a
    var_b = _blur(b * b) - mu_b * mu_b
    covariance = _blur(a * b) - mu_a * mu_b
    numerator = (2 * mu_a * mu_b + _C1) * (2 * covariance + _C2)
    denominator = (mu_a * mu_a + mu_b * mu_b + _C1) * (var_a + var_b + _C2)
    return float(np.mean(numerator / denominator))


def ycbcr(rgb: npt.NDArray[Any]) -> Array:
    """An (h, w, 3) sRGB array as (3, h, w) YCbCr planes."""
    pixels = rgb.astype(np.float64)
    return np.asarray(np.einsum("ij,hwj->ihw", _YCBCR, pixels) + _OFFSETS[:, None, None])


def ssim(reference: npt.NDArray[Any], candidate: npt.NDArray[Any]) -> tuple[float, float]:
    """(luma SSIM, combined YCbCr SSIM) of two (h, w, 3) sRGB arrays."""
    planes_a, planes_b = ycbcr(reference), ycbcr(candidate)
    scores = [ssim_plane(planes_a[i], planes_b[i]) for i in range(3)]
    combined = sum(w * s for w, s in zip(PLANE_WEIGHTS, scores, strict=True))
    return scores[0], combined / sum(PLANE_WEIGHTS)


def as_array(image: Any) -> npt.NDArray[np.uint8]:
    """A libvips image (8-bit sRGB, 3 bands) as an (h, w, 3) array."""
    pixels = np.frombuffer(image.write_to_memory(), dtype=np.uint8)
    return pixels.reshape(image.height, image.width, image.bands)


def decoded_original(source: Any) -> Any:
    """The original at full resolution, upright, 8-bit sRGB (a libvips image in memory).

    ``source``: a path or a pyvips image already decoded (HEIC through pillow-heif).
    """
    import pyvips

    image = source if isinstance(source, pyvips.Image) else pyvips.Image.new_from_file(str(source))
    return as_srgb(image.autorot()).copy_memory()


def reference_for(original: Any, width: int, height: int) -> Any:
    """The original resized to exactly ``width`` x ``height`` with Lanczos-3, no box shrink."""
    resized = original.resize(
        width / original.width,
        vscale=height / original.height,
        kernel="lanczos3",
        gap=0.0,
    )
    if (resized.width, resized.height) != (width, height):
        resized = resized.crop(0, 0, min(width, resized.width), min(height, resized.height))
        resized = resized.embed(0, 0, width, height, extend="copy")
    return resized.cast("uchar")


def preview_ssim(original: Any, preview_jpeg: bytes) -> tuple[float, float, int]:
    """(luma SSIM, YCbCr SSIM, pixels) of one preview against its original's reference."""
    import pyvips

    preview = pyvips.Image.new_from_buffer(preview_jpeg, "")
    reference = reference_for(original, preview.width, preview.height)
    luma, combined = ssim(as_array(reference), as_array(preview))
    return luma, combined, preview.width * preview.height
