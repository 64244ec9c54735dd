"""The people API on real photos: lists, crops, "same face", changes, and viewers' filters.

A gallery of two group photos and the astronaut twice (as is and mirrored), made by
the real pipeline; the owner sees everything, ``guest`` everything but the astronaut.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeAlias

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image, ImageOps

from face_photos import astronaut, group_photo
from homegallery.catalog.build import build_from_config
from homegallery.config import Config, parse_config
from homegallery.extract.runner import extract_gallery
from homegallery.index import update_index
from homegallery.server import create_app
from homegallery.server.passwords import hash_password

Client: TypeAlias = TestClient[Litestar]
PASSWORD = "a long enough passphrase"


class _Silent:
    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory, face_model_dir: Path) -> Config:
    root = tmp_path_factory.mktemp("people")
    photos = root / "photos"
    photos.mkdir()
    for name in ("sample1.jpg", "sample4.jpg"):
        shutil.copy(group_photo(name), photos / name)
    with Image.open(astronaut()) as image:
        rgb = image.convert("RGB")
        rgb.save(photos / "astronaut.jpg", quality=95)
        ImageOps.mirror(rgb).save(photos / "astronaut-mirrored.jpg", quality=95)
    password = hash_password(PASSWORD)
    config = parse_config(
        {
            "sources": [{"dir": str(photos)}],
            "storage": {"dir": str(root / "storage")},
            "database": {"file": str(root / "catalog.db")},
            "extractor": {"models": {"dir": str(face_model_dir), "embeddings": "off"}},
            "server": {
                "auth": {
                    "users": [
                        {"username": "owner", "password": password},
                        {"username": "guest", "password": password,
                         "filter": "not file:astronaut", "edit": True},
                    ]
                }
            },
        },
        root / "gallery.yml",
    )  # fmt: skip
    update_index(config)
    summary = extract_gallery(config, workers=2, progress_factory=lambda label, total: _Silent())
    assert not summary.failures, summary.lines()
    build_from_config(config)
    return config


@pytest.fixture(scope="module")
def clients(config: Config) -> Iterator[dict[str | None, Client]]:
    made: dict[str | None, Client] = {}
    with (
        TestClient(create_app(config)) as owner,
        TestClient(create_app(config)) as guest,
        TestClient(create_app(config)) as nobody,
    ):
        for name, client in (("owner", owner), ("guest", guest)):
            answer = client.post("/api/login", json={"username": name, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            made[name] = client
        made[None] = nobody
        yield made


def entry_of(client: Client, name: str) -> dict[str, Any]:
    answer = client.get("/api/entries", params={"q": f"file:{name}"})
    assert answer.status_code == 200, answer.text
    (entry,) = answer.json()["entries"]
    assert isinstance(entry, dict)
    return entry


def people_of(client: Client) -> list[dict[str, Any]]:
    answer = client.get("/api/people")
    assert answer.status_code == 200, answer.text
    return answer.json()["people"]  # type: ignore[no-any-return]


def test_the_owner_sees_every_person_and_the_guest_only_theirs(
    clients: dict[str | None, Client],
) -> None:
    owner = people_of(clients["owner"])
    assert sorted(person["count"] for person in owner) == [1] * 7 + [2]
    (astronaut_person,) = [person for person in owner if person["count"] == 2]
    guest = clients["guest"]
    assert sorted(person["count"] for person in people_of(guest)) == [1] * 7
    key = astronaut_person["key"]
    assert guest.get(f"/api/people/{key}").status_code == 404
    assert clients["owner"].get(f"/api/people/{key}").json()["count"] == 2
    media_id, index = astronaut_person["cover"].rsplit(":", 1)
    assert guest.get(f"/api/faces/{media_id}/{index}").status_code == 404
    assert guest.get(f"/api/entries/{media_id}/faces").status_code == 404
    assert clients[None].get("/api/people").status_code == 401


def test_faces_of_an_entry_crops_and_the_same_face(clients: dict[str | None, Client]) -> None:
    owner = clients["owner"]
    group = entry_of(owner, "sample4.jpg")
    faces = owner.get(f"/api/entries/{group['id']}/faces").json()
    assert len(faces) == 4 and len({face["person"] for face in faces}) == 4
    for face in faces:
        x, y, width, height = face["box"]
        assert 0 <= x < x + width <= 1 and 0 <= y < y + height <= 1
    crop = owner.get(f"/api/faces/{group['id']}/0")
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(crop.content)).size == (128, 128)
    assert owner.get(f"/api/faces/{group['id']}/9").status_code == 404
    assert owner.get("/api/faces/not-an-id/0").status_code == 404
    assert owner.get(f"/api/faces/{group['id']}/-1").status_code == 404
    assert owner.get(f"/api/faces/{group['id']}/99999999999999999999").status_code == 404
    portrait = entry_of(owner, "astronaut.jpg")
    same = owner.get(f"/api/faces/{portrait['id']}/0/same").json()
    assert {entry["files"][0]["path"] for entry in same} == {
        "astronaut.jpg",
        "astronaut-mirrored.jpg",
    }
    guest = clients["guest"]
    woman = entry_of(guest, "sample1.jpg")
    for entry in guest.get(f"/api/faces/{woman['id']}/0/same").json():
        assert "astronaut" not in entry["files"][0]["path"]


def test_only_the_owner_may_name_and_the_name_is_searched(
    clients: dict[str | None, Client],
) -> None:
    owner, guest = clients["owner"], clients["guest"]
    (astronaut_person,) = [p for p in people_of(owner) if p["count"] == 2]
    key = astronaut_person["key"]
    refused = guest.post(f"/api/people/{key}/name", json={"name": "Eileen"})
    assert refused.status_code == 403
    assert "whole gallery" in refused.json()["detail"]
    assert clients[None].post(f"/api/people/{key}/name", json={"name": "x"}).status_code in (
        401,
        403,
    )
    named = owner.post(f"/api/people/{key}/name", json={"name": "Eileen Collins"})
    assert named.status_code == 200, named.text
    assert named.json()["people"][0]["name"] == "Eileen Collins"
    found = owner.get("/api/entries", params={"q": 'person:"eileen collins"'}).json()
    assert found["total"] == 2
    assert guest.get("/api/entries", params={"q": "eileen"}).json()["total"] == 0
    assert owner.post(f"/api/people/{key}/name", json={"name": "x" * 300}).status_code == 400
    assert owner.post("/api/people/nobody/name", json={"name": "x"}).status_code == 404
    assert owner.post(f"/api/people/{key}/name", json={"nom": "x"}).status_code == 400
    women = [p for p in people_of(owner) if p["count"] == 1]
    merged = owner.post(f"/api/people/{women[0]['key']}/merge", json={"into": women[1]["key"]})
    assert merged.status_code == 200, merged.text
    assert sorted(p["count"] for p in merged.json()["people"]) == [1] * 5 + [2, 2]


def test_a_small_face_is_cut_from_a_large_preview() -> None:
    from homegallery.server.routes.people import _preview_for

    previews = [f"ab/cd/ef-image-preview-{size}.jpg" for size in (128, 320, 800, 1280)]
    assert _preview_for(previews, (0.1, 0.1, 0.5, 0.4)) == previews[1]  # 240 px at 320
    assert _preview_for(previews, (0.1, 0.1, 0.1, 0.1)) == previews[3]  # 120 px at 800: too few
    assert _preview_for(previews, (0.1, 0.1, 0.02, 0.03)) == previews[3]  # the largest there is
    assert _preview_for(["ab/cd/ef-video-frame-1.jpg"], (0.1, 0.1, 0.5, 0.5)) is None
