"""``homegallery fetch``: two real servers on 127.0.0.1, a login, tags both ways."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from homegallery.catalog.events import read_events
from homegallery.catalog.schema import open_reader
from homegallery.cli.main import main
from homegallery.config import Config, load_config
from homegallery.gallery import open_gallery
from homegallery.importer import ImportOptions, import_update
from homegallery.server import create_app
from homegallery.server.passwords import hash_password
from homegallery.server.runner import running


def write_config(folder: Path, sources: list[str], server: dict[str, object]) -> Path:
    config_file = folder / "gallery.yml"
    data = {
        "sources": [{"dir": source} for source in sources],
        "database": {"file": "data/catalog.db"},
        "storage": {"dir": "data/storage"},
        "extractor": {"workers": 1, "image": {"previewSizes": [320, 128]},
                      "geoReverse": {"provider": "off"}, "models": {"embeddings": "off"}},
        "server": server,
    }  # fmt: skip
    config_file.write_text(yaml.safe_dump(data))
    return config_file


@pytest.fixture
def remote(photos_dir: Path, tmp_path: Path) -> Iterator[tuple[Config, str]]:
    folder = tmp_path / "nas"
    shutil.copytree(photos_dir / "gps", folder / "photos" / "gps")
    shutil.copytree(photos_dir / "orientation", folder / "photos" / "orientation")
    users = [
        {"username": "anna", "password": hash_password("secret")},
        {"username": "guest", "password": hash_password("guest"), "filter": "year:2008"},
    ]
    config = load_config(write_config(folder, ["photos"], {"auth": {"users": users}}))
    import_update(config, ImportOptions(workers=1, quiet=True))
    with open_gallery(config) as gallery:
        gallery.tag(gallery.search_ids("year:2008", limit=1), add=["from the nas"], user="anna")
    with running(create_app(config, poll_seconds=0.2)) as url:
        yield config, url


def uids(config: Config) -> list[str]:
    connection = open_reader(config.database.path)
    try:
        return [event.uid for _, event in read_events(connection)]
    finally:
        connection.close()


def fetch(config_file: Path, url: str, *args: str) -> int:
    return main(["fetch", "--config", str(config_file), "--url", url, "-q", *args])


def test_fetch_merges_entries_previews_and_tags_both_ways(
    remote: tuple[Config, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    remote_config, remote_url = remote
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    local_file = write_config(laptop, [], {})
    local = load_config(local_file)

    assert fetch(local_file, remote_url, "--query", "year:2008") == 1
    assert "needs a login (give --user)" in capsys.readouterr().err
    monkeypatch.setenv("HOMEGALLERY_FETCH_PASSWORD", "wrong")
    assert fetch(local_file, remote_url, "--user", "anna") == 1
    assert "login as 'anna' refused" in capsys.readouterr().err

    monkeypatch.setenv("HOMEGALLERY_FETCH_PASSWORD", "secret")
    assert fetch(local_file, remote_url, "--query", "year:2008", "--user", "anna") == 0
    output = capsys.readouterr().out
    assert "entries: 9 (9 new, 0 gone)" in output and "1 received" in output
    with open_gallery(remote_config) as there:
        expected = {e.id: e.tags for e in there.search("year:2008")}
    with open_gallery(local) as here:
        assert {e.id: e.tags for e in here.search("")} == expected
        assert here.count('tag:"from the nas"') == 1
        mine = here.search_ids("year:2008")[-1]
        # no file of the remote's can pass for one of a local source
        assert {f.source for e in here.search("") for f in e.files} == {"fetched:photos"}
    # the local server shows them, previews included
    with running(create_app(local)) as local_url:
        page = httpx.get(local_url + "/api/entries").json()
        assert page["total"] == 9
        preview = httpx.get(f"{local_url}/files/{mine}/image-preview-320.jpg")
        assert preview.status_code == 200 and preview.content[:2] == b"\xff\xd8"
        for path in ("/api/timeline", "/api/places", "/api/tags", "/api/folders",
                     f"/api/entries/{mine}", f"/files/{mine}/original/0"):  # fmt: skip
            assert httpx.get(local_url + path).status_code < 500, path
        assert httpx.get(f"{local_url}/files/{mine}/original/0").status_code == 403
        assert httpx.post(f"{local_url}/api/events/tags",
                          json={"ids": [mine], "add": ["on the laptop"]}).status_code == 201  # fmt: skip
    with open_gallery(remote_config) as there:
        there.tag(there.search_ids("year:2008", limit=2)[1:], add=["later at home"], user="anna")

    assert fetch(local_file, remote_url, "--query", "year:2008", "--user", "anna") == 0
    output = capsys.readouterr().out
    assert "1 sent, 1 received" in output
    with open_gallery(remote_config) as there:
        assert there.search_ids('tag:"on the laptop"') == [mine]
    with open_gallery(local) as here:
        assert here.count('tag:"later at home"') == 1
        assert here.search_ids('tag:"on the laptop"') == [mine]

    # the storage purge keeps what fetched entries show
    assert main(["storage", "purge", "--config", str(local_file), "-q"]) == 0
    assert "removed 0 storage files" in capsys.readouterr().out

    # again: nothing travels twice, no log holds an event twice
    assert fetch(local_file, remote_url, "--query", "year:2008", "--user", "anna") == 0
    assert "0 sent, 0 received" in capsys.readouterr().out
    for config in (local, remote_config):
        assert len(uids(config)) == len(set(uids(config))) == 3
    assert set(uids(local)) == set(uids(remote_config))

    # a narrower query: what it leaves out goes, and a full build keeps fetched entries
    assert fetch(local_file, remote_url, "--query", 'year:2008 tag:"on the laptop"',
                 "--user", "anna") == 0  # fmt: skip
    assert "entries: 1 (0 new, 8 gone)" in capsys.readouterr().out
    own = laptop / "own"
    own.mkdir()
    shutil.copy(remote_config.sources[0].path / "orientation" / "landscape_1.jpg", own / "a.jpg")
    local_file = write_config(laptop, [str(own)], {})
    import_update(load_config(local_file), ImportOptions(workers=1, quiet=True))
    assert main(["build", "--config", str(local_file), "--full", "-q"]) == 0
    with open_gallery(load_config(local_file)) as here:
        assert len(here) == 2 and here.search_ids('tag:"on the laptop"') == [mine]


def test_a_filtered_login_gets_only_the_changes_of_what_it_sees(
    remote: tuple[Config, str],
) -> None:
    remote_config, remote_url = remote
    with open_gallery(remote_config) as there:
        seen = there.search_ids("year:2008", limit=1)
        hidden = there.search_ids("not year:2008", limit=1)
        there.tag([*seen, *hidden], add=["both"], user="anna")
        there.tag(hidden, add=["private matter"], user="anna")
    with httpx.Client(base_url=remote_url) as client:
        login = {"username": "guest", "password": "guest"}
        assert client.post("/api/login", json=login).status_code == 200
        events = client.get("/api/events").json()["events"]
        assert [e["add_tags"] for e in events] == [["from the nas"], ["both"]]
        assert events[1]["ids"] == seen
        assert client.get("/api/events", params={"after": 3}).json() == {"events": [], "last": 3}
    with httpx.Client(base_url=remote_url) as client:
        login = {"username": "anna", "password": "secret"}
        assert client.post("/api/login", json=login).status_code == 200
        bad = client.post("/api/events/tags", json={"ids": seen, "add": ["x"], "uid": "a b"})
        assert bad.status_code == 400 and "not an event id" in bad.json()["detail"]
        change = {"ids": seen, "add": ["once"], "uid": "elsewhere:0001"}
        assert [client.post("/api/events/tags", json=change).json()["changed"]
                for _ in range(2)] == [1, 0]  # fmt: skip


def test_watch_rounds_and_a_refused_change(remote: tuple[Config, str], tmp_path: Path) -> None:
    from homegallery.fetch.sync import FetchReport, fetch_gallery

    remote_config, remote_url = remote
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    local = load_config(write_config(laptop, [], {}))
    rounds: list[FetchReport] = []

    def after_round(report: FetchReport) -> None:
        rounds.append(report)
        if len(rounds) == 1:  # a change the guest may not make there
            with open_gallery(local) as here:
                here.tag(here.search_ids("", limit=1), add=["guest was here"], user="me")
        if len(rounds) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_gallery(local, remote_url, username="guest", password="guest",
                      watch_seconds=0.1, quiet=True, on_round=after_round)  # fmt: skip
    assert rounds[0].entries == 9 and rounds[1].pushed == 0
    assert len(rounds[1].refused) == 1 and "may not change tags" in rounds[1].refused[0]
    with open_gallery(remote_config) as there:
        assert there.count('tag:"guest was here"') == 0
