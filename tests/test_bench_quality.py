"""The quality figure: SSIM of previews against a Lanczos-3 downscale of the original."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import pyvips

from homegallery.bench.quality import (
    as_array,
    decoded_original,
    preview_ssim,
    reference_for,
    ssim,
    ssim_plane,
)
from homegallery.extract.preview import VipsEngine
from homegallery.samples import write_sample_photo


def test_identical_images_score_one_and_noise_scores_less() -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, size=(40, 50, 3)).astype(np.uint8)
    assert ssim(image, image) == pytest.approx((1.0, 1.0))
    noisy = np.clip(image + rng.normal(0, 20, image.shape), 0, 255).astype(np.uint8)
    luma, combined = ssim(image, noisy)
    assert 0 < luma < 0.99 and 0 < combined < 0.99


def test_a_brighter_copy_loses_only_a_little() -> None:
    plane = np.tile(np.linspace(0, 200, 64), (64, 1))
    assert 0.95 < ssim_plane(plane, plane + 10) < 1.0


def test_planes_must_match_and_fit_the_window() -> None:
    with pytest.raises(ValueError, match="differ"):
        ssim_plane(np.zeros((20, 20)), np.zeros((20, 21)))
    with pytest.raises(ValueError, match="smaller than the SSIM window"):
        ssim_plane(np.zeros((5, 20)), np.zeros((5, 20)))


def test_reference_has_the_preview_size_and_upright_pixels(tmp_path: Path) -> None:
    photo = write_sample_photo(tmp_path / "p.jpg", 300, 200, seed=3, orientation=6)
    original = decoded_original(photo.path)
    assert (original.width, original.height) == (200, 300)  # turned upright
    reference = reference_for(original, 85, 128)
    assert (reference.width, reference.height) == (85, 128)
    assert as_array(reference).shape == (128, 85, 3)


def test_lower_jpeg_quality_scores_lower(tmp_path: Path) -> None:
    photo = write_sample_photo(tmp_path / "p.jpg", 1600, 1200, seed=5, quality=95)
    original = decoded_original(photo.path)
    engine = VipsEngine()
    [(_, good)] = engine.render(photo.path, [800], 90)
    [(_, poor)] = engine.render(photo.path, [800], 15)
    good_luma, good_all, pixels = preview_ssim(original, good)
    poor_luma, poor_all, _ = preview_ssim(original, poor)
    assert pixels == 800 * 600
    assert good_luma > 0.97 and good_all > poor_all + 0.02 and good_luma > poor_luma
    assert pyvips.Image.new_from_buffer(good, "").width == 800
