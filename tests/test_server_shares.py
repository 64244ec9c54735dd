"""Share links: a visitor with a link sees exactly its set, read-only, through every
route; links are made only by users with the right, end when revoked or expired, and
hold across restarts."""

from __future__ import annotations

import functools
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeAlias

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from browser.galleries import build_sample_gallery
from homegallery.config import Auth, Config, PublicAccess, User
from homegallery.gallery import Gallery
from homegallery.server import create_app
from homegallery.server.passwords import hash_password
from homegallery.server.share_access import UNLOCK_COOKIE
from homegallery.server.shares import ShareStore

Client: TypeAlias = TestClient[Litestar]
PASSWORDS = {"anna": "anna's long secret", "bob": "bob's long secret", "carl": "carl's secret"}
CRAFTED = [
    "",
    "year:2017",
    ") or (year:2017",
    "x) or (year:2017",
    "year:2016 or year:2017",
    "not year:2016",
    "year:2016' or '1'='1",
    "order by date asc",
    "id:0",
    "similar:00",
    "type:video or type:image",
]


@pytest.fixture(scope="module")
def plain_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return build_sample_gallery(tmp_path_factory.mktemp("shares"))


@functools.cache
def hashed(name: str) -> str:
    return hash_password(PASSWORDS[name])


def users() -> list[User]:
    return [
        # sees 2016 and 2017, may share
        User(
            username="anna",
            password=hashed("anna"),
            filter="year:2016 or year:2017",
            share=True,
            edit=True,
        ),
        User(username="bob", password=hashed("bob")),  # sees all: may share
        User(username="carl", password=hashed("carl"), filter="year:2016"),
    ]


def with_users(config: Config, people: list[User], public: bool = False) -> Config:
    auth = Auth(users=people, public=PublicAccess(enabled=public, filter="year:2018"))
    return msgspec.structs.replace(config, server=msgspec.structs.replace(config.server, auth=auth))


@pytest.fixture
def config(plain_config: Config) -> Config:
    return with_users(plain_config, users())


@pytest.fixture
def client(config: Config) -> Iterator[Client]:
    with TestClient(create_app(config)) as client:
        yield client


def login(client: Client, name: str) -> None:
    client.cookies.clear()
    response = client.post("/api/login", json={"username": name, "password": PASSWORDS[name]})
    assert response.status_code == 200, response.text


def share(client: Client, **request: Any) -> dict[str, Any]:
    response = client.post("/api/shares", json=request)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


def base_of(info: dict[str, Any]) -> str:
    return "/" + "/".join(info["link"].split("/")[:2])


def visible(client: Client, base: str, q: str = "") -> set[str]:
    response = client.get(f"{base}/api/entries", params={"q": q, "limit": 1000})
    assert response.status_code == 200, response.text
    return {entry["id"] for entry in response.json()["entries"]}


def test_a_visitor_sees_exactly_the_shared_query_through_every_route(
    client: Client, config: Config
) -> None:
    gallery = Gallery(config)
    login(client, "anna")
    info = share(client, kind="query", target="type:image order by date asc", title="Pictures")
    expected = set(gallery.search_ids("(year:2016 or year:2017) and type:image"))
    assert info["count"] == len(expected) and info["title"] == "Pictures"
    base = base_of(info)
    client.cookies.clear()  # a fresh visitor: no login at all
    settings = client.get(f"{base}/api/settings").json()
    assert settings["share"]["title"] == "Pictures" and settings["canEdit"] is False
    assert visible(client, base) == expected
    outside = gallery.search_ids("not ((year:2016 or year:2017) and type:image)")
    assert outside
    for query in CRAFTED:
        for route in ("entries", "timeline", "places", "tags"):
            response = client.get(f"{base}/api/{route}", params={"q": query})
            assert response.status_code in (200, 400), (route, query)
            if route == "entries" and response.status_code == 200:
                assert {e["id"] for e in response.json()["entries"]} <= expected, query
            if route == "timeline" and response.status_code == 200:
                assert response.json()["total"] <= len(expected), query
            if route == "places" and response.status_code == 200:
                assert {p[2] for p in response.json()["points"]} <= expected, query
    inside = next(iter(expected))
    assert client.get(f"{base}/api/entries/{inside}").status_code == 200
    assert client.get(f"{base}/view/{inside}").status_code == 200
    assert client.get(f"{base}/files/{inside}/image-preview-320.jpg").status_code == 200
    for media_id in outside:
        for path in (f"/api/entries/{media_id}", f"/api/entries/{media_id}/similar",
                     f"/api/entries/{media_id}/position", f"/files/{media_id}/image-preview-320.jpg",
                     f"/files/{media_id}/original/0", f"/view/{media_id}", f"/similar/{media_id}"):  # fmt: skip
            assert client.get(base + path).status_code == 404, path
    # nothing outside the link: the gallery itself wants a login, nothing can be changed
    assert client.get("/api/entries").status_code == 401
    change = {"ids": [inside], "add": ["x"]}
    assert client.post(f"{base}/api/events/tags", json=change).status_code in (404, 405)
    assert client.post("/api/events/tags", json=change).status_code == 401
    assert client.get(f"{base}/api/shares").status_code in (404, 405)
    assert client.post(
        f"{base}/api/login", json={"username": "bob", "password": "x"}
    ).status_code in (404, 405)


def test_a_photo_link_shows_that_photo_only_and_originals_only_when_allowed(
    client: Client, config: Config
) -> None:
    gallery = Gallery(config)
    login(client, "bob")
    photo, other = gallery.search_ids("type:image", limit=2)
    closed = share(client, kind="photo", target=photo)
    assert closed["target"] == photo and closed["link"].endswith(f"/view/{photo}")
    opened = share(client, kind="photo", target=photo, originals=True)
    client.cookies.clear()
    for info, originals in ((closed, False), (opened, True)):
        base = base_of(info)
        assert visible(client, base) == {photo}
        assert visible(client, base, f"id:{other}") == set()
        entry = client.get(f"{base}/api/entries/{photo}").json()
        assert entry.get("downloadable", False) is originals
        expected = 200 if originals else 403
        assert client.get(f"{base}/files/{photo}/original/0").status_code == expected
        assert client.get(f"{base}/files/{other}/original/0").status_code == 404


def test_a_password_link_needs_its_password_per_link(client: Client, config: Config) -> None:
    login(client, "bob")
    locked = share(client, kind="query", target="year:2016", password="open sesame")
    other = share(client, kind="query", target="year:2017", password="open sesame")
    assert locked["password"] is True
    client.cookies.clear()
    base = base_of(locked)
    assert client.get(f"{base}/api/settings").json()["share"]["locked"] is True
    assert client.get(f"{base}/api/entries").status_code == 401
    assert client.get(f"{base}/").status_code == 200  # the app, to ask for it
    wrong = client.post(f"{base}/api/share/unlock", json={"password": "open"})
    assert wrong.status_code == 401
    right = client.post(f"{base}/api/share/unlock", json={"password": "open sesame"})
    assert right.status_code == 200 and right.json()["share"]["locked"] is False
    assert visible(client, base) == set(Gallery(config).search_ids("year:2016"))
    # the cookie opens that link only, and only under its own address
    cookie = client.cookies[UNLOCK_COOKIE]
    assert client.get(f"{base_of(other)}/api/entries").status_code == 401
    client.cookies.clear()
    client.cookies.set(UNLOCK_COOKIE, cookie)
    assert client.get(f"{base_of(other)}/api/entries").status_code == 401


def test_only_users_with_the_right_make_links_and_only_their_own_are_revoked(
    client: Client, config: Config
) -> None:
    gallery = Gallery(config)
    client.cookies.clear()
    assert (
        client.post("/api/shares", json={"kind": "query", "target": "year:2016"}).status_code == 401
    )
    login(client, "carl")  # a filter and no share key: may not
    assert client.get("/api/settings").json()["canShare"] is False
    assert (
        client.post("/api/shares", json={"kind": "query", "target": "year:2016"}).status_code == 403
    )
    login(client, "anna")
    hidden = gallery.search_ids("year:2018", limit=1)[0]
    assert client.post("/api/shares", json={"kind": "photo", "target": hidden}).status_code == 404
    for bad in ({"kind": "folder", "target": "x"}, {"kind": "query", "target": ""},
                {"kind": "query", "target": "order by date"}, {"kind": "query", "target": "year:("},
                {"kind": "query", "target": "a", "expiresDays": 0},
                {"kind": "album", "target": "x\u0000y"}, {"kind": "query", "target": "a", "title": "t" * 201}):  # fmt: skip
        assert client.post("/api/shares", json=bad).status_code == 400, bad
    # a query that reaches past anna's filter shows only what she sees
    wide = share(client, kind="query", target="year:2018 or year:2016")
    assert wide["count"] == len(gallery.search_ids("year:2016"))

    def listed() -> list[int]:
        return [item["id"] for item in client.get("/api/shares").json()["shares"]]

    assert wide["id"] in listed()
    login(client, "bob")
    assert wide["id"] not in listed()
    assert client.post("/api/shares/revoke", json={"id": wide["id"]}).status_code == 404
    client.cookies.clear()
    assert visible(client, base_of(wide))
    login(client, "anna")
    revoked = client.post("/api/shares/revoke", json={"id": wide["id"]})
    assert wide["id"] not in [item["id"] for item in revoked.json()["shares"]]
    client.cookies.clear()
    assert client.get(f"{base_of(wide)}/api/entries").status_code == 404
    assert client.get(f"{base_of(wide)}/").status_code == 404


def test_without_users_nobody_makes_links(plain_config: Config) -> None:
    with TestClient(create_app(plain_config)) as client:
        assert client.get("/api/settings").json()["canShare"] is False
        response = client.post("/api/shares", json={"kind": "query", "target": "year:2016"})
        assert response.status_code == 403


def test_links_last_across_restarts_and_end_with_the_makers_right(
    plain_config: Config, config: Config
) -> None:
    with TestClient(create_app(config)) as client:
        login(client, "anna")
        info = share(client, kind="query", target="year:2017")
    stored = plain_config.database.path.parent / "server-shares.db"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    with TestClient(create_app(config)) as restarted:
        assert visible(restarted, base_of(info)) == set(Gallery(config).search_ids("year:2017"))
    # anna loses the right to share (or leaves): her links show nothing
    people = [msgspec.structs.replace(users()[0], share=False), *users()[1:]]
    with TestClient(create_app(with_users(plain_config, people))) as after:
        assert after.get(f"{base_of(info)}/api/entries").status_code == 404
        assert after.get(f"{base_of(info)}/").status_code == 404
    # and what she sees narrows: so does the link
    people = [msgspec.structs.replace(users()[0], filter="year:2016"), *users()[1:]]
    with TestClient(create_app(with_users(plain_config, people))) as after:
        assert visible(after, base_of(info)) == set()


def test_an_expired_link_is_gone(plain_config: Config, config: Config) -> None:
    store = ShareStore(plain_config.database.path.parent / "server-shares.db")
    try:
        old = store.create(owner="bob", kind="query", target="year:2016", filter="year:2016",
                           title="old", expires=int(time.time()) - 1)  # fmt: skip
        current = store.create(owner="bob", kind="query", target="year:2016", filter="year:2016",
                               title="current", expires=int(time.time()) + 3600)  # fmt: skip
    finally:
        store.close()
    with TestClient(create_app(config)) as client:
        assert client.get(f"/s/{old.token}/api/entries").status_code == 404
        assert client.get(f"/s/{old.token}/").status_code == 404
        assert client.get(f"/s/{current.token}/api/entries").status_code == 200
        assert client.get(f"/s/{current.token[:-1]}x/api/entries").status_code == 404
        assert client.get("/s/short/api/entries").status_code == 404
        login(client, "bob")
        listed = {item["title"]: item for item in client.get("/api/shares").json()["shares"]}
        assert listed["old"]["expired"] is True and listed["current"]["expired"] is False


def test_a_shared_albums_tag_is_changed_only_by_users_who_see_everything(
    client: Client, config: Config
) -> None:
    """Otherwise a filtered editor could put entries into a link someone else made."""
    gallery = Gallery(config)
    photo = gallery.search_ids("year:2016", limit=1)[0]
    login(client, "anna")
    change = {"ids": [photo], "add": ["album:Trips"]}
    assert client.post("/api/events/tags", json=change).status_code == 201
    login(client, "bob")
    share(client, kind="album", target="Trips")
    login(client, "anna")
    refused = client.post("/api/events/tags", json={"ids": [photo], "add": ["album:trips"]})
    assert refused.status_code == 403
    removal = client.post("/api/events/tags", json={"ids": [photo], "remove": ["album:Trips"]})
    assert removal.status_code == 403
    login(client, "bob")
    assert (
        client.post(
            "/api/events/tags", json={"ids": [photo], "remove": ["album:Trips"]}
        ).status_code
        == 201
    )


def test_the_share_file_is_owner_only(tmp_path: Path) -> None:
    store = ShareStore(tmp_path / "server-shares.db")
    made = store.create(owner="a", kind="query", target="x", filter="x", title="x")
    assert len(made.token) == 32 and store.find(made.token) == made
    assert store.find("x" * 32) is None and store.find("../../etc") is None
    assert stat.S_IMODE((tmp_path / "server-shares.db").stat().st_mode) == 0o600
    store.close()
