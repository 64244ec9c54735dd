"""A real server on loopback: live updates while the catalog changes, address rules on
real client addresses, and the serve command's password hashing."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import msgspec
import pytest

from browser.galleries import build_sample_gallery, update_gallery
from homegallery.cli.main import main
from homegallery.config import AccessRule, Auth, Config
from homegallery.gallery import Gallery
from homegallery.samples import write_sample_photo
from homegallery.server import create_app
from homegallery.server.live import CatalogWatcher
from homegallery.server.passwords import verify_password
from homegallery.server.runner import running


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return build_sample_gallery(tmp_path / "gallery")


def catalog_events(response: httpx.Response) -> Iterator[int]:
    """The versions announced by a server-sent event stream."""
    event = None
    for line in response.iter_lines():
        if line.startswith("event:"):
            event = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and event == "catalog":
            yield int(line.split(":", 1)[1])


def test_open_pages_hear_of_tags_and_new_photos(config: Config) -> None:
    app = create_app(config, poll_seconds=0.1)
    with running(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        with client.stream("GET", "/api/live") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            versions = catalog_events(stream)
            first = next(versions)
            # a change by another writer (a script through the Python API)
            gallery = Gallery(config)
            gallery.tag(gallery.search_ids("", limit=1), add=["from a script"], user="script")
            assert next(versions) > first
            # a new photo imported by the pipeline
            before = client.get("/api/entries").json()["total"]
            write_sample_photo(
                Path(config.sources[0].dir) / "new" / "IMG_NEW.jpg", 400, 300, seed=77,
                taken=datetime(2023, 5, 1, 12, 0),
            )  # fmt: skip
            started = time.monotonic()
            update_gallery(config)
            assert next(versions) > first + 1
            assert time.monotonic() - started < 15
        assert client.get("/api/entries").json()["total"] == before + 1
        newest = client.get("/api/entries", params={"q": "year:2023"}).json()["entries"]
        assert [e["files"][0]["path"] for e in newest] == ["new/IMG_NEW.jpg"]


def test_rules_see_the_real_client_address(config: Config) -> None:
    def served(rules: list[AccessRule]) -> int:
        auth = Auth(rules=rules)
        ruled = msgspec.structs.replace(
            config, server=msgspec.structs.replace(config.server, auth=auth)
        )
        with running(create_app(ruled)) as url:
            return httpx.get(f"{url}/api/entries").status_code

    assert served([AccessRule(deny="localhost")]) == 403
    assert served([AccessRule(allow="127.0.0.1"), AccessRule(deny="all")]) == 200
    assert served([AccessRule(deny="10.0.0.0/8")]) == 200


def test_serve_hashes_a_password_from_standard_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("my secret\n"))
    assert main(["serve", "--hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("$argon2id$") and verify_password(printed, "my secret")


def test_the_watcher_counts_commits_not_readers(config: Config) -> None:
    catalog = config.database.path
    watcher = CatalogWatcher(catalog)
    wal = catalog.with_name(catalog.name + "-wal")
    with Gallery(config) as gallery:
        assert gallery.count() > 0  # a reader: creates the -wal file
        assert wal.exists()
        assert not watcher.check() and watcher.version == 0
        gallery.tag(gallery.search_ids(limit=1), add=["seen"], user="test")
        assert watcher.check() and watcher.version == 1
    assert not watcher.check() and watcher.version == 1  # the last reader closed


def test_the_search_columns_are_read_ahead_at_start_and_after_a_change(config: Config) -> None:
    gallery = Gallery(config)
    app = create_app(config, gallery=gallery, poll_seconds=0.05)
    warmer = app.state.warmer

    def held() -> set[str]:
        snapshot = gallery._columns._columns
        return set() if snapshot is None else set(snapshot._texts) | set(snapshot._numbers)

    with running(app) as url, httpx.Client(base_url=url, timeout=20) as client:
        deadline = time.monotonic() + 20
        while warmer.runs < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert warmer.runs >= 1 and {"city", "make", "width", "latitude"} <= held()
        assert client.get("/api/count", params={"q": "canon"}).status_code == 200
        runs = warmer.runs
        Gallery(config).tag(gallery.search_ids("", limit=1), add=["seen"], user="script")
        while warmer.runs <= runs and time.monotonic() < deadline:
            time.sleep(0.02)
        assert warmer.runs > runs
