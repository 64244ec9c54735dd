"""People in Chromium: the People page, naming inline, a person's photos, face boxes
in the detail view (key a) with names, and merging a selection."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageOps

from face_photos import astronaut, group_photo
from homegallery.catalog.build import build_from_config
from homegallery.config import Config, parse_config
from homegallery.extract.runner import extract_gallery
from homegallery.gallery import Gallery
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
def people_gallery(tmp_path_factory: pytest.TempPathFactory, face_model_dir: Path) -> Config:
    root = tmp_path_factory.mktemp("people")
    photos = root / "photos"
    photos.mkdir()
    shutil.copy(group_photo("sample1.jpg"), photos / "sample1.jpg")
    with Image.open(astronaut()) as image:
        rgb = image.convert("RGB")
        rgb.save(photos / "astronaut.jpg", quality=95)
        ImageOps.mirror(rgb).save(photos / "astronaut-mirrored.jpg", quality=95)
    config = parse_config(
        {
            "sources": [{"dir": str(photos)}],
            "storage": {"dir": str(root / "storage")},
            "database": {"file": str(root / "catalog.db")},
            "extractor": {"models": {"dir": str(face_model_dir), "embeddings": "off"}},
        },
        root / "gallery.yml",
    )
    update_index(config)
    summary = extract_gallery(config, workers=2, progress_factory=lambda label, total: _Silent())
    assert not summary.failures, summary.lines()
    build_from_config(config)
    return config


@pytest.fixture(scope="module")
def people_server(people_gallery: Config) -> Iterator[str]:
    with running(create_app(people_gallery)) as url:
        yield url


def test_name_a_person_see_their_photos_and_their_face_boxes(
    page: Page, people_server: str, people_gallery: Config
) -> None:
    page.goto(f"{people_server}/people")
    page.wait_for_selector("#page[data-people='4']")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.person-face img')].every(i => i.naturalWidth === 128)"
    )
    drawn = int(page.get_attribute("#page", "data-drawn") or 0)
    card = page.locator(".person-card:has-text('2 photos')")
    card.locator("input.person-name").fill("Eileen Collins")
    card.locator("input.person-name").press("Enter")
    # The list is drawn again from the server's answer once the name is stored.
    page.wait_for_function(
        "(drawn) => Number(document.querySelector('#page').dataset.drawn) > drawn", arg=drawn
    )
    page.wait_for_function(
        "() => document.querySelector('.person-card input.person-name').value === 'Eileen Collins'"
    )
    assert Gallery(people_gallery).person("eileen collins").count == 2
    page.click(".person-card:first-child .person-face")
    page.wait_for_selector("#chips .crumbs:has-text('Eileen Collins')")
    page.wait_for_function("() => document.querySelectorAll('#grid .tile.loaded').length === 2")
    page.click("#grid .tile >> nth=0")
    page.wait_for_selector(".detail img.media")
    page.wait_for_function("() => document.querySelector('.detail img.media').naturalWidth > 0")
    page.keyboard.press("a")
    page.wait_for_selector(".face-layer .face-box .face-name:has-text('Eileen Collins')")
    box = page.locator(".face-box").bounding_box()
    image = page.locator(".detail img.media").bounding_box()
    assert box is not None and image is not None
    assert box["width"] > 20 and image["x"] <= box["x"] <= image["x"] + image["width"]
    # Stepping on keeps the boxes on: the other astronaut photo has one too.
    page.keyboard.press("ArrowRight")
    page.wait_for_selector(".face-layer[data-faces='1'] .face-name:has-text('Eileen Collins')")
    # A click on a box: search that face.
    page.click(".face-box")
    page.click(".face-menu button:has-text('Same face')")
    page.wait_for_selector("#page[data-same='2']")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.same-face img')].every(i => i.naturalWidth > 0)"
    )


def test_merge_two_people_by_selection(page: Page, people_server: str) -> None:
    page.goto(f"{people_server}/people")
    page.wait_for_selector("#page[data-people]")
    before = int(page.get_attribute("#page", "data-people") or 0)
    picks = page.locator(".person-card:has-text('1 photo') .person-pick")
    picks.nth(0).check()
    picks.nth(1).check()
    page.click("button:has-text('Merge selected')")
    page.wait_for_selector(f"#page[data-people='{before - 1}']")


def test_hide_a_person_then_bring_them_back(page: Page, people_server: str) -> None:
    page.goto(f"{people_server}/people")
    page.wait_for_selector("#page[data-people]")
    before = int(page.get_attribute("#page", "data-people") or 0)
    page.locator(".person-card .person-pick").nth(0).check()
    page.click("button:has-text('Hide selected')")
    page.wait_for_selector(f"#page[data-people='{before - 1}']")
    assert page.locator(".person-unhide").count() == 0
    page.check("label:has-text('Show hidden') input")
    page.wait_for_selector(f"#page[data-people='{before}'] .person-card.person-hidden")
    assert page.locator(".person-card.person-hidden").count() == 1
    page.click(".person-hidden .person-unhide")
    page.wait_for_function(
        "() => !document.querySelector('.person-card.person-hidden')"
        " && document.querySelectorAll('.person-card').length > 0"
    )
    page.uncheck("label:has-text('Show hidden') input")
    page.wait_for_selector(f"#page[data-people='{before}']")
