"""Moving from HomeGallery: its config and its tags, through real photos.

The HomeGallery side is written here in its formats (a YAML config, gzipped JSON file
indexes with sha1 checksums, an ``events.db`` of newline-delimited JSON), as
HomeGallery writes them; the photos are the shared real ones.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from homegallery.catalog.events import read_events
from homegallery.catalog.schema import open_reader
from homegallery.cli.main import main
from homegallery.config import load_config
from homegallery.gallery import open_gallery
from homegallery.importer import ImportOptions, import_update
from homegallery.index import load_index
from homegallery.migrate.hg_config import read_homegallery_config, translate
from homegallery.server.passwords import verify_password

SHA_PASSWORD = "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="  # "password", as HomeGallery's docs make it


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def event(number: int, targets: list[str], *actions: tuple[str, str]) -> str:
    return json.dumps(
        {
            "id": f"00000000-0000-4000-8000-{number:012d}",
            "type": "userAction",
            "targetIds": targets,
            "actions": [{"action": name, "value": value} for name, value in actions],
            "date": f"2021-03-0{number % 9 + 1}T10:00:00.000Z",
        }
    )


@pytest.fixture
def homegallery(photos_dir: Path, tmp_path: Path) -> dict[str, Path]:
    """A HomeGallery installation over real photos, with tags on four of them."""
    pictures = tmp_path / "Pictures"
    shutil.copytree(photos_dir / "gps", pictures / "gps")
    for name in ("Canon_40D.jpg", "Nikon_D70.jpg", "Pentax_K10D.jpg"):
        (pictures / "cameras").mkdir(parents=True, exist_ok=True)
        shutil.copy(photos_dir / "cameras" / name, pictures / "cameras" / name)
    (pictures / "cameras" / "notes.tmp").write_text("left out by an exclude")
    base = tmp_path / "hg"
    config_dir = base / ".config" / "home-gallery"
    config_dir.mkdir(parents=True)
    gps = sorted((pictures / "gps").iterdir())
    tagged = {
        "sea": gps[0],
        "hike": gps[1],
        "canon": pictures / "cameras" / "Canon_40D.jpg",
        "nikon": pictures / "cameras" / "Nikon_D70.jpg",
    }
    # HomeGallery's index knows the gps folder only, and two checksums in it are stale
    # (one of a tagged file, one naming a tagged file's sha1 for another file): the
    # files must be hashed, not trusted.
    records = [
        {"filename": f"gps/{path.name}", "sha1sum": sha1(path), "size": path.stat().st_size}
        for path in gps
    ]
    records[0]["sha1sum"] = "0" * 40
    records[3]["sha1sum"] = sha1(gps[1])
    index = {"type": "home-gallery/fileindex@1.0", "base": str(pictures), "data": records}
    with gzip.open(config_dir / "Pictures.idx", "wt") as handle:
        json.dump(index, handle)
    gone = "f" * 40  # a file HomeGallery had and the sources no longer hold
    lines = [
        json.dumps({"type": "home-gallery/events@1.0", "created": "2021-01-01T00:00:00.000Z"}),
        event(1, [sha1(tagged["sea"]), gone], ("addTag", "sea"), ("addTag", "Summer")),
        event(2, [sha1(tagged["hike"])], ("addTag", "hike")),
        event(3, [sha1(tagged["canon"]), sha1(tagged["nikon"])], ("addTag", "cameras")),
        event(4, [sha1(tagged["nikon"])], ("removeTag", "cameras"), ("addTag", "nikon")),
        event(5, [sha1(tagged["sea"])], ("addFaceTag", "Anna")),
        '{"id": "broken", "type": "userAc',  # a write cut off by a crash
        event(6, [gone], ("addTag", "lost")),
    ]
    (config_dir / "events.db").write_text("\n".join(lines) + "\n")
    config = {
        "baseDir": str(base),
        "sources": [
            {
                "dir": str(pictures),
                "excludes": ["*.tmp"],
                "maxFilesize": "20M",
                "downloadable": True,
            }
        ],
        "extractor": {
            "image": {"previewSizes": [320, 128], "previewQuality": 75},
            "video": {"videoEncoder": "libx264", "maxVideoBitRate": 3000, "level": 3.1},
            "apiServer": {"url": "https://api.home-gallery.org"},
        },
        "storage": {"dir": "{cacheDir}/storage"},
        "server": {
            "port": 3456,
            "prefix": "/gallery",
            "auth": {
                "users": [
                    {"anna": "secret"},
                    {"username": "guest", "password": SHA_PASSWORD, "filter": "tag:sea"},
                ],
                "public": {"filter": "year:2008"},
                "rules": [{"allow": "localhost"}, {"deny": "all"}],
            },
            "openBrowser": False,
        },
    }
    config_file = base / "gallery.config.yml"
    config_file.write_text(yaml.safe_dump(config))
    return {"config": config_file, "pictures": pictures, **tagged}


def test_config_keeps_what_homegallery_meant(homegallery: dict[str, Path]) -> None:
    data = read_homegallery_config(homegallery["config"])
    translation = translate(data, homegallery["config"])
    source = translation.config["sources"][0]
    assert source == {
        "dir": str(homegallery["pictures"]),
        "excludes": ["*.tmp"],
        "maxFileSize": "20M",
        "downloadable": True,
    }
    assert translation.sources[0].index == (
        homegallery["config"].parent / ".config" / "home-gallery" / "Pictures.idx"
    )
    assert translation.events_file.name == "events.db"
    server = translation.config["server"]
    assert server["prefix"] == "/gallery" and server["port"] == 3456
    anna, guest = server["auth"]["users"]
    assert anna["username"] == "anna" and verify_password(anna["password"], "secret")
    assert guest == {"username": "guest", "password": SHA_PASSWORD, "filter": "tag:sea"}
    assert server["auth"]["public"] == {"enabled": True, "filter": "year:2008"}
    assert "rules" not in server["auth"]
    video = translation.config["extractor"]["video"]
    assert video == {"encoder": "libx264", "level": "3.1", "maxrate": "3000k"}
    notes = "\n".join(translation.notes)
    for named in ("server.auth.rules", "extractor.apiServer", "storage.dir", "openBrowser",
                  "plain password", "server.host"):  # fmt: skip
        assert named in notes


def test_tags_survive_the_move(
    homegallery: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ours = tmp_path / "ours" / "gallery.yml"
    assert main(["migrate", "--from-homegallery", str(homegallery["config"]),
                 "--config", str(ours), "-q"]) == 0  # fmt: skip
    output = capsys.readouterr().out
    assert "4 of 5 tagged files found" in output
    assert "carry 4 events (4 new)" in output
    assert "tags of 1 files no source holds any more (sha1 ffffffffffff)" in output
    assert "line 7: not JSON" in output
    assert "1 actions other than addTag/removeTag not carried" in output
    config = load_config(ours)
    assert config.server.prefix == "/gallery"
    assert [user.username for user in config.server.auth.users] == ["anna", "guest"]
    indexed = {entry.path for entry in load_index(config.sources[0].index_path)}
    assert "cameras/notes.tmp" not in indexed and len(indexed) == 12

    import_update(config, ImportOptions(workers=1, quiet=True))
    with open_gallery(config) as gallery:
        tags = {entry.files[0].path: entry.tags for entry in gallery if entry.tags}
        assert tags == {
            f"gps/{homegallery['sea'].name}": ["sea", "Summer"],
            f"gps/{homegallery['hike'].name}": ["hike"],
            "cameras/Canon_40D.jpg": ["cameras"],
            "cameras/Nikon_D70.jpg": ["nikon"],
        }
        assert gallery.count("tag:summer") == 1

    # Again: nothing is added twice, the config is kept.
    assert main(["migrate", "--from-homegallery", str(homegallery["config"]),
                 "--config", str(ours), "-q"]) == 0  # fmt: skip
    output = capsys.readouterr().out
    assert "kept" in output and "carry 4 events (0 new)" in output
    connection = open_reader(config.database.path)
    try:
        events = [e for _, e in read_events(connection)]
    finally:
        connection.close()
    assert len(events) == 4
    assert {e.time for e in events} >= {"2021-03-02T10:00:00.000+00:00"}


def test_dry_run_writes_nothing(
    homegallery: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ours = tmp_path / "ours" / "gallery.yml"
    assert main(["migrate", "--from-homegallery", str(homegallery["config"]),
                 "--config", str(ours), "--dry-run", "-q"]) == 0  # fmt: skip
    output = capsys.readouterr().out
    assert "would write" in output and "would carry 4 events" in output
    assert not ours.parent.exists()
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("catalog.db"))


def test_not_a_homegallery_events_file(
    homegallery: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = homegallery["config"].parent / ".config" / "home-gallery" / "events.db"
    events.write_text('{"type": "something/else@2.0"}\n')
    ours = tmp_path / "ours.yml"
    assert main(["migrate", "--from-homegallery", str(homegallery["config"]),
                 "--config", str(ours), "-q"]) == 1  # fmt: skip
    assert "not a HomeGallery events file" in capsys.readouterr().err


def test_missing_homegallery_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate", "--from-homegallery", str(tmp_path / "nope.yml"),
                 "--config", str(tmp_path / "ours.yml")]) == 1  # fmt: skip
    assert "no such HomeGallery config" in capsys.readouterr().err


def test_a_raw_tag_goes_to_its_jpeg_entry(photos_dir: Path, tmp_path: Path) -> None:
    from homegallery.config import parse_config
    from homegallery.index import update_index
    from homegallery.migrate.hg_files import SourceListing, entry_ids_of

    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(photos_dir / "cameras" / "Canon_40D.jpg", folder / "IMG_1.JPG")
    shutil.copy(photos_dir / "cameras" / "Nikon_D70.jpg", folder / "IMG_1.CR2")
    config = parse_config({"sources": [{"dir": str(folder)}]}, tmp_path / "gallery.yml")
    update_index(config)
    files = load_index(config.sources[0].index_path)
    ids = {entry.path: entry.id for entry in files}
    listing = SourceListing(folder=folder, files=files, hints={})
    raw_sha1 = sha1(folder / "IMG_1.CR2")
    assert entry_ids_of([listing], {raw_sha1}) == {raw_sha1: ids["IMG_1.JPG"]}


def test_json_config_and_environment_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pictures = tmp_path / "Fotos"
    pictures.mkdir()
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("GALLERY_CONFIG_DIR", str(elsewhere))
    config_file = tmp_path / "gallery.config.json"
    config_file.write_text(json.dumps({
        "configPrefix": "home-",
        "sources": ["./Fotos", {"dir": str(tmp_path / "gone"), "index": "{configDir}/old.idx"}],
        "events": {"file": "{configDir}/{configPrefix}events.db"},
    }))  # fmt: skip
    translation = translate(read_homegallery_config(config_file), config_file)
    first, second = translation.sources
    assert first.dir == pictures and first.index == elsewhere / "home-Fotos.idx"
    assert second.index == elsewhere / "old.idx"
    assert translation.config["sources"][1]["offline"] is True  # its disk is not there
    assert "marked offline" in "\n".join(translation.notes)
    assert translation.events_file == elsewhere / "home-events.db"
