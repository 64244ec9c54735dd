"""The web app for a user with a filter, and live updates during an import."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from homegallery.config import Config
from homegallery.gallery import Gallery
from homegallery.samples import write_sample_photo
from homegallery.server import create_app
from homegallery.server.passwords import hash_password
from homegallery.server.runner import running

from .galleries import build_sample_gallery, update_gallery

pytestmark = pytest.mark.browser
Page = Any


@pytest.fixture(scope="module")
def filtered_gallery(tmp_path_factory: pytest.TempPathFactory) -> Config:
    users = [{"username": "anna", "password": hash_password("anna pw"), "filter": "year:2016"}]
    return build_sample_gallery(tmp_path_factory.mktemp("filtered"), {"auth": {"users": users}})


@pytest.fixture(scope="module")
def filtered_server(filtered_gallery: Config) -> Iterator[str]:
    with running(create_app(filtered_gallery)) as url:
        yield url


def test_a_filtered_user_sees_only_what_is_allowed(
    page: Page, filtered_server: str, filtered_gallery: Config
) -> None:
    allowed = Gallery(filtered_gallery).search_ids("year:2016")
    page.goto(f"{filtered_server}/")
    page.wait_for_selector("#login:not([hidden])")
    assert page.locator(".tile").count() == 0
    page.fill("#login-form input[name=username]", "anna")
    page.fill("#login-form input[name=password]", "wrong")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-error:has-text('wrong user name or password')")
    page.fill("#login-form input[name=password]", "anna pw")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login", state="hidden")
    page.wait_for_selector(f"#timeline[data-total='{len(allowed)}']")
    page.wait_for_function(
        f"() => document.querySelectorAll('.tile.loaded').length == {len(allowed)}"
    )
    shown = page.eval_on_selector_all(".tile", "tiles => tiles.map(t => t.dataset.id)")
    assert sorted(shown) == sorted(allowed)
    # searching for more finds nothing beyond the filter
    page.fill("#query", "year:2017 or year:2016")
    page.press("#query", "Enter")
    page.wait_for_selector(f"#timeline[data-total='{len(allowed)}']")
    assert page.inner_text("#user-button").startswith("anna")
    page.click("#user-button")
    page.wait_for_selector("#login:not([hidden])")


def test_a_newly_imported_photo_appears_without_reload(page: Page, tmp_path: Path) -> None:
    config = build_sample_gallery(tmp_path / "gallery")
    total = len(Gallery(config))
    with running(create_app(config, poll_seconds=0.2)) as url:
        page.goto(f"{url}/")
        page.wait_for_selector(f"#timeline[data-total='{total}']")
        page.evaluate("() => { window.stillTheSamePage = true; }")
        photo = Path(config.sources[0].dir) / "import" / "IMG_NEW.jpg"
        write_sample_photo(photo, 400, 300, seed=99, taken=datetime(2024, 2, 3, 10, 0))
        update_gallery(config)
        page.wait_for_selector(f"#timeline[data-total='{total + 1}']", timeout=15000)
        new_id = Gallery(config).search_ids("year:2024")[0]
        page.wait_for_selector(f".tile.loaded[data-id='{new_id}']")
        assert page.evaluate("() => window.stillTheSamePage") is True
        assert "February 2024" in page.locator(".group-header").first.inner_text()
