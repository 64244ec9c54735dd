"""The static export in Chromium: opened from disk (file://) and from a plain static
web server, on the real photos with their real embeddings."""

from __future__ import annotations

import base64
import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import numpy as np
import pytest

from homegallery.config import Config
from homegallery.export.static import export_static

pytestmark = pytest.mark.browser
Page = Any


@pytest.fixture(scope="module")
def exported(ml_gallery: Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("static") / "album"
    export_static(ml_gallery, "", out, title="Holidays", quiet=True)
    return out


def records(folder: Path) -> list[dict[str, Any]]:
    text = (folder / "data.js").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text.split("=", 1)[1].strip().rstrip(";"))
    entries: list[dict[str, Any]] = data["entries"]
    return entries


def grid_ids(page: Page, count: int) -> list[str]:
    page.wait_for_selector(f"#grid[data-total='{count}']")
    ids: list[str] = page.eval_on_selector_all("#grid .tile", "ts => ts.map(t => t.dataset.id)")
    return ids


def expected_similar(entries: list[dict[str, Any]], media_id: str) -> list[str]:
    vectors = {
        e["id"]: np.frombuffer(base64.b64decode(e["v"]), dtype=np.int8).astype(np.float64)
        for e in entries
        if "v" in e
    }
    own = vectors[media_id]
    scores = {
        other: float(own @ vector / (np.linalg.norm(own) * np.linalg.norm(vector)))
        for other, vector in vectors.items()
        if other != media_id
    }
    kept = [(score, other) for other, score in scores.items() if score >= 0.5]
    return [other for _, other in sorted(kept, key=lambda pair: -pair[0])]


def test_from_disk_grid_search_detail_similar_and_map(page: Page, exported: Path) -> None:
    entries = records(exported)
    url = (exported / "index.html").as_uri()
    page.goto(url)
    assert grid_ids(page, len(entries)) == [e["id"] for e in entries]
    assert page.title() == "Holidays"
    page.wait_for_function(
        "() => [...document.querySelectorAll('#grid img')].filter(i => i.naturalWidth > 0).length >= 10"
    )
    # search in the browser, over the exported entries
    page.fill("#query", "year:2008 nikon")
    page.press("#query", "Enter")
    wanted = [e["id"] for e in entries if e.get("year") == 2008 and "nikon" in e["text"]]
    assert wanted and grid_ids(page, len(wanted)) == wanted
    # detail view: the preview, the arrow keys, Escape back to the list
    page.click(f".tile[data-id='{wanted[0]}']")
    page.wait_for_function(
        "() => { const i = document.querySelector('#detail:not([hidden]) img.media');"
        " return i && i.naturalWidth > 0; }"
    )
    if len(wanted) > 1:
        page.keyboard.press("ArrowRight")
        page.wait_for_selector(f"#detail[data-id='{wanted[1]}']")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_selector("#grid:not([hidden])")
    # similar photos: the browser's cosine ranking is the int8 vectors' own
    with_vector = next(e for e in entries if "v" in e and expected_similar(entries, e["id"]))
    expected = expected_similar(entries, with_vector["id"])
    page.goto(f"{url}#/similar/{with_vector['id']}")
    assert grid_ids(page, len(expected)) == expected
    # the map: a circle per placed entry on the country outlines, nothing from outside
    placed = sum(1 for e in entries if "lat" in e)
    page.goto(f"{url}#/map")
    page.wait_for_selector(f"#map[data-points='{placed}']")
    page.wait_for_function(
        f"() => document.querySelectorAll('#map path.place').length === {placed}"
    )
    outlines = page.eval_on_selector_all("#map path:not(.place)", "paths => paths.length")
    assert outlines > 100  # the countries


@pytest.fixture
def static_server(exported: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(exported))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_from_a_static_web_server(page: Page, exported: Path, static_server: str) -> None:
    entries = records(exported)
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.goto(static_server + "/")
    assert grid_ids(page, len(entries)) == [e["id"] for e in entries]
    tagged = next((e for e in entries if e.get("tags")), None)
    if tagged is not None:
        query = f'tag:"{tagged["tags"][0]}"'
        page.goto(f"{static_server}/#/search/{quote(query, safe='')}")
        expected = [e["id"] for e in entries
                    if tagged["tags"][0].lower() in [t.lower() for t in e.get("tags", [])]]  # fmt: skip
        assert grid_ids(page, len(expected)) == expected
    video = next(e for e in entries if "video" in e)
    page.goto(f"{static_server}/#/view/{video['id']}")
    page.wait_for_function(
        "() => { const v = document.querySelector('#detail video.media');"
        " return v && v.readyState >= 1 && v.duration > 0; }"
    )
    assert hosts == {urlsplit(static_server).netloc}
