"""Queries over HTTP on a real server: every route that takes one answers a bad one alike
(400 with the column), for every kind of viewer; ``similar:`` ids and ``index`` paths tell
a viewer nothing about entries or folders they cannot see; no answer names a server path."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import numpy as np
import pytest

from browser.galleries import build_sample_gallery
from homegallery.catalog.query import QueryError
from homegallery.catalog.schema import open_writer
from homegallery.catalog.vectors import write_codes
from homegallery.config import Auth, Config, PublicAccess, User
from homegallery.gallery import Gallery
from homegallery.server import create_app
from homegallery.server.passwords import hash_password
from homegallery.server.runner import running
from homegallery.server.visible_similar import resolve_similar
from homegallery.similarity import quantize

QUERY_ROUTES = ("/api/entries", "/api/timeline", "/api/places", "/api/tags")
PASSWORD = "a long enough password"


def alternating(levels: int) -> str:
    """``a0 or (a1 and (a2 or (…)))``: ``levels`` parentheses deep, and as deep once
    parsed (alternating and/or does not flatten)."""
    query = "last"
    for level in reversed(range(levels)):
        query = f"a{level} {'or' if level % 2 else 'and'} ({query})"
    return query


def paren_column(query: str, number: int) -> int:
    """The column of the ``number``-th ``(`` of ``query``."""
    starts = [index + 1 for index, char in enumerate(query) if char == "("]
    return starts[number - 1]


# query → the column a 400 must name, or None for a query every route must answer 200
BAD_QUERIES: list[tuple[str, int | None]] = [
    ("(" * 16 + "sea" + ")" * 16, None),
    (alternating(16), None),
    ("(" * 17 + "sea" + ")" * 17, 17),
    (alternating(17), paren_column(alternating(17), 17)),
    ("(" * 2000 + "sea" + ")" * 2000, 17),
    ("not " * 1500 + "sea", None),
    (" or ".join(["sea"] * 600), 499 * len("sea or ") + 1),  # the 500th term
    ("x" * 8000, None),
    ("year:20)16", 8),
    ("'unclosed", 1),
    ("tag:", 5),
    ("(", 2),
    ("year > abc", 8),
    ("colour:red", 1),
    ("order by nothing", 10),
    ("similar:zz", 9),
    ("a\x00b", None),
    ("width > 1e999", 9),
]


def write_vectors(config: Config) -> list[str]:
    """Similarity codes for every entry, stored as the embedding stage stores them."""
    ids = Gallery(config).search_ids("")
    vectors = np.random.default_rng(3).uniform(0.0, 2.5, (len(ids), 1024)).astype(np.float32)
    writer = open_writer(config.database.path)
    writer.execute("BEGIN IMMEDIATE")
    write_codes(writer, "test", ids, quantize(vectors))
    writer.execute("COMMIT")
    writer.close()
    return ids


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Config:
    config = build_sample_gallery(tmp_path_factory.mktemp("gallery"))
    write_vectors(config)
    return config


def with_auth(config: Config, auth: Auth) -> Config:
    return msgspec.structs.replace(config, server=msgspec.structs.replace(config.server, auth=auth))


def shared_start(first: str, second: str) -> str:
    length = 0
    while length < min(len(first), len(second)) and first[length] == second[length]:
        length += 1
    return first[:length]


def shared_prefix_pair(ids: list[str]) -> tuple[str, str, str]:
    """Two ids and the longest prefix they share."""
    pairs = itertools.pairwise(sorted(ids))
    first, second = max(pairs, key=lambda pair: len(shared_start(*pair)))
    return first, second, shared_start(first, second)


@pytest.fixture(scope="module")
def hidden_pair(gallery: Config) -> tuple[str, str, str]:
    """(visible id, hidden id, a prefix both start with)."""
    return shared_prefix_pair(Gallery(gallery).search_ids(""))


@pytest.fixture(scope="module")
def servers(gallery: Config, hidden_pair: tuple[str, str, str]) -> Iterator[dict[str, str]]:
    """One server per kind of viewer: no logins, a user with a filter, public visitors."""
    visible, _, _ = hidden_pair
    user = User(username="ann", password=hash_password(PASSWORD), filter=f"id:{visible}")
    configs = {
        "open": gallery,
        "filtered": with_auth(gallery, Auth(users=[user])),
        "public": with_auth(
            gallery, Auth(users=[user], public=PublicAccess(enabled=True, filter="year:2016"))
        ),
    }
    with (
        running(create_app(configs["open"])) as open_url,
        running(create_app(configs["filtered"])) as filtered_url,
        running(create_app(configs["public"])) as public_url,
    ):
        yield {"open": open_url, "filtered": filtered_url, "public": public_url}


@pytest.fixture
def clients(servers: dict[str, str]) -> Iterator[dict[str, httpx.Client]]:
    made = {name: httpx.Client(base_url=url, timeout=30) for name, url in servers.items()}
    login = made["filtered"].post("/api/login", json={"username": "ann", "password": PASSWORD})
    assert login.status_code == 200
    yield made
    for client in made.values():
        client.close()


@pytest.mark.parametrize(("query", "column"), BAD_QUERIES, ids=[q[:30] for q, _ in BAD_QUERIES])
def test_every_query_route_answers_a_bad_query_alike(
    clients: dict[str, httpx.Client], query: str, column: int | None
) -> None:
    for viewer, client in clients.items():
        for route in QUERY_ROUTES:
            response = client.get(route, params={"q": query})
            where = f"{viewer} {route}"
            if column is None:
                assert response.status_code == 200, f"{where}: {response.text[:200]}"
                continue
            assert response.status_code == 400, f"{where}: {response.text[:200]}"
            body = response.json()
            assert body["extra"]["column"] == column, f"{where}: {body}"
            assert body["detail"] and body["extra"]["expected"], where


def test_similar_answers_for_a_hidden_entry_as_for_none(
    clients: dict[str, httpx.Client], hidden_pair: tuple[str, str, str]
) -> None:
    visible, hidden, shared = hidden_pair
    client, open_client = clients["filtered"], clients["open"]
    nobody = "f" * 63 + "e"  # an id no entry has
    assert open_client.get(f"/api/entries/{nobody}").status_code == 404

    def answer(client: httpx.Client, media_id: str, prefix: str = "") -> tuple[int, Any]:
        response = client.get("/api/entries", params={"q": f"{prefix}similar:{media_id}"})
        return response.status_code, response.json()

    for prefix in ("", "year > 1900 and ", "year > 1900 or "):
        hidden_status, hidden_body = answer(client, hidden, prefix)
        nobody_status, nobody_body = answer(client, nobody, prefix)
        assert hidden_status == nobody_status == 400
        assert hidden_body == {**nobody_body, "detail": f"no entry with id {hidden}"}
        assert hidden_body["extra"]["column"] == len(prefix) + 9
        # the catalog's own answer for an id nobody has, as a viewer without filter gets it
        assert answer(open_client, nobody, prefix) == (nobody_status, nobody_body)
    for short in (hidden[:8], hidden[:12]):
        if not visible.startswith(short):
            assert answer(client, short)[1]["detail"] == f"no entry with id {short}"
    # a prefix that a visible and a hidden entry share names the visible one alone
    status, body = answer(client, shared)
    assert status == 200, body
    assert [entry["id"] for entry in body["entries"]] == [visible]
    assert answer(client, f"'{shared}'")[0] == 200
    # the similar route hides the hidden entry as it hides one that does not exist
    assert client.get(f"/api/entries/{hidden}/similar").json()["detail"] == f"no entry {hidden}"
    assert client.get(f"/api/entries/{visible}/similar").status_code == 200


def test_index_never_matches_a_server_path(
    clients: dict[str, httpx.Client], gallery: Config
) -> None:
    source = Path(gallery.sources[0].dir)
    for client in clients.values():
        everything = client.get("/api/entries").json()["total"]
        assert everything > 0
        for probe in (str(source), str(source.parent), "/", source.parent.name):
            for op in ("~", ":", "="):
                found = client.get("/api/entries", params={"q": f"index {op} '{probe}'"})
                assert found.json()["total"] == 0, (probe, op)
        named = client.get("/api/entries", params={"q": f"index = {source.name}"})
        assert named.json()["total"] == everything


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_no_answer_names_a_server_path(clients: dict[str, httpx.Client], gallery: Config) -> None:
    secret_paths = [
        str(Path(gallery.sources[0].dir).parent),
        str(gallery.storage.path),
        str(gallery.database.path.parent),
        str(Path(__file__).resolve().parents[1]),
    ]
    some_id = Gallery(gallery).search_ids("", limit=1)[0]
    probes = [
        "/api/entries?limit=1000",
        f"/api/entries/{some_id}",
        f"/api/entries/{some_id}/similar",
        "/api/timeline",
        "/api/places",
        "/api/tags",
        "/api/settings",
        f"/files/{some_id}/image-preview-99999.jpg",
        f"/files/{some_id}/original/7",
        f"/files/{some_id}/..%2f..%2fcatalog.db",
        "/app/missing.js",
        "/app/..%2f..%2fconfig.py",
        "/vendor/leaflet/..%2f..%2f..%2fetc%2fpasswd",
        "/no/such/route",
    ]
    for client in clients.values():
        for probe in probes:
            response = client.get(probe)
            assert response.status_code < 500, (probe, response.text[:200])
            if response.headers.get("content-type", "").startswith("application/json"):
                for text in _strings(response.json()):
                    assert not text.startswith("/"), (probe, text)
            assert not any(path in response.text for path in secret_paths), probe


def test_a_missing_catalog_is_named_without_its_path(tmp_path: Path, gallery: Config) -> None:
    missing = tmp_path / "not-built" / "catalog.db"
    config = msgspec.structs.replace(
        gallery, database=msgspec.structs.replace(gallery.database, file=str(missing))
    )
    with running(create_app(config)) as url:
        response = httpx.get(f"{url}/api/entries")
    assert response.status_code == 503
    assert "homegallery build" in response.json()["detail"]
    assert str(tmp_path) not in response.text


def test_written_out_ids_keep_the_columns_of_the_query_as_written() -> None:
    full = {"ab": "ab" + "0" * 62, "cd": "cd" + "1" * 62}
    resolved = resolve_similar(
        "similar:ab or similar:'cd' tag:y", lambda prefix: [full[prefix.strip("'")]]
    )
    assert resolved.text == f"similar:{full['ab']} or similar:{full['cd']} tag:y"
    second = resolved.text.index(full["cd"]) + 1
    after = resolved.text.index("tag:y") + 1
    columns = [resolved.original_column(column) for column in (1, 9, 30, second, after)]
    assert columns == [1, 9, 9, 23, 28]
    with pytest.raises(QueryError) as caught:
        resolve_similar("year:2020 similar:ab", lambda prefix: [])
    assert caught.value.column == 19 and caught.value.message == "no entry with id ab"
    with pytest.raises(QueryError) as caught:
        resolve_similar("similar:ab", lambda prefix: [full["ab"], full["cd"]])
    assert "more than one entry" in caught.value.message
