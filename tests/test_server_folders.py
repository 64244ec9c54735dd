"""The folder tree over HTTP: one level per request, counts and covers among what the
viewer sees, pages of folders, and `folder:` as the grid's query."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from browser.galleries import build_gallery
from homegallery.config import Auth, Config, User
from homegallery.gallery import Gallery
from homegallery.samples import write_sample_photo
from homegallery.server import create_app
from homegallery.server.passwords import hash_password

Client: TypeAlias = TestClient[Litestar]
PASSWORD = "a long enough password"
# (folder, year) of each photo: a deep branch, a wide level, one photo at the top
LAYOUT = [("Trips/2019/Italy/Rome/Day 1", 2019), ("Trips/2019/Italy/Rome/Day 1", 2019),
          ("Trips/2019/Italy/Rome", 2019), ("Trips/2020/Alps", 2020), ("Family", 2021),
          ("Family", 2018), ("", 2021)] + [(f"Scans/Box {n:02d}", 2000) for n in range(12)]  # fmt: skip


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("folders")
    originals = root / "originals"
    photos = [
        write_sample_photo(
            originals / folder / f"IMG_{number:03d}.jpg", 320, 240, seed=number,
            taken=datetime(year, 1 + number % 12, 3, 12, 0),
        ).path
        for number, (folder, year) in enumerate(LAYOUT)
    ]  # fmt: skip
    built = build_gallery(root, photos, originals)
    anna = User(username="anna", password=hash_password(PASSWORD), filter="year:2019", share=True)
    auth = Auth(users=[anna, User(username="bob", password=anna.password)])
    return msgspec.structs.replace(built, server=msgspec.structs.replace(built.server, auth=auth))


@pytest.fixture
def client(config: Config) -> Iterator[Client]:
    with TestClient(create_app(config)) as client:
        yield client


def level(client: Client, path: str, **params: Any) -> dict[str, Any]:
    response = client.get("/api/folders", params={"path": path, **params})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def names(answer: dict[str, Any]) -> dict[str, int]:
    return {folder["name"]: folder["count"] for folder in answer["folders"]}


def login(client: Client, name: str) -> None:
    client.cookies.clear()
    body = {"username": name, "password": PASSWORD}
    assert client.post("/api/login", json=body).status_code == 200


def test_each_level_lists_its_folders_with_counts_covers_and_case(
    client: Client, config: Config
) -> None:
    login(client, "bob")
    top = level(client, "")
    assert names(top) == {"photos": len(LAYOUT) + 1}  # and the generated video
    photos = level(client, "photos")
    assert names(photos) == {"Family": 2, "Scans": 12, "Trips": 4, "video": 1}
    assert {f["name"]: f["hasFolders"] for f in photos["folders"]}["Trips"] is True
    assert {f["name"]: f["hasFolders"] for f in photos["folders"]}["Family"] is False
    rome = level(client, "photos/trips/2019/italy")  # any case asks, the disk's case answers
    assert names(rome) == {"Rome": 3}
    assert rome["folders"][0]["path"] == "photos/trips/2019/italy/Rome"
    cover = rome["folders"][0]["cover"]
    assert cover["files"][0]["path"].startswith("Trips/2019/Italy/Rome/")
    assert names(level(client, "photos/Trips/2019/Italy/Rome")) == {"Day 1": 2}
    assert level(client, "photos/Trips/2019/Italy/Rome/Day 1")["folders"] == []
    assert level(client, "elsewhere/x")["folders"] == []
    # the grid of a folder is `folder:` and counts what the tree says
    gallery = Gallery(config)
    assert gallery.count('folder:"photos/Trips/2019"') == 3
    response = client.get("/api/timeline", params={"q": 'folder:"photos/Trips/2019/Italy"'})
    assert response.json()["total"] == 3


def test_a_wide_level_comes_in_pages(client: Client) -> None:
    login(client, "bob")
    first = level(client, "photos/Scans", limit=5)
    second = level(client, "photos/Scans", limit=5, offset=5)
    last = level(client, "photos/Scans", limit=5, offset=10)
    assert first["total"] == 12 and len(first["folders"]) == 5 and len(last["folders"]) == 2
    seen = [f["name"] for answer in (first, second, last) for f in answer["folders"]]
    assert seen == [f"Box {n:02d}" for n in range(12)]
    for bad in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"path": "x\u0001"}):
        assert client.get("/api/folders", params={"path": "photos", **bad}).status_code == 400


def test_a_filtered_viewer_and_a_share_link_count_only_what_they_see(
    client: Client, config: Config
) -> None:
    login(client, "anna")
    assert names(level(client, "")) == {"photos": 4}  # the generated video is from 2019 too
    # Family and Scans hold nothing of hers
    assert names(level(client, "photos")) == {"Trips": 3, "video": 1}
    assert names(level(client, "photos/Trips")) == {"2019": 3}
    made = client.post(
        "/api/shares",
        json={"kind": "query", "target": 'folder:"photos/Trips/2019/Italy/Rome/Day 1"'},
    )
    assert made.status_code == 201, made.text
    base = "/" + made.json()["link"].rstrip("/")
    client.cookies.clear()
    answer = client.get(f"{base}/api/folders", params={"path": "photos/Trips/2019/Italy/Rome"})
    assert names(answer.json()) == {"Day 1": 2}
    assert names(client.get(f"{base}/api/folders", params={"path": "photos"}).json()) == {
        "Trips": 2
    }
    assert client.get("/api/folders").status_code == 401


def test_a_folder_query_in_the_query_language(config: Config, tmp_path: Path) -> None:
    gallery = Gallery(config)
    assert gallery.count("folder:photos") == len(LAYOUT) + 1
    assert gallery.count('folder:"photos/Scans"') == 12
    assert gallery.count('folder:"photos/Scan"') == 0  # a folder, not a prefix of a name
    assert gallery.count('folder != "photos/Scans"') == len(LAYOUT) + 1 - 12
