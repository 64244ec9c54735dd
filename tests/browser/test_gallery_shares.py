"""Share links in the browser: made from the app, opened in a fresh browser context."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from homegallery.config import Config
from homegallery.gallery import Gallery
from homegallery.server import create_app
from homegallery.server.passwords import hash_password
from homegallery.server.runner import running

from .galleries import build_sample_gallery

pytestmark = pytest.mark.browser
Page = Any
PASSWORD = "anna's long secret"
ANNA_SEES = "year:2016 or year:2017"


@pytest.fixture(scope="module")
def sharing_gallery(tmp_path_factory: pytest.TempPathFactory) -> Config:
    users = [{"username": "anna", "password": hash_password(PASSWORD), "filter": ANNA_SEES,
              "share": True}]  # fmt: skip
    return build_sample_gallery(tmp_path_factory.mktemp("sharing"), {"auth": {"users": users}})


@pytest.fixture(scope="module")
def sharing_server(sharing_gallery: Config) -> Iterator[str]:
    with running(create_app(sharing_gallery)) as url:
        yield url


def fresh_page(browser: Any) -> tuple[Any, Page]:
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return context, page


def test_a_link_made_in_the_app_shows_exactly_its_set_in_a_fresh_browser(
    page: Page, browser: Any, sharing_server: str, sharing_gallery: Config
) -> None:
    gallery = Gallery(sharing_gallery)
    shared = gallery.search_ids(f"({ANNA_SEES}) and year:2016")
    hidden = gallery.search_ids("not year:2016")
    page.goto(f"{sharing_server}/")
    page.wait_for_selector("#login:not([hidden])")
    page.fill("#login-form input[name=username]", "anna")
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login", state="hidden")
    page.fill("#query", "year:2016")
    page.press("#query", "Enter")
    page.wait_for_selector(f"#timeline[data-total='{len(shared)}']")
    page.click("#share-button")
    page.fill("#share-dialog input[name=title]", "Summer 2016")
    page.click("#share-dialog button[type=submit]")
    link = page.wait_for_selector("#share-dialog input.share-link").input_value()
    assert "/s/" in link
    page.click("#share-dialog button:has-text('Close')")
    page.goto(f"{sharing_server}/shares")
    page.wait_for_selector("#page .share-row h2:has-text('Summer 2016')")

    context, visitor = fresh_page(browser)
    try:
        visitor.goto(link.rstrip("/"))  # as a mail program may shorten it
        visitor.wait_for_selector(f"#timeline[data-total='{len(shared)}']")
        visitor.goto(link)
        visitor.wait_for_selector(f"#timeline[data-total='{len(shared)}']")
        visitor.wait_for_function(
            f"() => document.querySelectorAll('.tile.loaded').length == {len(shared)}"
        )
        shown = visitor.eval_on_selector_all(".tile", "tiles => tiles.map(t => t.dataset.id)")
        assert sorted(shown) == sorted(shared)
        assert visitor.inner_text("#brand-name") == "Summer 2016"
        assert visitor.is_hidden("#select-button") and visitor.is_hidden("#share-button")
        visitor.wait_for_selector("#chips[data-query='']")
        assert visitor.locator("#chips .chip:has-text('Videos')").count() == 0  # none here
        # searching wider finds nothing more
        visitor.fill("#query", "year:2017 or year:2016 or type:video")
        visitor.press("#query", "Enter")
        visitor.wait_for_selector("#timeline[data-query='year:2017 or year:2016 or type:video']")
        assert int(visitor.get_attribute("#timeline", "data-total") or -1) == len(shared)
        # a photo outside the link is not found, through the app and the server
        base = link.rstrip("/")
        visitor.goto(f"{base}/view/{hidden[0]}")
        visitor.wait_for_selector("#page h1:has-text('Not found')")
        assert httpx.get(f"{base}/view/{hidden[0]}").status_code == 404
        assert httpx.get(f"{base}/files/{hidden[0]}/image-preview-320.jpg").status_code == 404
        visitor.goto(f"{base}/view/{shared[0]}")
        visitor.wait_for_selector(f".detail[data-id='{shared[0]}'] img.media")
        # the gallery itself is not open to the visitor
        visitor.goto(f"{sharing_server}/")
        visitor.wait_for_selector("#login:not([hidden])")
        assert not visitor.errors
    finally:
        context.close()


def test_a_password_link_to_one_photo(
    browser: Any, sharing_server: str, sharing_gallery: Config
) -> None:
    photo = Gallery(sharing_gallery).search_ids("year:2017", limit=1)[0]
    with httpx.Client(base_url=sharing_server) as client:
        login = {"username": "anna", "password": PASSWORD}
        assert client.post("/api/login", json=login).status_code == 200
        made = client.post(
            "/api/shares", json={"kind": "photo", "target": photo, "password": "for grandma"}
        )
        assert made.status_code == 201, made.text
        link = f"{sharing_server}/{made.json()['link']}"
    context, visitor = fresh_page(browser)
    try:
        visitor.goto(link)
        visitor.wait_for_selector("#unlock input[type=password]")
        assert visitor.locator(".tile").count() == 0
        visitor.fill("#unlock input[type=password]", "for grandpa")
        visitor.press("#unlock input[type=password]", "Enter")
        visitor.wait_for_selector("#unlock .login-error:has-text('Wrong password')")
        visitor.fill("#unlock input[type=password]", "for grandma")
        visitor.press("#unlock input[type=password]", "Enter")
        visitor.wait_for_selector(f".detail[data-id='{photo}'] img.media")
        visitor.keyboard.press("Escape")
        visitor.wait_for_selector("#timeline[data-total='1']")
        visitor.reload()  # the password is remembered for this link
        visitor.wait_for_selector("#timeline[data-total='1']")
        assert not visitor.errors
    finally:
        context.close()
