"""A file extract could not read: the grid shows it broken and the detail view says
why, naming it by its path in the source, never by where it is on the server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from homegallery.config import Config
from homegallery.server import create_app
from homegallery.server.runner import running

from .galleries import build_gallery, write_samples

pytestmark = pytest.mark.browser
Page = Any  # playwright's Page


@pytest.fixture(scope="module")
def broken_gallery(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("broken")
    originals = root / "originals"
    photos = write_samples(originals, count=3)
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 200, 10)).save(buffer, "JPEG")
    cut = originals / "trip" / "cut.jpg"
    cut.parent.mkdir(parents=True)
    cut.write_bytes(buffer.getvalue()[:60])  # the header only: no image data
    return build_gallery(root, [*photos, cut], originals)


@pytest.fixture(scope="module")
def broken_server(broken_gallery: Config) -> Iterator[str]:
    with running(create_app(broken_gallery, poll_seconds=0.2)) as url:
        yield url


def test_a_file_that_failed_is_a_broken_tile_with_its_reason(
    page: Page, broken_server: str, broken_gallery: Config
) -> None:
    page.goto(f"{broken_server}/search/filename%3Acut.jpg")
    tile = page.wait_for_selector("#grid .tile.broken")
    title = tile.get_attribute("title") or ""
    assert title.startswith("trip/cut.jpg: preview failed: cannot decode: "), title
    assert "cannot be shown" in tile.inner_text()
    source = str(broken_gallery.sources[0].path)
    assert source not in title

    tile.click()
    message = page.wait_for_selector("#detail .no-preview.broken")
    text = message.inner_text()
    assert text.startswith("This file cannot be shown")
    assert "preview failed: cannot decode: " in text and "JPEG" in text
    assert source not in text and "Vips" not in text
    assert "No preview of this file yet" not in page.content()

    page.goto(f"{broken_server}/")
    page.wait_for_selector("#grid .tile.loaded")
    assert page.locator("#grid .tile.broken").count() == 1  # the others are fine
