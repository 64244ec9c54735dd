"""Logins, per-user and public filters, address rules, sessions and password hashes."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TypeAlias

import msgspec
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from browser.galleries import build_sample_gallery
from homegallery.catalog import QueryError
from homegallery.config import (
    AccessRule,
    Auth,
    Config,
    ConfigError,
    PublicAccess,
    User,
    parse_config,
)
from homegallery.gallery import Gallery
from homegallery.server import create_app
from homegallery.server.passwords import PasswordHashError, hash_password, verify_password
from homegallery.server.revocations import Revocations
from homegallery.server.rules import address_allowed, compile_rules
from homegallery.server.scope import scope_query
from homegallery.server.sessions import COOKIE_NAME, Sessions, load_secret

ANNA_PASSWORD = "anna's long secret"
BOB_PASSWORD = "password"
# HomeGallery's own example hashes of "password": unsalted SHA-1 and salted SHA-256.
BOB_SHA1 = "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="
CARL_SALTED = "{SHA256-salted}FkcbhhcHYW0DdE9u.P9Ik9MG8ldtO0fzGB+RV186vi8PZMomsya5OWC0AEiA="

Client: TypeAlias = TestClient[Litestar]


@pytest.fixture(scope="module")
def gallery_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return build_sample_gallery(tmp_path_factory.mktemp("gallery"))


def with_auth(config: Config, auth: Auth) -> Config:
    return msgspec.structs.replace(config, server=msgspec.structs.replace(config.server, auth=auth))


@pytest.fixture(scope="module")
def users() -> list[User]:
    return [
        User(username="anna", password=hash_password(ANNA_PASSWORD), filter="year:2016", edit=True),
        User(username="bob", password=BOB_SHA1),
        User(username="carl", password=CARL_SALTED, filter="not year:2016 and type:image"),
    ]


@pytest.fixture
def client(gallery_config: Config, users: list[User]) -> Iterator[Client]:
    config = with_auth(gallery_config, Auth(users=users))
    with TestClient(create_app(config)) as client:
        yield client


def login(client: Client, username: str, password: str) -> int:
    return client.post("/api/login", json={"username": username, "password": password}).status_code


def ids(client: Client, q: str = "") -> set[str]:
    response = client.get("/api/entries", params={"q": q, "limit": 1000})
    assert response.status_code == 200, response.text
    return {entry["id"] for entry in response.json()["entries"]}


# --- logging in -----------------------------------------------------------------------------


def test_without_login_nothing_is_shown(client: Client, gallery_config: Config) -> None:
    assert client.get("/api/settings").json()["loginRequired"] is True
    some_id = Gallery(gallery_config).search_ids("", limit=1)[0]
    for url in ("/api/entries", "/api/timeline", "/api/places", "/api/tags", "/api/live",
                f"/api/entries/{some_id}", f"/files/{some_id}/image-preview-320.jpg"):  # fmt: skip
        assert client.get(url).status_code == 401, url
    # the page itself loads, to show the login form
    assert client.get("/").status_code == 200


def test_wrong_passwords_and_unknown_users_are_refused(client: Client) -> None:
    assert login(client, "anna", "wrong") == 401
    assert login(client, "nobody", ANNA_PASSWORD) == 401
    assert login(client, "anna", "") == 401
    assert COOKIE_NAME not in client.cookies


def test_each_user_sees_what_their_filter_allows(client: Client, gallery_config: Config) -> None:
    gallery = Gallery(gallery_config)
    assert login(client, "anna", ANNA_PASSWORD) == 200
    cookie = client.cookies[COOKIE_NAME]
    assert client.get("/api/settings").json()["user"] == "anna"
    assert ids(client) == set(gallery.search_ids("year:2016")) and len(ids(client)) == 2
    assert client.post("/api/logout", json={}).status_code == 200
    client.cookies.clear()
    assert client.get("/api/entries").status_code == 401
    client.cookies[COOKIE_NAME] = cookie  # a logged-out session stays ended
    assert client.get("/api/entries").status_code == 401
    client.cookies.clear()
    assert login(client, "bob", BOB_PASSWORD) == 200  # HomeGallery {SHA}
    assert len(ids(client)) == 11
    client.cookies.clear()
    assert login(client, "carl", BOB_PASSWORD) == 200  # HomeGallery {SHA256-salted}
    assert ids(client) == set(gallery.search_ids("not year:2016 and type:image"))


def test_a_logout_holds_in_a_server_beside_it_and_after_a_restart(
    gallery_config: Config, users: list[User]
) -> None:
    """Before, an ended session lived in one server's memory: a restart (or the server
    beside it) took the cookie again for up to 30 days."""
    config = with_auth(gallery_config, Auth(users=users))
    with TestClient(create_app(config)) as first, TestClient(create_app(config)) as beside:
        assert login(first, "bob", BOB_PASSWORD) == 200
        cookie = first.cookies[COOKIE_NAME]
        beside.cookies[COOKIE_NAME] = cookie
        assert beside.get("/api/settings").json()["user"] == "bob"
        assert first.post("/api/logout", json={}).status_code == 200
        assert beside.get("/api/entries").status_code == 401
        assert login(beside, "bob", BOB_PASSWORD) == 200  # a new session is unaffected
        assert beside.get("/api/entries").status_code == 200
    with TestClient(create_app(config)) as restarted:
        restarted.cookies[COOKIE_NAME] = cookie
        assert restarted.get("/api/entries").status_code == 401
        assert restarted.get("/api/settings").json()["user"] is None


CRAFTED = [
    "year:2017",
    ") or (year:2017",
    "x) or (year:2017",
    "year:2016) or (year:2017",
    "year:2016 or year:2017",
    "not year:2016",
    "year:2016' or '1'='1",
    "year:2016 order by date asc) or (year:2017",
    "order by date asc",
    "id:0",
    "similar:00",
]


def test_no_crafted_query_sees_past_the_filter(client: Client, gallery_config: Config) -> None:
    allowed = set(Gallery(gallery_config).search_ids("year:2016"))
    assert login(client, "anna", ANNA_PASSWORD) == 200
    for query in CRAFTED:
        for url in ("/api/entries", "/api/timeline", "/api/places", "/api/tags",
                    "/api/places/clusters"):  # fmt: skip
            response = client.get(url, params={"q": query})
            assert response.status_code in (200, 400), (query, url)
            if url == "/api/entries" and response.status_code == 200:
                assert {e["id"] for e in response.json()["entries"]} <= allowed, query
            if url == "/api/timeline" and response.status_code == 200:
                assert response.json()["total"] <= len(allowed), query
            if url == "/api/places/clusters" and response.status_code == 200:
                clusters = response.json()["clusters"]
                assert {c[3] for c in clusters} <= allowed, query
                assert response.json()["total"] <= len(allowed), query


def test_map_clusters_and_packed_timeline_count_only_the_filtered(
    gallery_config: Config,
) -> None:
    gallery = Gallery(gallery_config)
    allowed = set(gallery.search_ids("year:2014"))
    placed = set(gallery.search_ids("year:2014 exists geo"))
    assert placed and len(gallery.search_ids("exists geo")) > len(placed)
    dora = User(username="dora", password=hash_password(BOB_PASSWORD), filter="year:2014")
    config = with_auth(gallery_config, Auth(users=[dora]))
    with TestClient(create_app(config)) as client:
        assert login(client, "dora", BOB_PASSWORD) == 200
        _only_the_filtered(client, allowed, placed)


def _only_the_filtered(client: Client, allowed: set[str], placed: set[str]) -> None:
    for zoom in (0, 10, 19):
        answer = client.get("/api/places/clusters", params={"zoom": zoom}).json()
        assert answer["total"] == sum(c[2] for c in answer["clusters"]) == len(placed)
        assert {c[3] for c in answer["clusters"]} <= placed
    packed = client.get("/api/timeline", params={"form": "packed"}).json()
    assert packed["total"] == len(allowed) == sum(g[2] for g in packed["groups"])
    assert len(base64.b64decode(packed["packedRatios"])) == len(allowed)


def test_no_entry_outside_the_filter_by_id(client: Client, gallery_config: Config) -> None:
    gallery = Gallery(gallery_config)
    outside = gallery.search("type:image not year:2016", limit=1)[0]
    inside = gallery.search("year:2016", limit=1)[0]
    assert login(client, "anna", ANNA_PASSWORD) == 200
    assert client.get(f"/api/entries/{inside.id}").status_code == 200
    for url in (f"/api/entries/{outside.id}", f"/api/entries/{outside.id[:12]}",
                f"/api/entries/{outside.id}/similar", f"/files/{outside.id}/image-preview-320.jpg",
                f"/files/{outside.id}/original/0"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    change = {"ids": [inside.id, outside.id], "add": ["mine"]}
    assert client.post("/api/events/tags", json=change).status_code == 404
    assert "mine" not in (gallery.entry(inside.id) or inside).tags  # nothing half done


def test_public_visitors_see_the_public_filter_and_cannot_tag(
    gallery_config: Config, users: list[User]
) -> None:
    auth = Auth(users=users, public=PublicAccess(enabled=True, filter="year:2018"))
    gallery = Gallery(gallery_config)
    with TestClient(create_app(with_auth(gallery_config, auth))) as client:
        settings = client.get("/api/settings").json()
        assert settings["loginRequired"] is False and settings["canEdit"] is False
        assert ids(client) == set(gallery.search_ids("year:2018"))
        some = next(iter(ids(client)))
        refused = client.post("/api/events/tags", json={"ids": [some], "add": ["x"]})
        assert refused.status_code == 403
        assert login(client, "bob", BOB_PASSWORD) == 200
        assert len(ids(client)) == 11


def test_repeated_wrong_logins_are_throttled(client: Client) -> None:
    for _ in range(10):
        assert login(client, "anna", "guess") == 401
    assert login(client, "anna", ANNA_PASSWORD) == 429


# --- the pieces -------------------------------------------------------------------------------


def test_password_hashes() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$") and stored != hash_password("correct horse")
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "correct horsE")
    assert verify_password(BOB_SHA1, "password") and not verify_password(BOB_SHA1, "Password")
    assert verify_password(CARL_SALTED, "password") and not verify_password(CARL_SALTED, "x")
    salt = b"pepper12"
    made = "{SHA256-salted}" + base64.b64encode(salt).decode() + "."
    made += base64.b64encode(hashlib.sha256(salt + b"open sesame").digest()).decode()
    assert verify_password(made, "open sesame") and not verify_password(made, "open")
    for broken in ("{SHA}not base64!", "{SHA256-salted}nodot", "$argon2id$broken", "plain"):
        with pytest.raises(PasswordHashError):
            verify_password(broken, "x")


def test_sessions_are_signed_expire_and_end_with_a_password_change(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret = load_secret(secret_file)
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert load_secret(secret_file) == secret  # kept across restarts
    sessions = Sessions(secret, days=1)
    token = sessions.issue("anna", "hash-1", now=1000.0)
    assert sessions.username(token) == "anna"
    assert sessions.verify(token, "hash-1", now=1000.0)
    assert sessions.issue("anna", "hash-1", now=1000.0) != token  # each login its own session
    assert not sessions.verify(token, "hash-2", now=1000.0)
    assert not sessions.verify(token, "hash-1", now=1000.0 + 86401)
    name, expires, session, signature = token.split(".")
    bob = base64.urlsafe_b64encode(b"bob").decode().rstrip("=")
    assert not sessions.verify(f"{bob}.{expires}.{session}.{signature}", "hash-1", now=1000.0)
    later = f"{name}.{int(expires) + 99}.{session}.{signature}"
    assert not sessions.verify(later, "hash-1", now=1000.0)
    other = f"{name}.{expires}.{session[::-1]}.{signature}"
    assert not sessions.verify(other, "hash-1", now=1000.0)
    assert not Sessions(os.urandom(32), 1).verify(token, "hash-1", now=1000.0)
    assert not sessions.verify("garbage", "hash-1")


def test_logging_out_lasts_across_restarts_and_made_up_tokens_are_not_kept(
    tmp_path: Path,
) -> None:
    secret = load_secret(tmp_path / "secret")
    file = tmp_path / "server-sessions.db"
    sessions = Sessions(secret, days=1, revocations=Revocations(file))
    token = sessions.issue("anna", "hash-1", now=1000.0)
    kept = sessions.issue("anna", "hash-1", now=1000.0)
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert not sessions.revoke("garbage", "hash-1") and not sessions.revoke(token, "hash-2")
    assert len(sessions.revocations) == 0
    assert sessions.revoke(token, "hash-1", now=1000.0)
    assert not sessions.verify(token, "hash-1", now=1000.0)
    assert sessions.verify(kept, "hash-1", now=1000.0)  # only that session ended
    # a server started afterwards on the same folder, and one running beside it
    restarted = Sessions(secret, days=1, revocations=Revocations(file))
    assert not restarted.verify(token, "hash-1", now=1000.0)
    assert restarted.verify(kept, "hash-1", now=1000.0)
    assert sessions.revoke(kept, "hash-1", now=1000.0)
    assert not restarted.verify(kept, "hash-1", now=1000.0)
    # ended sessions are forgotten once their cookies would have expired anyway
    fresh = sessions.issue("anna", "hash-1", now=1000.0 + 2 * 86400)
    assert sessions.revoke(fresh, "hash-1", now=1000.0 + 2 * 86400)
    assert len(restarted.revocations) == 1


def test_address_rules_first_match_wins() -> None:
    rules = compile_rules([AccessRule(allow="192.168/16"), AccessRule(deny="192.0.0.0/8"),
                           AccessRule(allow="localhost"), AccessRule(deny="all")])  # fmt: skip
    assert address_allowed(rules, "192.168.1.20")
    assert not address_allowed(rules, "192.1.1.1")
    assert address_allowed(rules, "127.0.0.1") and address_allowed(rules, "::1")
    assert address_allowed(rules, "::ffff:127.0.0.1")
    assert not address_allowed(rules, "10.0.0.1") and not address_allowed(rules, "2001:db8::1")
    assert not address_allowed(rules, "testclient") and not address_allowed(rules, None)
    assert address_allowed([], "10.0.0.1")
    assert address_allowed(compile_rules([AccessRule(deny="10.0.0.0/8")]), "11.0.0.1")


def test_denied_addresses_get_403(gallery_config: Config) -> None:
    config = with_auth(gallery_config, Auth(rules=[AccessRule(deny="all")]))
    with TestClient(create_app(config)) as client:
        for url in ("/", "/api/entries", "/app/main.js"):
            assert client.get(url).status_code == 403


def test_auth_config_mistakes_are_named(tmp_path: Path) -> None:
    cases = {
        "users: [{username: a, password: secret}]": "users[0].password`: store a password hash",
        "users: [{username: a, password: '{SHA}x'}, {username: a, password: '{SHA}y'}]":
            "users[1].username`: 'a' is listed twice",
        "rules: [{allow: 10.0.0.0/33}]": "rules[0]`: not an address",
        "rules: [{allow: all, deny: all}]": "rules[0]`: give exactly one of",
        "rules: [{permit: all}]": "unknown key `server.auth.rules[0].permit`",
    }  # fmt: skip
    for text, message in cases.items():
        data = {"server": {"auth": yaml.safe_load("{" + text + "}")}}
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
            parse_config(data, tmp_path / "gallery.yml")


def test_a_broken_user_filter_stops_the_server_with_its_key(gallery_config: Config) -> None:
    auth = Auth(users=[User(username="a", password=BOB_SHA1, filter="year:(")])
    with pytest.raises(ConfigError, match=r"server\.auth\.users\[0\]\.filter"):
        create_app(with_auth(gallery_config, auth))


# --- the filter join itself ------------------------------------------------------------------

TOKENS = ["year:2016", "year:2017", "(", ")", " or ", " and ", " not ", " order by date asc",
          "'", '"', "tag:a", "x", " ", "[", "]", "year in [2015:2018]", ":", "~", "id:0"]  # fmt: skip


@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.sampled_from(TOKENS), max_size=12))
def test_a_scoped_query_never_finds_more_than_the_filter(
    gallery_config: Config, parts: list[str]
) -> None:
    gallery = Gallery(gallery_config)
    allowed = set(gallery.search_ids("year:2016"))
    query = "".join(parts)
    try:
        scoped = scope_query("year:2016", query)
        found = gallery.search_ids(scoped.text)
    except QueryError:
        return
    assert set(found) <= allowed
    # and it finds exactly what the query finds among the allowed entries
    body = query.split(" order by")[0]
    if body.strip() and "order" not in body:
        assert set(found) == set(gallery.search_ids(query)) & allowed
