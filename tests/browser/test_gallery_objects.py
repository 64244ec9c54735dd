"""Object boxes in Chromium: key a in the detail view draws each object the detector
found on darknet's dog photo, named, in the right part of the photo, styled apart
from face boxes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from homegallery.catalog.build import build_from_config
from homegallery.config import Config, parse_config
from homegallery.extract.runner import extract_gallery
from homegallery.index import update_index
from homegallery.server import create_app
from homegallery.server.runner import running

pytestmark = pytest.mark.browser
Page = Any


class _Silent:
    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def objects_server(
    tmp_path_factory: pytest.TempPathFactory, object_model_dir: Path, darknet_photos: Path
) -> Iterator[str]:
    root = tmp_path_factory.mktemp("objects")
    photos = root / "photos"
    photos.mkdir()
    shutil.copy(darknet_photos / "dog.jpg", photos / "dog.jpg")
    config: Config = parse_config(
        {
            "sources": [{"dir": str(photos)}],
            "storage": {"dir": str(root / "storage")},
            "database": {"file": str(root / "catalog.db")},
            "extractor": {
                "models": {
                    "dir": str(object_model_dir),
                    "embeddings": "off",
                    "faceDetection": "off",
                    "faceRecognition": "off",
                }
            },
        },
        root / "gallery.yml",
    )
    update_index(config)
    summary = extract_gallery(config, workers=1, progress_factory=lambda label, total: _Silent())
    assert not summary.failures, summary.lines()
    build_from_config(config)
    with running(create_app(config)) as url:
        yield url


def test_key_a_draws_the_objects_with_their_names(page: Page, objects_server: str) -> None:
    page.goto(f"{objects_server}/search/object%3Adog")
    page.wait_for_function("() => document.querySelectorAll('#grid .tile.loaded').length === 1")
    page.click("#grid .tile >> nth=0")
    page.wait_for_selector(".detail img.media")
    page.wait_for_function("() => document.querySelector('.detail img.media').naturalWidth > 0")
    assert page.locator(".object-box").count() == 0
    page.keyboard.press("a")
    page.wait_for_selector(".face-layer .object-box[data-class='dog'] .object-name")
    assert page.locator(".face-box").count() == 0
    names = page.locator(".object-name").all_text_contents()
    assert any(name.startswith("dog ") and name.endswith("%") for name in names), names
    assert any(name.startswith("bicycle ") for name in names), names
    image = page.locator(".detail img.media").bounding_box()
    dog = page.locator(".object-box[data-class='dog']").first.bounding_box()
    assert image is not None and dog is not None
    centre_x = (dog["x"] + dog["width"] / 2 - image["x"]) / image["width"]
    centre_y = (dog["y"] + dog["height"] / 2 - image["y"]) / image["height"]
    assert centre_x < 0.45 and centre_y > 0.55, (centre_x, centre_y)  # the dog: lower left
    style = page.eval_on_selector(".object-box", "box => getComputedStyle(box).borderTopStyle")
    assert style == "dashed"  # face boxes are solid
    page.keyboard.press("a")
    page.wait_for_function("() => document.querySelectorAll('.object-box').length === 0")
    assert not page.errors
