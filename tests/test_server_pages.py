"""The app's addresses: every view answers with the app, a hidden photo with 404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeAlias

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from browser.galleries import build_sample_gallery
from homegallery.config import Auth, Config, User
from homegallery.gallery import Gallery
from homegallery.server import create_app
from homegallery.server.passwords import hash_password

Client: TypeAlias = TestClient[Litestar]
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def gallery_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    config = build_sample_gallery(tmp_path_factory.mktemp("pages"))
    user = User(username="anna", password=hash_password(PASSWORD), filter="year:2016")
    auth = Auth(users=[user])
    return msgspec.structs.replace(config, server=msgspec.structs.replace(config.server, auth=auth))


@pytest.fixture
def client(gallery_config: Config) -> Iterator[Client]:
    with TestClient(create_app(gallery_config)) as client:
        yield client


def test_a_photo_the_viewer_may_not_see_is_404(client: Client, gallery_config: Config) -> None:
    gallery = Gallery(gallery_config)
    inside = gallery.search_ids("year:2016")[0]
    outside = gallery.search_ids("not year:2016")[0]
    # before logging in, every photo address shows the app (which asks to log in)
    assert client.get(f"/view/{outside}").status_code == 200
    login = {"username": "anna", "password": PASSWORD}
    assert client.post("/api/login", json=login).status_code == 200
    assert client.get(f"/view/{inside}").status_code == 200
    assert client.get(f"/similar/{inside}").status_code == 200
    for path in (f"/view/{outside}", f"/similar/{outside}", "/view/00000000"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]


def test_the_position_in_a_result_is_scoped(client: Client, gallery_config: Config) -> None:
    gallery = Gallery(gallery_config)
    login = {"username": "anna", "password": PASSWORD}
    assert client.post("/api/login", json=login).status_code == 200
    inside = gallery.search_ids("year:2016")
    outside = gallery.search_ids("not year:2016")[0]
    answer = client.get(f"/api/entries/{inside[1]}/position").json()
    assert answer == {"id": inside[1], "index": 1, "total": len(inside)}
    other = client.get(f"/api/entries/{inside[1]}/position", params={"q": "type:video"}).json()
    assert other["index"] == -1 and other["total"] == 0
    assert client.get(f"/api/entries/{outside}/position").status_code == 404
    bad = client.get(f"/api/entries/{inside[0]}/position", params={"q": "year:("})
    assert bad.status_code == 400
