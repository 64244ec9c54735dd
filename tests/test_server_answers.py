"""Search answers made once per catalog generation: ETags and 304s, gzip made once, a
tag shown at once, and no answer ever crossing from one viewer to another."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import TypeAlias

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from browser.galleries import build_sample_gallery
from homegallery.config import Auth, Config, User
from homegallery.server import create_app
from homegallery.server.access import Viewer
from homegallery.server.answers import AnswerCache, make_answer, takes_gzip
from homegallery.server.passwords import hash_password

Client: TypeAlias = TestClient[Litestar]
PASSWORD = "a long enough password"
USERS = {"anna": "year:2016", "carl": "not year:2016", "bob": ""}


@pytest.fixture(scope="module")
def gallery_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    config = build_sample_gallery(tmp_path_factory.mktemp("gallery"))
    users = [
        User(username=name, password=hash_password(PASSWORD), filter=query)
        for name, query in USERS.items()
    ]
    auth = Auth(users=users)
    return msgspec.structs.replace(config, server=msgspec.structs.replace(config.server, auth=auth))


@pytest.fixture
def clients(gallery_config: Config) -> Iterator[dict[str, Client]]:
    app = create_app(gallery_config)
    made: dict[str, Client] = {}
    with TestClient(app) as first, TestClient(app) as second, TestClient(app) as third:
        for name, client in zip(USERS, (first, second, third), strict=True):
            answer = client.post("/api/login", json={"username": name, "password": PASSWORD})
            assert answer.status_code == 200, answer.text
            made[name] = client
        yield made


def page(client: Client, q: str = "", **headers: str) -> tuple[int, str, list[str]]:
    response = client.get("/api/entries", params={"q": q, "limit": 1000}, headers=headers)
    ids = [entry["id"] for entry in response.json()["entries"]] if response.content else []
    return response.status_code, response.headers.get("etag", ""), ids


def test_a_repeated_request_revalidates_to_a_304(clients: dict[str, Client]) -> None:
    bob = clients["bob"]
    status, etag, ids = page(bob, "type:image")
    assert status == 200 and etag and ids
    assert page(bob, "type:image") == (200, etag, ids)
    response = bob.get("/api/entries", params={"q": "type:image", "limit": 1000},
                       headers={"if-none-match": f'"other", {etag}'})  # fmt: skip
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "private" in response.headers["cache-control"]
    assert page(bob, "type:video")[1] != etag


def test_viewers_never_share_an_answer(clients: dict[str, Client]) -> None:
    seen: dict[str, tuple[str, frozenset[str]]] = {}
    for _ in range(2):  # the second round is answered from the cache
        for name in ("anna", "carl", "bob"):
            status, etag, ids = page(clients[name])
            assert status == 200
            assert seen.setdefault(name, (etag, frozenset(ids))) == (etag, frozenset(ids))
    anna, carl, bob = (seen[name][1] for name in ("anna", "carl", "bob"))
    assert anna and carl and not anna & carl
    assert anna | carl == bob
    # Anna's ETag is no key to Carl's answer: he gets his own page, not a 304.
    status, _, ids = page(clients["carl"], **{"if-none-match": seen["anna"][0]})
    assert status == 200 and frozenset(ids) == carl


def test_a_tag_is_found_at_once(clients: dict[str, Client]) -> None:
    bob = clients["bob"]
    _, before, found = page(bob, "tag:answered")
    assert found == []
    some = page(bob)[2][:2]
    answer = bob.post("/api/events/tags", json={"ids": some, "add": ["answered"], "remove": []})
    assert answer.status_code == 201, answer.text
    status, after, found = page(bob, "tag:answered", **{"if-none-match": before})
    assert status == 200 and after != before
    assert sorted(found) == sorted(some)
    count = bob.get("/api/count", params={"q": "tag:answered"})
    assert count.json() == {"query": "tag:answered", "total": 2}


def test_gzip_is_sent_when_asked_for_and_only_then(clients: dict[str, Client]) -> None:
    bob = clients["bob"]
    plain = bob.get("/api/entries", params={"limit": 1000}, headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    for accept in ("gzip", "br, gzip;q=0.5", "*"):
        squeezed = bob.get(
            "/api/entries", params={"limit": 1000}, headers={"accept-encoding": accept}
        )
        assert squeezed.headers["content-encoding"] == "gzip", accept
        assert squeezed.headers["etag"] == plain.headers["etag"]
        assert squeezed.json() == plain.json()
    refused = bob.get(
        "/api/entries", params={"limit": 1000}, headers={"accept-encoding": "gzip;q=0"}
    )
    assert "content-encoding" not in refused.headers
    small = bob.get("/api/count", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in small.headers  # not worth it below 1 KiB


def test_count_answers_like_the_page_and_refuses_bad_queries(clients: dict[str, Client]) -> None:
    for name, client in clients.items():
        total = client.get("/api/entries", params={"limit": 1}).json()["total"]
        assert client.get("/api/count").json() == {"query": "", "total": total}, name
    bad = clients["anna"].get("/api/count", params={"q": "year:20)16"})
    assert bad.status_code == 400
    assert bad.json()["extra"]["column"] == 8


def test_the_cache_keeps_one_generation_within_its_budget() -> None:
    cache = AnswerCache(budget=5000)
    viewer = Viewer(username="anna", filter="", can_edit=False)
    other = Viewer(username="carl", filter="", can_edit=False)
    made = 0

    def body(size: int) -> bytes:
        nonlocal made
        made += 1
        return b"x" * size

    first = cache.answer(1, viewer, "a", lambda: body(2000))
    assert cache.answer(1, viewer, "a", lambda: body(2000)) is first and made == 1
    assert cache.answer(1, other, "a", lambda: body(2000)) is not first and made == 2
    cache.answer(1, viewer, "b", lambda: body(2000))  # over the budget: "a" of anna goes
    assert made == 3
    cache.answer(1, viewer, "a", lambda: body(2000))
    assert made == 4
    cache.answer(2, viewer, "b", lambda: body(10))  # a newer catalog: everything goes
    cache.answer(2, viewer, "b", lambda: body(10))
    assert made == 5
    cache.answer(1, viewer, "c", lambda: body(10))  # made from an older one: not kept
    cache.answer(2, viewer, "c", lambda: body(10))
    assert made == 7


def test_answers_compress_once_and_name_their_bytes() -> None:
    big = make_answer(b"[" + b"1," * 2000 + b"1]")
    assert big.gzipped is not None and gzip.decompress(big.gzipped) == big.body
    assert make_answer(big.body).etag == big.etag != make_answer(b"[]").etag
    assert make_answer(b"[]").gzipped is None
    assert takes_gzip("deflate, gzip") and takes_gzip("GZIP;q=0.1") and takes_gzip("*")
    assert not takes_gzip("") and not takes_gzip("gzip;q=0") and not takes_gzip("br")
