"""The app served under a path (``server.prefix``), as behind a reverse proxy that
gives it one: every page, file, API call, live update and redirect stays under it."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from homegallery.config import Config
from homegallery.gallery import Gallery
from homegallery.server import create_app
from homegallery.server.runner import running

from .galleries import build_gallery

pytestmark = pytest.mark.browser
Page = Any
PREFIX = "/family/photos"


@pytest.fixture(scope="module")
def prefixed_gallery(tmp_path_factory: pytest.TempPathFactory) -> Config:
    from homegallery.samples import shared_photos

    photos = shared_photos()
    if photos is None:
        pytest.skip(
            "the shared test photos (../shared/testdata/photos) are not beside this checkout"
        )
    files = sorted((photos / "gps").iterdir()) + sorted((photos / "cameras").iterdir())[:6]
    return build_gallery(
        tmp_path_factory.mktemp("prefixed"), files, photos, server={"prefix": PREFIX + "/"}
    )


def test_every_request_stays_under_the_prefix(
    page: Page, prefixed_gallery: Config, tmp_path: Path
) -> None:
    gallery = Gallery(prefixed_gallery)
    total = len(gallery)
    target = gallery.search("type:image", limit=1)[0]
    paths: list[str] = []
    with running(create_app(prefixed_gallery, poll_seconds=0.2)) as url:
        page.on("request", lambda request: paths.append(urlsplit(request.url).path))
        page.goto(url + "/")  # the bare server sends the browser to the prefix
        assert urlsplit(page.url).path == PREFIX + "/"
        page.wait_for_selector(f"#timeline[data-total='{total}']")
        page.wait_for_function(
            "() => [...document.querySelectorAll('.tile.loaded img')].some(i => i.naturalWidth > 0)"
        )
        # detail view with its preview, tag editing through the API
        page.click(f".tile[data-id='{target.id}']")
        page.wait_for_url(f"{url}{PREFIX}/view/{target.id}*")
        page.wait_for_function(
            "() => { const i = document.querySelector('.detail img.media');"
            " return i && i.naturalWidth > 0; }"
        )
        if not page.is_visible(".detail .info .tag-form"):
            page.keyboard.press("i")
        page.fill(".detail .info .tag-form input", "behind a proxy")
        page.press(".detail .info .tag-form input", "Enter")
        page.wait_for_selector(".detail .info .tag .chip:has-text('behind a proxy')")
        assert "behind a proxy" in (gallery.entry(target.id) or target).tags
        # search, years, map (Leaflet and the outlines come from under the prefix too)
        page.goto(f"{url}{PREFIX}/search/tag%3A%22behind%20a%20proxy%22")
        page.wait_for_selector("#timeline[data-total='1']")
        page.goto(f"{url}{PREFIX}/years")
        page.wait_for_selector("#page .year-link:has-text('2008')")
        page.click("#page .year-link:has-text('2008')")
        page.wait_for_url(f"{url}{PREFIX}/years/2008")
        page.goto(f"{url}{PREFIX}/map")
        page.wait_for_selector(".marker-cluster, .leaflet-marker-icon")
        # a reload of a view's own address shows the same view
        page.goto(f"{url}{PREFIX}/view/{target.id}")
        page.wait_for_selector(f".detail[data-id='{target.id}'] img.media")

        outside = [path for path in paths if path != "/" and not path.startswith(PREFIX + "/")]
        assert not outside, outside
        assert any(path.startswith(f"{PREFIX}/files/") for path in paths)
        assert any(path.startswith(f"{PREFIX}/api/") for path in paths)
        assert any(path.startswith(f"{PREFIX}/vendor/") for path in paths)
        # nothing answers outside the prefix but the redirect
        assert httpx.get(url + "/api/entries").status_code == 404
        assert httpx.get(url + f"/files/{target.id}/image-preview-320.jpg").status_code == 404
        assert httpx.get(url + PREFIX + "/api/entries").json()["total"] == total
