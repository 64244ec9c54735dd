"""Who may change tags: no user changes what another user or the public sees unless allowed.

A real server on 127.0.0.1 over a catalog made by the real pipeline, with several
users whose filters read tags in each way the query language allows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import msgspec
import pytest

from browser.galleries import build_sample_gallery
from homegallery.config import Auth, Config, PublicAccess, User
from homegallery.gallery import Gallery
from homegallery.server import create_app
from homegallery.server.editing import EditRights, filter_tags, may_edit
from homegallery.server.passwords import hash_password
from homegallery.server.runner import running

PASSWORD = "a long enough passphrase"
FILTERS = {
    "owner": "",
    "anna": "not tag:private",
    "bob": "not secret",  # a bare word also searches tags
    "carl": "tags in (family, friends) or tag ~ trip or year:2016",
    "dora": "year:2016",  # no edit key: a filtered user may not edit
    "eve": "",  # sees everything, but `edit: false`
}
EDIT = {"anna": True, "bob": True, "carl": True, "eve": False}
PUBLIC_FILTER = "tag:public"
TAGS = ["private", "Private", "public", "secret", "Top Secret", "family", "friends",
        "road trip", "holiday", "sunset"]  # fmt: skip
VIEWERS = [None, *FILTERS]  # None: a visitor who is not logged in


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    built = build_sample_gallery(tmp_path_factory.mktemp("gallery"))
    password = hash_password(PASSWORD)
    users = [
        User(username=name, password=password, filter=text, edit=EDIT.get(name))
        for name, text in FILTERS.items()
    ]
    auth = Auth(users=users, public=PublicAccess(enabled=True, filter=PUBLIC_FILTER))
    server = msgspec.structs.replace(built.server, auth=auth)
    return msgspec.structs.replace(built, server=server)


@pytest.fixture(scope="module")
def clients(config: Config) -> Iterator[dict[str | None, httpx.Client]]:
    """A client per viewer, each logged in, on one real server."""
    gallery = Gallery(config)
    ids = gallery.search_ids("order by date asc")
    # What the filters read, before anyone may edit: two entries for the public, two
    # private ones, one family and one secret entry.
    gallery.tag(ids[0:2], add=["public"], user="setup")
    gallery.tag(ids[2:4], add=["private"], user="setup")
    gallery.tag(ids[4:5], add=["family"], user="setup")
    gallery.tag(ids[5:6], add=["top secret"], user="setup")
    with running(create_app(config)) as url, ExitStack() as stack:
        made: dict[str | None, httpx.Client] = {}
        for name in VIEWERS:
            client = stack.enter_context(httpx.Client(base_url=url, timeout=60))
            if name is not None:
                answer = client.post("/api/login", json={"username": name, "password": PASSWORD})
                assert answer.status_code == 200, answer.text
            made[name] = client
        yield made


def visible(client: httpx.Client) -> frozenset[str]:
    response = client.get("/api/entries", params={"limit": 1000})
    assert response.status_code == 200, response.text
    return frozenset(entry["id"] for entry in response.json()["entries"])


def views(clients: dict[str | None, httpx.Client]) -> dict[str | None, frozenset[str]]:
    return {name: visible(client) for name, client in clients.items()}


def change(client: httpx.Client, ids: list[str], add: list[str], remove: list[str]) -> int:
    body = {"ids": ids, "add": add, "remove": remove}
    return client.post("/api/events/tags", json=body).status_code


# --- the rules --------------------------------------------------------------------------------


def test_the_tags_filters_read() -> None:
    read = filter_tags(FILTERS.values()).reads
    for tag in ("private", "PRIVATE", "secret", "top secret", "Secrets", "family", "Friends",
                "road trip", "trips"):  # fmt: skip
        assert read(tag), tag
    for tag in ("holiday", "sunset", "public", "priv", "fam"):
        assert not read(tag), tag
    assert filter_tags(["tag:a and not b", "(year:2016 or tag != c) and tag:'d e'"]).exact == {
        "a",
        "c",
        "d e",
    }
    assert filter_tags(["landscape", "'panorama'"]).parts == ("panorama",)  # a ratio word
    counting = filter_tags(["count(tags) > 2"])
    assert counting.every and counting.reads("anything")
    assert filter_tags(["exists keywords"]).every
    assert not filter_tags(["year:2016 order by count(tags) desc", "exists geo", ""]).every


def test_who_may_edit_by_default_and_by_key() -> None:
    hashed = "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="
    assert may_edit(User(username="a", password=hashed))
    assert may_edit(User(username="a", password=hashed, filter="order by date asc"))
    assert not may_edit(User(username="a", password=hashed, filter="year:2016"))
    assert may_edit(User(username="a", password=hashed, filter="year:2016", edit=True))
    assert not may_edit(User(username="a", password=hashed, edit=False))
    # the public filter counts even while public access is off
    rights = EditRights(Auth(public=PublicAccess(enabled=False, filter="tag:shown")))
    assert rights.refused_tag("year:2016", ["ok", "Shown"]) == "Shown"
    assert rights.refused_tag("", ["Shown"]) is None


# --- over HTTP, as each user -------------------------------------------------------------------


def test_settings_tell_each_viewer_whether_they_may_edit(
    clients: dict[str | None, httpx.Client],
) -> None:
    can_edit = {name: c.get("/api/settings").json()["canEdit"] for name, c in clients.items()}
    assert can_edit == {None: False, "owner": True, "anna": True, "bob": True, "carl": True,
                        "dora": False, "eve": False}  # fmt: skip


def test_users_without_the_right_cannot_tag_at_all(
    clients: dict[str | None, httpx.Client],
) -> None:
    for name in (None, "dora", "eve"):
        ids = sorted(visible(clients[name]))[:1]
        assert ids, name
        response = clients[name].post("/api/events/tags", json={"ids": ids, "add": ["sunset"]})
        assert response.status_code == 403, name
        wanted = "log in to change tags" if name is None else "your login may not change tags"
        assert response.json()["detail"] == wanted


def test_a_filtered_editor_may_not_touch_a_tag_any_filter_reads(
    clients: dict[str | None, httpx.Client], config: Config
) -> None:
    anna = clients["anna"]
    ids = sorted(visible(anna))[:2]
    before = len(Gallery(config).events())
    for tag in ("private", "Private", "public", "top secret", "Family", "road trip"):
        for add, remove in (([tag], []), ([], [tag]), (["holiday", tag], [])):
            response = anna.post(
                "/api/events/tags", json={"ids": ids, "add": add, "remove": remove}
            )
            assert response.status_code == 403, (tag, add, remove)
            assert "only users who see the whole gallery" in response.json()["detail"]
    assert len(Gallery(config).events()) == before  # nothing half done
    assert change(anna, ids, ["holiday"], []) == 201
    assert change(anna, ids, [], ["holiday"]) == 201


def test_no_user_changes_what_another_user_or_the_public_sees_unless_allowed(
    clients: dict[str | None, httpx.Client],
) -> None:
    seen = views(clients)
    assert seen[None] and seen["anna"] != seen["owner"] and seen["bob"] != seen["owner"]
    for name in ("anna", "bob", "carl", "dora", "eve", None):
        client = clients[name]
        ids = sorted(seen[name])
        for tag in TAGS:
            for add, remove in (([tag], []), ([], [tag])):
                status = change(client, ids, add, remove)
                assert status in (201, 403), (name, tag, status)
                assert views(clients) == seen, (name, add, remove)
    # the owner may (and the check above would have seen it): publishing and hiding
    owner = clients["owner"]
    hidden = sorted(seen["owner"] - seen[None] - seen["anna"])[:1]
    assert change(owner, hidden, ["public"], ["private"]) == 201
    after = views(clients)
    assert set(hidden) <= after[None] and set(hidden) <= after["anna"]
    assert change(owner, hidden, ["private"], ["public"]) == 201
    assert views(clients) == seen
