"""Albums over HTTP: saved searches private to their user, hand-picked albums as tags
among what each viewer sees, nested names, and the editing rights of their tags."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeAlias

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from browser.galleries import build_sample_gallery
from homegallery.config import Auth, Config, User
from homegallery.gallery import Gallery
from homegallery.server import create_app
from homegallery.server.albums import AlbumNameError, clean_name
from homegallery.server.passwords import hash_password

Client: TypeAlias = TestClient[Litestar]
PASSWORD = "a long enough password"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    built = build_sample_gallery(tmp_path_factory.mktemp("albums"))
    hashed = hash_password(PASSWORD)
    users = [User(username="anna", password=hashed, filter="year:2016", edit=True),
             User(username="bob", password=hashed)]  # fmt: skip
    auth = Auth(users=users)
    return msgspec.structs.replace(built, server=msgspec.structs.replace(built.server, auth=auth))


@pytest.fixture
def client(config: Config) -> Iterator[Client]:
    with TestClient(create_app(config)) as client:
        yield client


def login(client: Client, name: str) -> None:
    client.cookies.clear()
    body = {"username": name, "password": PASSWORD}
    assert client.post("/api/login", json=body).status_code == 200


def albums(client: Client) -> dict[str, dict[str, Any]]:
    response = client.get("/api/albums")
    assert response.status_code == 200, response.text
    return {f"{a['kind']}:{a['name']}": a for a in response.json()["albums"]}


def test_saved_albums_are_their_users_own(client: Client, config: Config) -> None:
    login(client, "bob")
    body = {"name": " Trips / 2019 ", "query": "year:2016 or year:2017", "order": "oldest"}
    saved = client.post("/api/albums", json=body)
    assert saved.status_code == 201, saved.text
    album = saved.json()
    assert album["name"] == "Trips/2019" and album["kind"] == "saved"
    assert album["query"] == "year:2016 or year:2017 order by date asc"
    assert album["count"] == Gallery(config).count("year:2016 or year:2017")
    assert "saved:Trips/2019" in albums(client)
    login(client, "anna")
    assert "saved:Trips/2019" not in albums(client)
    assert client.post("/api/albums/delete", json={"id": album["id"]}).status_code == 404
    login(client, "bob")
    assert client.post("/api/albums/delete", json={"id": album["id"]}).status_code == 200
    assert "saved:Trips/2019" not in albums(client)
    for bad in ({"name": "", "query": "x"}, {"name": "a\"b", "query": "x"},
                {"name": "x", "query": "year:("}, {"name": "x", "query": "x", "order": "up"}):  # fmt: skip
        assert client.post("/api/albums", json=bad).status_code == 400, bad
    client.cookies.clear()
    assert client.get("/api/albums").status_code == 401


def test_hand_picked_albums_are_tags_seen_through_each_filter(
    client: Client, config: Config
) -> None:
    gallery = Gallery(config)
    in_2016 = gallery.search_ids("year:2016")
    in_2018 = gallery.search_ids("year:2018")
    login(client, "bob")
    change = {"ids": [in_2016[0], in_2018[0]], "add": ["album:Family/Summer"]}
    assert client.post("/api/events/tags", json=change).status_code == 201
    picked = albums(client)["picked:Family/Summer"]  # the case it was written in
    assert picked["count"] == 2 and picked["query"] == 'tag:"album:family/summer"'
    assert any(e.add_tags == ["album:Family/Summer"] for e in gallery.events())  # in the log
    login(client, "anna")  # sees 2016 only: one of the two
    assert albums(client)["picked:Family/Summer"]["count"] == 1
    response = client.get("/api/entries", params={"q": picked["query"]})
    assert {e["id"] for e in response.json()["entries"]} == {in_2016[0]}
    # a filtered editor picks into albums like any tag no filter reads
    change = {"ids": [in_2016[1]], "add": ["album:Anna's"]}
    assert client.post("/api/events/tags", json=change).status_code == 201
    assert albums(client)["picked:Anna's"]["count"] == 1


def test_album_names() -> None:
    assert clean_name("Trips//2019/ Italy ") == "Trips/2019/Italy"
    for bad in ("", "/", "a'b", "x\x00y", "n" * 201):
        with pytest.raises(AlbumNameError):
            clean_name(bad)
