"""The web app in Chromium on the real photos: grid, search, detail, video, tagging, map."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from homegallery.config import Config
from homegallery.gallery import Gallery

pytestmark = pytest.mark.browser
Page = Any  # playwright's Page (typed loosely: playwright is a test-only dependency)


def open_grid(page: Page, url: str, query: str = "") -> None:
    page.goto(f"{url}/" + (f"search/{quote(query, safe='')}" if query else ""))
    page.wait_for_selector(".tile.loaded")


def wait_for_tile_ids(page: Page, count: int | None = None) -> list[str]:
    """The ids of the rendered tiles in grid order, once every tile shows an entry.

    Read in the same look as the wait: a live refresh or a new layout may place the
    tiles again between two separate looks from here.
    """
    handle = page.wait_for_function(
        """(count) => {
            const tiles = [...document.querySelectorAll('#grid .tile')];
            tiles.sort((a, b) => a.dataset.index - b.dataset.index);
            const ids = tiles.map((t) => t.dataset.id);
            const ready = ids.length > 0 && ids.every(Boolean);
            return ready && (count === null || ids.length === count) ? ids : null;
        }""",
        arg=count,
    )
    ids: list[str] = handle.json_value()
    return ids


def test_grid_shows_the_real_photos(page: Page, real_server: str, real_gallery: Config) -> None:
    open_grid(page, real_server)
    total = len(Gallery(real_gallery))
    assert page.get_attribute("#timeline", "data-total") == str(total)
    # One check in the page: the grid may lay itself out again (a scrollbar appears),
    # which refills its tiles, between two separate looks from here.
    page.wait_for_function(
        "() => [...document.querySelectorAll('.tile.loaded img')]"
        ".filter(i => i.naturalWidth > 0).length >= 20"
    )
    # previews are sized to the tiles: no 1280 px preview for a 220 px row
    sources = page.eval_on_selector_all(
        ".tile img[src]", "imgs => imgs.map(i => i.getAttribute('src'))"
    )
    assert sources and all("image-preview-1280" not in src for src in sources)
    assert page.locator(".group-header").first.inner_text().split("\n")[0]
    assert page.evaluate("document.querySelectorAll('*').length") < 1000
    page.wait_for_selector("#chips[data-query=''] .chip:has-text('Videos')")  # there is one


def test_search_year_2008(page: Page, real_server: str, real_gallery: Config) -> None:
    open_grid(page, real_server)
    page.fill("#query", "year:2008")
    page.press("#query", "Enter")
    expected = Gallery(real_gallery).search_ids("year:2008")
    page.wait_for_selector(f"#timeline[data-total='{len(expected)}']")
    assert wait_for_tile_ids(page, len(expected)) == expected
    assert page.url.endswith("/search/year%3A2008")
    headers = page.locator(".group-header").all_inner_texts()
    assert headers and all("2008" in header for header in headers)


def test_a_bad_query_shows_the_column(page: Page, real_server: str) -> None:
    open_grid(page, real_server)
    page.fill("#query", "year:20)08")
    page.press("#query", "Enter")
    error = page.wait_for_selector("#query-error:not([hidden])")
    assert "Column 8" in error.inner_text()
    assert page.inner_text("#query-error mark") == ")"


def test_open_a_photo_and_step_to_the_next(
    page: Page, real_server: str, real_gallery: Config
) -> None:
    expected = Gallery(real_gallery).search_ids("", limit=3)
    open_grid(page, real_server)
    page.click(f".tile[data-id='{expected[0]}']")
    page.wait_for_selector(f".detail[data-id='{expected[0]}'] img.media")
    page.keyboard.press("ArrowRight")
    page.wait_for_selector(f".detail[data-id='{expected[1]}']")
    page.click(".detail .next")
    page.wait_for_selector(f".detail[data-id='{expected[2]}']")
    page.keyboard.press("ArrowLeft")
    page.wait_for_selector(f".detail[data-id='{expected[1]}']")
    page.wait_for_function("() => document.querySelector('.detail img.media').naturalWidth > 0")
    page.keyboard.press("Escape")
    page.wait_for_selector(".detail", state="hidden")


def test_detail_shows_metadata_and_chips_search(
    page: Page, real_server: str, real_gallery: Config
) -> None:
    gps = Gallery(real_gallery).search("city:arezzo", limit=1)[0]
    open_grid(page, real_server, "city:arezzo")
    page.click(f".tile[data-id='{gps.id}']")
    info = page.wait_for_selector(".detail .info")
    if not info.is_visible():
        page.keyboard.press("i")
    page.wait_for_selector(".detail .small-map .leaflet-marker-icon")
    text = page.inner_text(".detail .info")
    assert "COOLPIX P6000" in text and "Arezzo" in text and "2008" in text
    page.click(".detail .info .chip:has-text('Tuscany')")
    page.wait_for_selector(".detail", state="hidden")
    assert page.input_value("#query") == "state:Tuscany"


def test_play_a_video(page: Page, real_server: str) -> None:
    open_grid(page, real_server, "type:video")
    page.click(".tile.video")
    page.wait_for_selector(".detail video.media")
    page.evaluate(
        "() => { const v = document.querySelector('.detail video'); v.muted = true; return v.play(); }"
    )
    page.wait_for_function(
        "() => document.querySelector('.detail video').currentTime > 0.3", timeout=15000
    )
    assert page.evaluate("document.querySelector('.detail video').videoWidth") == 640


def test_tag_two_photos_and_find_them(page: Page, real_server: str, real_gallery: Config) -> None:
    open_grid(page, real_server, "year:2008")
    chosen = wait_for_tile_ids(page)[:2]
    page.click("#select-button")
    for media_id in chosen:
        page.click(f".tile[data-id='{media_id}']")
    assert page.inner_text("#selection-count") == "2 selected"
    page.fill("#selection-tag", "browser walk")
    page.click("#selection-form button[value='add']")
    page.wait_for_selector("#toast:has-text('Tagged 2 items')")
    page.fill("#query", 'tag:"browser walk"')
    page.press("#query", "Enter")
    page.wait_for_selector("#timeline[data-total='2']")
    assert sorted(wait_for_tile_ids(page, 2)) == sorted(chosen)
    assert all(
        e.user == "web" for e in Gallery(real_gallery).events() if "browser walk" in e.add_tags
    )


def test_tag_editing_in_the_detail_view(page: Page, real_server: str, real_gallery: Config) -> None:
    target = Gallery(real_gallery).search("type:image", limit=1)[0]
    open_grid(page, real_server)
    page.click(f".tile[data-id='{target.id}']")
    page.wait_for_selector(".detail .info")
    if not page.is_visible(".detail .info .tag-form"):
        page.keyboard.press("i")
    page.fill(".detail .info .tag-form input", "sunset")
    page.press(".detail .info .tag-form input", "Enter")
    page.wait_for_selector(".detail .info .tag .chip:has-text('sunset')")
    assert "sunset" in (Gallery(real_gallery).entry(target.id) or target).tags
    page.click(".detail .info .tag-remove[aria-label='Remove tag sunset']")
    page.wait_for_selector(".detail .info .tag .chip:has-text('sunset')", state="detached")
    assert "sunset" not in (Gallery(real_gallery).entry(target.id) or target).tags


def test_map_clusters_places_without_outside_requests(page: Page, real_server: str) -> None:
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(f"{real_server}/map")
    page.wait_for_selector(".marker-cluster, .leaflet-marker-icon")
    total = int(page.get_attribute("#map-view", "data-points") or 0)
    assert total >= 9
    assert hosts == {urlsplit(real_server).netloc}
    # the server's clusters of the view: every place counted once, no list of points
    page.wait_for_function("n => Number(document.getElementById('map-view').dataset.shown) === n",
                           arg=total)  # fmt: skip
    clustered = [url for url in asked if "/api/places/clusters" in url]
    assert clustered and any("bounds=" in url for url in clustered)
    assert not any("/api/places?" in url or url.endswith("/api/places") for url in asked)
    if page.locator("#map-view .marker-cluster").count():
        # a cluster's click zooms in, and the clusters of the nearer view are drawn
        zoom = int(page.get_attribute("#map-view", "data-zoom") or 0)
        page.locator("#map-view .marker-cluster").first.click()
        page.wait_for_function(
            "zoom => Number(document.getElementById('map-view').dataset.zoom) > zoom", arg=zoom
        )
        # a second click while the first one's zoom still runs is kept, not dropped
        zoom = int(page.get_attribute("#map-view", "data-zoom") or 0)
        if page.locator("#map-view .marker-cluster").count() and zoom <= 15:
            page.evaluate(
                """async () => {
                  const cluster = () => document.querySelector('#map-view .marker-cluster');
                  cluster().click();
                  for (let frame = 0; frame < 120; frame++) {
                    if (document.querySelector('#map-view .leaflet-zoom-anim')) break;
                    await new Promise((resolve) => requestAnimationFrame(resolve));
                  }
                  cluster()?.click();
                }"""
            )
            page.wait_for_function(
                "zoom => Number(document.getElementById('map-view').dataset.zoom) >= zoom + 4",
                arg=zoom,
            )


def test_the_grid_lays_out_from_the_packed_timeline(
    page: Page, real_server: str, real_gallery: Config
) -> None:
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    expected = Gallery(real_gallery).search_ids("")
    open_grid(page, real_server)
    assert any("/api/timeline?" in url and "form=packed" in url for url in asked)
    assert page.get_attribute("#timeline", "data-total") == str(len(expected))
    first = page.locator(f".tile[data-id='{expected[0]}']")
    box = first.bounding_box()
    entry = Gallery(real_gallery).entry(expected[0])
    assert box is not None and entry is not None and entry.width and entry.height
    assert box["width"] / box["height"] == pytest.approx(entry.width / entry.height, rel=0.05)


def test_keyboard_moves_through_the_grid(
    page: Page, real_server: str, real_gallery: Config
) -> None:
    expected = Gallery(real_gallery).search_ids("", limit=2)
    open_grid(page, real_server)
    page.focus(f".tile[data-id='{expected[0]}']")
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.activeElement.dataset.id") == expected[1]
    page.keyboard.press("Enter")
    page.wait_for_selector(f".detail[data-id='{expected[1]}']")


def test_on_a_phone_the_grid_fits_and_swipes_step(
    browser: Any, real_server: str, real_gallery: Config
) -> None:
    expected = Gallery(real_gallery).search_ids("", limit=2)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)  # fmt: skip
    page = context.new_page()
    try:
        open_grid(page, real_server)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.tap(f".tile[data-id='{expected[0]}']")
        page.wait_for_selector(f".detail[data-id='{expected[0]}'] img.media")
        swipe = """(distance) => {
            const stage = document.querySelector('.detail .stage');
            const at = (x) => ({pointerId: 7, pointerType: 'touch', clientX: x, clientY: 400, bubbles: true});
            stage.dispatchEvent(new PointerEvent('pointerdown', at(300)));
            stage.dispatchEvent(new PointerEvent('pointermove', at(300 - distance)));
            stage.dispatchEvent(new PointerEvent('pointerup', at(300 - distance)));
        }"""
        page.evaluate(swipe, 200)
        page.wait_for_selector(f".detail[data-id='{expected[1]}']")
    finally:
        context.close()


def test_a_live_refresh_changes_tiles_in_place(
    page: Page, real_server: str, real_gallery: Config
) -> None:
    """A catalog change during viewing (an import, someone tagging) must not blank the grid."""
    open_grid(page, real_server)
    shown = wait_for_tile_ids(page)
    page.evaluate(
        """() => {
            window.blankTiles = 0;
            for (const tile of document.querySelectorAll('#grid .tile')) tile.probe = true;
            new MutationObserver((records) => {
                for (const record of records) {
                    const tile = record.target;
                    if (tile.isConnected && !tile.dataset.id) window.blankTiles += 1;
                }
            }).observe(document.getElementById('grid'),
                       { attributes: true, subtree: true, attributeFilter: ['data-id'] });
        }"""
    )
    version = page.get_attribute("#timeline", "data-version")
    Gallery(real_gallery).tag([shown[0]], add=["seen live"])
    page.wait_for_function(
        "(old) => document.getElementById('timeline').dataset.version !== old", arg=version
    )
    assert wait_for_tile_ids(page, len(shown)) == shown
    assert page.evaluate("window.blankTiles") == 0
    kept = page.evaluate(
        "[...document.querySelectorAll('#grid .tile')].filter(t => t.probe).length"
    )
    assert kept == len(shown)


def test_the_detail_view_shows_similar_photos_and_labels(
    page: Page, ml_server: str, ml_gallery: Config
) -> None:
    gallery = Gallery(ml_gallery)
    photo = gallery.search("file:landscape_1", limit=1)[0]
    neighbours = [entry.id for entry, _ in gallery.similar(photo.id, k=12)]
    assert len(neighbours) >= 7  # the other stored orientations of the same scene
    open_grid(page, ml_server, "file:landscape_1")
    page.click(f".tile[data-id='{photo.id}']")
    if not page.wait_for_selector(".detail .info").is_visible():
        page.keyboard.press("i")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.detail .similar-item img')]"
        ".filter(i => i.naturalWidth > 0).length >= 7"
    )
    shown = page.eval_on_selector_all(
        ".detail .similar-item img", "images => images.map(i => i.getAttribute('src'))"
    )
    assert all(any(other[4:] in src for other in neighbours) for src in shown)
    assert page.inner_text(".detail .info .labels").startswith("valley")
    page.click(".detail .similar-item >> nth=0")
    page.wait_for_selector(f".detail[data-id='{neighbours[0]}']")
    page.click(".detail .info .chip:has-text('More like this')")
    page.wait_for_selector(".detail", state="hidden")
    assert page.input_value("#query") == f"similar:{neighbours[0]}"
    # the grid has the new result once the timeline names its query
    page.wait_for_function(
        "(query) => document.querySelector('#timeline').dataset.query === query",
        arg=f"similar:{neighbours[0]}",
    )
    assert wait_for_tile_ids(page)[0] == neighbours[0]
