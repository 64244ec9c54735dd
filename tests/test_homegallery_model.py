"""The model of HomeGallery's storage: its preview rule, its files, blocks."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import pyvips

from homegallery.bench.homegallery_model import (
    EMBEDDING_VALUES,
    OurSide,
    blocks,
    chained_previews,
    compact,
    js_floats,
    model_photos,
)
from homegallery.samples import write_sample_photo


def test_previews_up_to_the_photos_size_each_from_the_one_above(tmp_path: Path) -> None:
    photo = write_sample_photo(tmp_path / "a.jpg", 1000, 750, seed=1, quality=92).path
    previews = chained_previews(photo)
    assert [size for size, _ in previews] == [800, 320, 128]
    for size, data in previews:
        image = pyvips.Image.new_from_buffer(data, "")
        assert max(image.width, image.height) == size
        assert image.get("interlaced") == 1  # progressive, as sharp writes them
    tiny = write_sample_photo(tmp_path / "t.jpg", 100, 80, seed=2).path
    assert chained_previews(tiny) == []  # smaller than every size: none at all


def test_json_files_count_whole_blocks_and_floats_as_javascript_prints_them(
    tmp_path: Path,
) -> None:
    assert (blocks(0), blocks(1), blocks(4096), blocks(4097)) == (0, 4096, 4096, 8192)
    assert compact({"a": [0.5, "ü"]}) == '{"a":[0.5,"ü"]}'.encode()
    assert js_floats([0.1]) == [0.10000000149011612]  # a float32 widened to a double
    if shutil.which("exiftool") is None:
        message = (
            "exiftool is not installed (Debian: libimage-exiftool-perl; bootstrap installs it)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    photo = write_sample_photo(tmp_path / "a.jpg", 640, 480, seed=1, gps=(43.77, 11.25)).path
    model = model_photos([photo], {photo: OurSide(faces=2)}, with_ssim=False)
    kinds = model.kinds
    assert set(kinds) == {
        "previews 320 px", "previews 128 px", "exif.json", "geo-reverse.json",
        "similarity-embeddings.json", "objects.json", "faces.json", "vibrant.json",
    }  # fmt: skip
    assert all(tally.files == 1 and tally.on_disk % 4096 == 0 for tally in kinds.values())
    assert kinds["similarity-embeddings.json"].bytes > EMBEDDING_VALUES * 10
    assert kinds["faces.json"].bytes > 2 * 128 * 10  # two descriptors as text
    assert json.loads(compact({"n": 1})) == {"n": 1}
