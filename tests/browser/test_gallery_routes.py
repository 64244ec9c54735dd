"""Every view has its own address: links, Back and Forward, reload and a new tab."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from homegallery.config import Config
from homegallery.gallery import Gallery
from homegallery.samples import write_sample_photo
from homegallery.server import create_app
from homegallery.server.runner import running

from .galleries import build_sample_gallery, update_gallery

pytestmark = pytest.mark.browser
Page = Any


def tile_ids(page: Page) -> list[str]:
    handle = page.wait_for_function(
        """() => {
            const tiles = [...document.querySelectorAll('#grid .tile')];
            tiles.sort((a, b) => a.dataset.index - b.dataset.index);
            const ids = tiles.map((t) => t.dataset.id);
            return ids.length > 0 && ids.every(Boolean) ? ids : null;
        }"""
    )
    ids: list[str] = handle.json_value()
    return ids


def test_each_route_shows_its_view(page: Page, real_server: str, real_gallery: Config) -> None:
    gallery = Gallery(real_gallery)
    year_2008 = gallery.search_ids("year:2008")
    first = gallery.search_ids("", limit=1)[0]
    page.goto(f"{real_server}/search/{quote('year:2008', safe='')}")
    page.wait_for_selector(f"#timeline[data-total='{len(year_2008)}']")
    assert page.input_value("#query") == "year:2008"
    page.goto(f"{real_server}/years/2008")
    page.wait_for_selector(f"#timeline[data-total='{len(year_2008)}']")
    assert page.title().startswith("2008")
    page.goto(f"{real_server}/years")
    page.wait_for_selector("#page .year-link:has-text('2008')")
    page.click("#page .year-link:has-text('2008')")
    page.wait_for_url(f"{real_server}/years/2008")
    page.wait_for_selector(f"#timeline[data-total='{len(year_2008)}']")
    page.goto(f"{real_server}/view/{first}")
    page.wait_for_selector(f".detail[data-id='{first}'] img.media")
    page.goto(f"{real_server}/map")
    page.wait_for_selector("#map-view .leaflet-marker-icon, #map-view .marker-cluster")
    page.goto(f"{real_server}/tags")
    page.wait_for_selector("#page .tag-cloud")
    page.goto(f"{real_server}/view/0123456789abcdef")  # answered 404, the app says why
    page.wait_for_selector("#page h1:has-text('Not found')")


def test_the_server_answers_app_routes_with_the_app(real_server: str, real_gallery: Config) -> None:
    first = Gallery(real_gallery).search_ids("", limit=1)[0]
    for path in ("/", "/search/year%3A2008", "/search/a/b", "/years", "/years/2008", "/tags",
                 "/map", "/folders", "/folders/photos/gps", "/albums", "/albums/Trips/2019",
                 "/shares", f"/view/{first}", f"/similar/{first}"):  # fmt: skip
        response = httpx.get(real_server + path)
        assert response.status_code == 200, path
        assert '<script type="module"' in response.text, path
    for path in ("/view/0123456789abcdef", "/similar/0123456789abcdef", "/view/not-an-id"):
        response = httpx.get(real_server + path)
        assert response.status_code == 404, path
        assert '<script type="module"' in response.text  # the app says what is missing
    assert httpx.get(real_server + "/nothing/here").status_code == 404


def test_back_returns_to_the_grid_where_it_was(
    page: Page, real_server: str, real_gallery: Config
) -> None:
    page.set_viewport_size({"width": 900, "height": 500})
    page.goto(f"{real_server}/")
    ids = tile_ids(page)
    page.evaluate("() => { document.getElementById('timeline').scrollTop = 400; }")
    page.wait_for_timeout(100)
    scrolled = page.evaluate("document.getElementById('timeline').scrollTop")
    assert scrolled > 0
    ids = tile_ids(page)
    target = ids[len(ids) // 2]
    page.click(f".tile[data-id='{target}']", position={"x": 5, "y": 5})
    page.wait_for_selector(f".detail[data-id='{target}']")
    assert f"/view/{target}" in page.url
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => !location.pathname.endsWith('/view/{target}')")
    stepped = page.url
    page.go_back()
    page.wait_for_selector(".detail", state="hidden")
    assert page.url == f"{real_server}/"
    assert abs(page.evaluate("document.getElementById('timeline').scrollTop") - scrolled) < 2
    page.go_forward()
    page.wait_for_selector(".detail:not([hidden])")
    assert page.url == stepped
    page.keyboard.press("Escape")
    page.wait_for_selector(".detail", state="hidden")
    assert page.url == f"{real_server}/"


def test_a_reload_and_a_new_tab_show_the_same_photo_in_its_result(
    page: Page, real_server: str, real_gallery: Config
) -> None:
    result = Gallery(real_gallery).search_ids("year:2008")
    assert len(result) >= 3
    address = f"{real_server}/view/{result[1]}?q={quote('year:2008')}"
    page.goto(address)
    page.wait_for_selector(f".detail[data-id='{result[1]}'] img.media")
    page.reload()
    page.wait_for_selector(f".detail[data-id='{result[1]}'] img.media")
    page.keyboard.press("ArrowRight")  # steps within the search it was opened from
    page.wait_for_selector(f".detail[data-id='{result[2]}']")
    assert f"/view/{result[2]}" in page.url and "q=year%3A2008" in page.url
    tab = page.context.new_page()
    tab.goto(page.url)
    tab.wait_for_selector(f".detail[data-id='{result[2]}'] img.media")
    tab.keyboard.press("ArrowLeft")
    tab.wait_for_selector(f".detail[data-id='{result[1]}']")
    tab.keyboard.press("Escape")  # no history to go back to: the list it belongs to
    tab.wait_for_selector(".detail", state="hidden")
    assert tab.url.endswith("/years/2008")
    tab.close()


def test_detail_keys_and_the_key_help(page: Page, real_server: str, real_gallery: Config) -> None:
    result = Gallery(real_gallery).search_ids("")
    assert len(result) > 12
    page.goto(f"{real_server}/view/{result[0]}")
    page.wait_for_selector(f".detail[data-id='{result[0]}']")
    page.keyboard.press("Control+ArrowRight")
    page.wait_for_selector(f".detail[data-id='{result[10]}']")
    page.keyboard.press("End")
    page.wait_for_selector(f".detail[data-id='{result[-1]}']")
    page.keyboard.press("Home")
    page.wait_for_selector(f".detail[data-id='{result[0]}']")
    page.keyboard.press("?")
    help_box = page.wait_for_selector("#help:not([hidden])")
    text = help_box.inner_text()
    assert "similar" in text and "Backspace" in text and "Ctrl" in text
    page.keyboard.press("Escape")
    page.wait_for_selector("#help", state="hidden")
    assert page.is_visible(".detail")
    page.keyboard.press("Backspace")
    page.wait_for_selector(".detail", state="hidden")


def test_a_search_error_says_the_grid_shows_the_previous_result(
    page: Page, real_server: str
) -> None:
    page.goto(f"{real_server}/search/{quote('year:2008', safe='')}")
    page.wait_for_selector("#timeline[data-query='year:2008']")
    page.fill("#query", "year:20)08")
    page.press("#query", "Enter")
    error = page.wait_for_selector("#query-error:not([hidden])")
    assert "still shows the previous result: year:2008" in error.inner_text()


def test_the_folder_tree_opens_level_by_level_and_shows_each_folders_media(
    page: Page, real_server: str, real_gallery: Config
) -> None:
    gallery = Gallery(real_gallery)
    in_gps = gallery.count('folder:"photos/gps"')
    assert 0 < in_gps < len(gallery)
    page.goto(f"{real_server}/folders")
    root = page.wait_for_selector(".folder[data-path='photos'] .folder-row")
    assert root.inner_text().split()[-1] == str(len(gallery))
    assert page.locator(".folder[data-path='photos/gps']").count() == 0  # not asked for yet
    page.click(".folder[data-path='photos'] .folder-toggle")
    page.click(".folder[data-path='photos/gps'] .folder-link")
    page.wait_for_url(f"{real_server}/folders/photos/gps")
    page.wait_for_selector(f"#timeline[data-total='{in_gps}']")
    assert set(tile_ids(page)) == set(gallery.search_ids('folder:"photos/gps"'))
    page.reload()  # the tree opens down to the folder again
    page.wait_for_selector(".folder[data-path='photos/gps'] .folder-row.current")
    page.wait_for_selector(f"#timeline[data-total='{in_gps}']")
    page.go_back()
    page.wait_for_url(f"{real_server}/folders")
    page.wait_for_selector(f"#timeline[data-total='{len(gallery)}']")


def test_pick_photos_into_a_nested_album_and_save_a_search_as_one(
    page: Page, real_server: str, real_gallery: Config
) -> None:
    gallery = Gallery(real_gallery)
    page.goto(f"{real_server}/search/{quote('year:2008', safe='')}")
    chosen = tile_ids(page)[:2]
    page.click("#select-button")
    for media_id in chosen:
        page.click(f".tile[data-id='{media_id}']")
    page.fill("#selection-tag", "Trips/Tuscany")
    page.click("#selection-form button[value='album']")
    page.wait_for_selector("#toast:has-text('Added 2 items to the album Trips/Tuscany')")
    assert page.inner_text("#selection-count") == "2 selected"  # kept until Done
    page.click("#selection-clear")
    page.click("#albums-link")
    page.wait_for_url(f"{real_server}/albums")
    page.fill(".album-form input[name=name]", "Trips/Cameras")
    page.fill(".album-form input[name=query]", "type:image camera:nikon")
    page.click(".album-form button[type=submit]")
    page.wait_for_selector(".album-card[data-name='Trips/Cameras']")
    assert page.inner_text(".album-group") == "Trips"
    page.click(".album-card[data-name='Trips/Tuscany']")
    page.wait_for_url(f"{real_server}/albums/Trips/Tuscany")
    page.wait_for_selector("#timeline[data-total='2']")
    assert sorted(tile_ids(page)) == sorted(chosen)
    page.click("#chips .album-bar a:has-text('Trips')")
    page.wait_for_url(f"{real_server}/albums/Trips")
    page.click("#page .album-bar a:has-text('Cameras')")
    page.wait_for_url(f"{real_server}/albums/Trips/Cameras")
    nikons = gallery.count("type:image camera:nikon")
    page.wait_for_selector(f"#timeline[data-total='{nikons}']")
    page.reload()
    page.wait_for_selector(f"#timeline[data-total='{nikons}']")


def test_on_this_day_shows_earlier_years_on_the_start_page(page: Page, tmp_path: Path) -> None:
    config = build_sample_gallery(tmp_path / "gallery")
    today = date.today()
    day = today.day
    photo = Path(config.sources[0].dir) / "memories" / "IMG_TODAY.jpg"
    taken = datetime(2016 if (today.month, day) == (2, 29) else 2015, today.month, day, 9, 0)
    write_sample_photo(photo, 400, 300, seed=7, taken=taken)
    update_gallery(config)
    earlier = Gallery(config).count(f"month:{today.month} day:{day} year < {today.year}")
    assert earlier >= 1
    with running(create_app(config)) as url:
        page.goto(f"{url}/")
        memory = page.wait_for_selector("#chips .memories")
        assert f"On this day · {earlier}" in memory.inner_text()
        memory.click()
        page.wait_for_selector(f"#timeline[data-total='{earlier}']")
        page.goto(f"{url}/search/year%3A2016")
        page.wait_for_selector("#timeline[data-query='year:2016']")
        page.wait_for_selector("#chips .chip")
        assert page.locator("#chips .memories").count() == 0  # on the start page only


def test_the_map_draws_country_outlines_without_a_tile_server(
    page: Page, real_server: str, real_gallery: Config
) -> None:
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    page.goto(f"{real_server}/map")
    page.wait_for_function(
        "() => Number(document.getElementById('map-view').dataset.outlines || 0) > 200"
    )
    assert page.locator("#map-view .leaflet-overlay-pane canvas").count() >= 1
    assert "server.tileUrl" in page.inner_text("#map-view .leaflet-control-attribution")
    # the outlines are drawn: the canvas is not blank where Europe is
    page.evaluate("() => document.querySelector('#map-view').scrollIntoView()")
    gps = Gallery(real_gallery).search("exists geo", limit=1)[0]
    page.goto(f"{real_server}/view/{gps.id}")
    page.wait_for_selector(".detail .info")
    if not page.is_visible(".detail .info .small-map"):
        page.keyboard.press("i")
    page.wait_for_function(
        "() => Number(document.querySelector('.detail .small-map')?.dataset.outlines || 0) > 200"
    )
    assert hosts == {real_server.split("/")[2]}


def test_on_a_phone_the_views_fit_and_the_menu_opens_them(
    browser: Any, real_server: str, real_gallery: Config
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)  # fmt: skip
    page = context.new_page()
    try:
        page.goto(f"{real_server}/")
        page.wait_for_selector(".tile.loaded")
        assert page.is_hidden("#view-links a[data-view='folders']")
        page.tap("#menu-button")
        page.tap("#view-links a[data-view='folders']")
        page.wait_for_url(f"{real_server}/folders")
        page.wait_for_selector(".folder[data-path='photos'] .folder-row")
        page.tap(".folder[data-path='photos'] .folder-toggle")
        page.tap(".folder[data-path='photos/gps'] .folder-link")
        in_gps = Gallery(real_gallery).count('folder:"photos/gps"')
        page.wait_for_selector(f"#timeline[data-total='{in_gps}']")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        tree = page.eval_on_selector("#folder-tree", "e => e.getBoundingClientRect().bottom")
        grid = page.eval_on_selector("#timeline", "e => e.getBoundingClientRect().top")
        assert grid >= tree - 1  # the tree above the grid, not over it
        for path in ("/years", "/tags", "/albums", "/map"):
            page.goto(real_server + path)
            page.wait_for_load_state("networkidle")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    finally:
        context.close()


def test_a_small_photo_is_scaled_up_to_the_stage(
    page: Page, real_server: str, real_gallery: Config
) -> None:
    small = Gallery(real_gallery).search("type:image width < 700 width > 0", limit=1)
    if not small:
        pytest.skip("no small photo among the test photos")
    page.goto(f"{real_server}/view/{small[0].id}")
    page.wait_for_function("() => document.querySelector('.detail img.media')?.naturalWidth > 0")
    sizes = page.evaluate(
        """() => {
            const image = document.querySelector('.detail img.media');
            const stage = document.querySelector('.detail .stage').getBoundingClientRect();
            const box = image.getBoundingClientRect();
            const scale = Math.min(box.width / image.naturalWidth, box.height / image.naturalHeight);
            return { scale, width: box.width, stage: stage.width };
        }"""
    )
    assert sizes["scale"] > 1.2 and abs(sizes["width"] - sizes["stage"]) < 2
