"""Entries encoded once per catalog generation: the same bytes as an entry made for
its viewer, every viewer's filter and downloads kept, and a new JSON (and ETag) after
anything visible changed: a tag, a new build."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from browser.galleries import build_sample_gallery, update_gallery
from homegallery.catalog.entry import Entry, EntryFile
from homegallery.catalog.search import Match
from homegallery.config import Auth, Config, User
from homegallery.gallery import Gallery
from homegallery.samples import write_sample_photo
from homegallery.server import create_app
from homegallery.server.entry_json import (
    CatalogState,
    EncodedEntry,
    EntryJsonCache,
    encoded_entry,
    join_entries,
)
from homegallery.server.matches import MatchCache
from homegallery.server.passwords import hash_password
from homegallery.server.schemas import EntryPage, JoinedEntryPage, api_entry

Client: TypeAlias = TestClient[Litestar]
PASSWORD = "a long enough password"
USERS = {"anna": "year:2016", "carl": "not year:2016", "bob": ""}
# Text that looks like the field the JSON is split at, where a user or a file puts text.
TRICKY = '","downloadable":true,"x":"}'


def tricky_entry() -> Entry:
    files = [
        EntryFile(source="/photos/a", path='2019/"odd".jpg', size=10, kind="image", id="ab" * 20),
        EntryFile(source="/photos/b", path="2019/odd.xmp", size=1, kind="sidecar"),
    ]
    return Entry(id="ab" * 20, type="image", tags=[TRICKY, "sea"], title=TRICKY, files=files)


@pytest.mark.parametrize("problem", ["", f"preview failed: {TRICKY}"])
@pytest.mark.parametrize("updated", ["", "2026-12-02T01:02:03Z"])
@pytest.mark.parametrize(
    "sources", [frozenset(), frozenset({"/photos/a"}), frozenset({"/photos/b"})]
)
def test_an_encoded_entry_is_the_bytes_of_the_entry_made_for_its_viewer(
    problem: str, updated: str, sources: frozenset[str]
) -> None:
    entry = tricky_entry()
    encoded = encoded_entry(entry, sources, problem, updated)
    for originals in (True, False):
        expected = api_entry(entry, sources if originals else frozenset(), problem, updated)
        assert encoded.json(originals) == msgspec.json.encode(expected)
    assert encoded.downloadable is (sources == {"/photos/a"})  # a sidecar is no original


def test_a_joined_page_is_the_bytes_of_the_page(tmp_path: Path) -> None:
    config = build_sample_gallery(tmp_path)
    gallery = Gallery(config)
    entries = gallery.search("")
    assert len(entries) > 5
    sources = frozenset(source.dir for source in config.sources)
    for originals in (True, False):
        made = [api_entry(e, sources if originals else frozenset(), "", "t") for e in entries]
        joined = join_entries([encoded_entry(e, sources, "", "t") for e in entries], originals)
        old = EntryPage(query="q", total=40, offset=3, entries=made)
        new = JoinedEntryPage(query="q", total=40, offset=3, entries=msgspec.Raw(joined))
        assert msgspec.json.encode(new) == msgspec.json.encode(old)
    empty = JoinedEntryPage(
        query="", total=0, offset=0, entries=msgspec.Raw(join_entries([], True))
    )
    assert msgspec.json.encode(empty) == msgspec.json.encode(
        EntryPage(query="", total=0, offset=0, entries=[])
    )


def _encoded(media_id: str) -> EncodedEntry:
    return EncodedEntry(head=b'{"id":"' + media_id.encode() + b'"', tail=b"}", downloadable=False)


def test_the_entry_cache_makes_each_entry_once_per_generation_within_its_budget() -> None:
    cache = EntryJsonCache(budget=3 * _encoded("a").size)
    asked: list[list[str]] = []
    catalog = {"generation": 1, "rebuilds": 1, "events": 0}
    events: list[str] = []  # the ids each event names, in order

    def make(ids: list[str]) -> dict[str, EncodedEntry]:
        asked.append(ids)
        return {media_id: _encoded(media_id) for media_id in ids if media_id != "gone"}

    def state(after: int | None) -> CatalogState:
        touched = frozenset(events[after:]) if after is not None else frozenset()
        return CatalogState(catalog["generation"], catalog["rebuilds"], len(events), touched)

    def entries(generation: int, ids: list[str]) -> list[EncodedEntry]:
        return cache.entries(generation, ids, make, state)

    found = entries(1, ["a", "gone", "b"])
    assert [item.head for item in found] == [b'{"id":"a"', b'{"id":"b"']  # order kept
    assert entries(1, ["b", "a"])[0].head == b'{"id":"b"'
    assert asked == [["a", "gone", "b"]]
    entries(1, ["c", "d"])  # over the budget: the least recently used goes
    assert asked[-1] == ["c", "d"]
    entries(1, ["a", "c", "d"])
    assert asked[-1] == ["c", "d"]  # kept
    entries(1, ["b"])
    assert asked[-1] == ["b"]  # "b" had gone
    # a tag on "c": only "c" is made again
    events.append("c")
    catalog["generation"] = 2
    entries(2, ["b", "c", "d"])
    assert asked[-1] == ["c"]
    # a build: everything is made again
    catalog.update(generation=3, rebuilds=2)
    entries(3, ["b", "c", "d"])
    assert asked[-1] == ["b", "c", "d"]
    # made from an older catalog state than the one kept: not kept
    entries(2, ["e"])
    entries(3, ["e"])
    assert asked[-2:] == [["e"], ["e"]]


@pytest.fixture(scope="module")
def gallery_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    config = build_sample_gallery(tmp_path_factory.mktemp("gallery"))
    users = [
        User(username=name, password=hash_password(PASSWORD), filter=query)
        for name, query in USERS.items()
    ]
    server = msgspec.structs.replace(config.server, auth=Auth(users=users))
    return msgspec.structs.replace(config, server=server)


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


def page(client: Client, q: str = "", base: str = "") -> tuple[str, list[dict[str, Any]]]:
    response = client.get(f"{base}/api/entries", params={"q": q, "limit": 1000})
    assert response.status_code == 200, response.text
    return response.headers["etag"], response.json()["entries"]


def test_every_viewer_gets_the_entries_of_the_one_entry_route(clients: dict[str, Client]) -> None:
    bob = clients["bob"]
    link = bob.post(
        "/api/shares", json={"kind": "query", "target": "year:2016 or year:2017"}
    ).json()["link"]
    seen: dict[str, set[str]] = {}
    for name, client in clients.items():
        for _ in range(2):  # the second time from the stored entries
            entries = page(client)[1]
            for entry in entries:  # the one-entry route makes its entry for the viewer
                assert client.get(f"/api/entries/{entry['id']}").json() == entry, name
            seen[name] = {entry["id"] for entry in entries}
    assert seen["anna"] and seen["carl"] and not seen["anna"] & seen["carl"]
    assert seen["anna"] | seen["carl"] == seen["bob"]
    assert all(entry.get("downloadable") for entry in page(bob)[1] if entry["type"] == "image")
    visitor = TestClient(bob.app)
    with visitor:
        base = "/" + "/".join(link.strip("/").split("/")[:2])
        shared = page(visitor, base=base)[1]
        assert shared and {entry["id"] for entry in shared} < seen["bob"]
        assert all("downloadable" not in entry for entry in shared)  # no originals here
        for entry in shared:
            assert visitor.get(f"{base}/api/entries/{entry['id']}").json() == entry


def test_a_tag_changes_the_entry_in_every_page_that_shows_it(
    clients: dict[str, Client], gallery_config: Config
) -> None:
    bob, anna = clients["bob"], clients["anna"]
    bob_tag = page(bob)[0]
    anna_tag, anna_before = page(anna)
    target = anna_before[0]["id"]
    answer = bob.post("/api/events/tags", json={"ids": [target], "add": ["fresh"], "remove": []})
    assert answer.status_code == 201, answer.text
    for client, old_tag in ((bob, bob_tag), (anna, anna_tag)):
        etag, after = page(client)
        assert etag != old_tag
        changed = next(entry for entry in after if entry["id"] == target)
        assert "fresh" in changed["tags"] and changed["updated"]
    # A change from outside the server (a script) shows as well.
    Gallery(gallery_config).tag(target, ["scripted"])
    changed = next(entry for entry in page(bob)[1] if entry["id"] == target)
    assert "scripted" in changed["tags"]


def test_a_new_build_shows_its_entries_with_a_new_etag(tmp_path: Path) -> None:
    config = build_sample_gallery(tmp_path)
    with TestClient(create_app(config)) as client:
        etag, before = page(client)
        assert page(client) == (etag, before)
        source = Path(config.sources[0].dir)
        write_sample_photo(source / "2030" / "new.jpg", 300, 200, seed=99,
                           taken=datetime(2030, 1, 2, 3, 4))  # fmt: skip
        update_gallery(config)
        new_etag, after = page(client)
        assert new_etag != etag and len(after) == len(before) + 1
        assert after[0]["date"].startswith("2030") and after[1:] == before


def test_the_match_cache_evaluates_a_query_once_per_generation() -> None:
    evaluated: list[str] = []

    def evaluate(text: str) -> Match:
        evaluated.append(text)
        return Match(ids=[f"{text}{number}" for number in range(100)])

    cache = MatchCache(budget=2 * evaluate("sizing").nbytes + 100)  # room for two
    evaluated.clear()

    first = cache.match(1, "a", evaluate)
    assert cache.match(1, "a", evaluate) is first and evaluated == ["a"]
    assert first.count == 100 and first.page(2, 98) == ["a98", "a99"]
    cache.match(1, "b", evaluate)
    cache.match(1, "c", evaluate)  # over the budget: "a" goes
    cache.match(1, "a", evaluate)
    assert evaluated == ["a", "b", "c", "a"]
    kept_while_evaluating: list[int] = []

    def evaluate_newer(text: str) -> Match:
        kept_while_evaluating.append(len(cache._kept))
        return evaluate(text)

    cache.match(2, "a", evaluate_newer)  # a newer catalog: evaluated again
    assert evaluated[-1] == "a" and len(evaluated) == 5
    assert kept_while_evaluating == [0]  # the old snapshot's matches were let go first
    with pytest.raises(ValueError):
        cache.match(2, "bad", lambda text: (_ for _ in ()).throw(ValueError(text)))
    cache.match(2, "a", evaluate)
    assert len(evaluated) == 5


def test_the_pages_and_the_count_of_one_query_agree(clients: dict[str, Client]) -> None:
    bob = clients["bob"]
    first = bob.get("/api/entries", params={"q": "type:image", "limit": 2}).json()
    second = bob.get("/api/entries", params={"q": "type:image", "limit": 2, "offset": 2}).json()
    count = bob.get("/api/count", params={"q": "type:image"}).json()
    everything = bob.get("/api/entries", params={"q": "type:image", "limit": 1000}).json()
    ids = [entry["id"] for entry in everything["entries"]]
    assert [entry["id"] for entry in first["entries"] + second["entries"]] == ids[:4]
    assert first["total"] == second["total"] == count["total"] == len(ids)
