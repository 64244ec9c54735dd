"""Symbolic links in a source, made as someone who can write into it would make them:
the index, the checksums, the extract workers and the server never read a file that
lies outside the sources, and link loops end."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
import yaml

from homegallery import _core
from homegallery.config import Config, load_config
from homegallery.extract.runner import extract_gallery
from homegallery.extract.schema import failure_kind, preview_kind, read_failure
from homegallery.importer import import_update
from homegallery.index import load_index, update_index
from homegallery.samples import write_sample_photo
from homegallery.server import create_app
from homegallery.server.runner import running
from homegallery.storage import Storage
from homegallery.within import OutsideSourcesError, open_within, source_roots

XMP = """<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:subject><rdf:Bag><rdf:li>{subject}</rdf:li></rdf:Bag></dc:subject>
</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>
"""


def make_gallery(root: Path, follow: bool = False, second_source: bool = False) -> Config:
    """``photos`` (downloadable) and optionally ``trips`` as sources; ``outside`` is not."""
    for folder in ("photos", "trips", "outside"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    sources: list[dict[str, object]] = [
        {"dir": "photos", "downloadable": True, "followSymlinks": follow}
    ]
    if second_source:
        sources.append({"dir": "trips"})
    config_file = root / "gallery.yml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "sources": sources,
                "storage": {"dir": "data/storage"},
                "database": {"file": "data/catalog.db"},
                "extractor": {
                    "workers": 1,
                    "image": {"previewSizes": [128]},
                    "video": {"enabled": False},
                    "geoReverse": {"provider": "off"},
                },
            }
        ),
        encoding="utf-8",
    )
    return load_config(config_file)


def photo(path: Path, seed: int) -> bytes:
    return write_sample_photo(path, 160, 120, seed=seed).path.read_bytes()


def indexed(config: Config, number: int = 0) -> dict[str, str]:
    return {entry.path: entry.id for entry in load_index(config.sources[number].index_path)}


def test_links_leaving_the_source_are_left_out_and_reported(tmp_path: Path) -> None:
    config = make_gallery(tmp_path)
    photos, outside = tmp_path / "photos", tmp_path / "outside"
    photo(photos / "own.jpg", 1)
    photo(outside / "secret.jpg", 2)
    photo(outside / "album" / "x.jpg", 3)
    (photos / "secret.jpg").symlink_to(outside / "secret.jpg")  # a file outside
    (photos / "passwd.jpg").symlink_to("/etc/passwd")
    (photos / "relative.jpg").symlink_to("../outside/secret.jpg")
    (photos / "album").symlink_to(outside / "album")  # a folder outside
    (photos / "same.jpg").symlink_to(photos / "own.jpg")  # inside: listed
    (photos / "sub").mkdir()
    (photos / "sub" / "up").symlink_to(photos)  # a folder loop inside
    (photos / "l1").symlink_to(photos / "l2")  # a link loop
    (photos / "l2").symlink_to(photos / "l1")

    result = update_index(config).sources[0]

    found = indexed(config)
    assert sorted(found) == ["own.jpg", "same.jpg"]
    assert found["same.jpg"] == found["own.jpg"]
    errors = dict(result.file_errors)
    for name in ("secret.jpg", "passwd.jpg", "relative.jpg", "album"):
        assert "leads outside the source" in errors[name], errors
    assert "not followed" in errors["l1"] and "not followed" in errors["l2"]
    assert set(errors) == {"secret.jpg", "passwd.jpg", "relative.jpg", "album", "l1", "l2"}


def test_following_links_reaches_other_sources_only_and_loops_end(tmp_path: Path) -> None:
    config = make_gallery(tmp_path, follow=True, second_source=True)
    photos, trips, outside = tmp_path / "photos", tmp_path / "trips", tmp_path / "outside"
    photo(photos / "own.jpg", 1)
    photo(trips / "2020" / "t.jpg", 2)
    photo(outside / "secret.jpg", 3)
    (photos / "trip-2020").symlink_to(trips / "2020")  # a folder in another source
    (photos / "trip.jpg").symlink_to(trips / "2020" / "t.jpg")  # a file there
    (photos / "secret.jpg").symlink_to(outside / "secret.jpg")  # still outside
    (trips / "2020" / "home").symlink_to(photos)  # back into the first source
    (trips / "2020" / "again").symlink_to(trips / "2020")  # a loop in the other source

    result = update_index(config).sources[0]

    found = indexed(config)
    assert sorted(found) == ["own.jpg", "trip-2020/t.jpg", "trip.jpg"]
    assert found["trip.jpg"] == found["trip-2020/t.jpg"] == indexed(config, 1)["2020/t.jpg"]
    assert _core.hash_files([str(trips / "2020" / "t.jpg")])[0][0] == found["trip.jpg"]
    errors = dict(result.file_errors)
    assert "leads outside the source" in errors["secret.jpg"]
    assert "loop" in errors["trip-2020/again"]
    assert set(errors) == {"secret.jpg", "trip-2020/again"}

    # The same links without the switch: nothing outside the source itself.
    config.sources[0].follow_symlinks = False
    result = update_index(config).sources[0]
    assert sorted(indexed(config)) == ["own.jpg"]
    assert {name for name, _ in result.file_errors} == {"secret.jpg", "trip-2020", "trip.jpg"}


def test_checksums_refuse_a_file_swapped_for_a_link_after_the_walk(tmp_path: Path) -> None:
    config = make_gallery(tmp_path)
    photos = tmp_path / "photos"
    (tmp_path / "outside" / "secret.jpg").write_bytes(b"secret")
    (photos / "a.jpg").symlink_to(tmp_path / "outside" / "secret.jpg")
    roots = list(source_roots(config.sources, config.sources[0]))
    digest, read, problem = _core.hash_files([str(photos / "a.jpg")], 1, roots)[0]
    assert (digest, read) == (None, 0)
    assert problem is not None and "outside the sources" in problem


def test_extract_does_not_read_a_file_swapped_for_a_link(tmp_path: Path) -> None:
    config = make_gallery(tmp_path)
    photos, outside = tmp_path / "photos", tmp_path / "outside"
    photo(photos / "a.jpg", 1)
    photo(photos / "b.jpg", 2)
    photo(photos / "c.jpg", 3)
    (photos / "c.xmp").write_text(XMP.format(subject="beach"), encoding="utf-8")
    photo(outside / "private.jpg", 4)
    (outside / "private.xmp").write_text(XMP.format(subject="private"), encoding="utf-8")
    update_index(config)
    ids = indexed(config)
    for name, target in (("a.jpg", "private.jpg"), ("c.xmp", "private.xmp")):
        (photos / name).unlink()  # swapped between index and extract
        (photos / name).symlink_to(outside / target)

    summary = extract_gallery(config, workers=1)

    storage = Storage(config.storage.path)
    assert storage.exists(ids["b.jpg"], preview_kind(128))
    for name in ("a.jpg", "c.jpg"):
        assert not storage.exists(ids[name], preview_kind(128))
        failure = read_failure(storage, ids[name], "meta")
        assert failure is not None and failure.reason == "outside"
        assert storage.exists(ids[name], failure_kind("preview"))
    assert summary.failures[("meta", "outside")] == 2


def test_open_within_checks_what_it_opened(tmp_path: Path) -> None:
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    inside.mkdir()
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    (inside / "link").symlink_to(outside / "secret")
    (inside / "own").write_bytes(b"own")
    os.mkfifo(inside / "fifo")
    roots = (str(inside.resolve()),)
    with open_within(inside / "own", roots) as handle:
        assert handle.read() == b"own"
    with pytest.raises(OutsideSourcesError):
        open_within(inside / "link", roots)
    with pytest.raises(FileNotFoundError):
        open_within(inside / "fifo", roots)  # returns at once, never waits for a writer
    with pytest.raises(FileNotFoundError):
        open_within(inside, roots)


def test_server_refuses_an_original_swapped_for_a_link(tmp_path: Path) -> None:
    config = make_gallery(tmp_path)
    photos, outside = tmp_path / "photos", tmp_path / "outside"
    original = photo(photos / "a.jpg", 1)
    secret = b"TOP-SECRET " * 100
    (outside / "secret.jpg").write_bytes(secret)
    import_update(config)

    with running(create_app(config)) as url, httpx.Client(base_url=url, timeout=10) as client:
        (entry,) = client.get("/api/entries").json()["entries"]
        address = f"/files/{entry['id']}/original/0"
        served = client.get(address)
        assert served.status_code == 200 and served.content == original
        assert client.get(address, headers={"range": "bytes=0-9"}).content == original[:10]

        for target in (outside / "secret.jpg", Path("/etc/passwd")):
            (photos / "a.jpg").unlink()
            (photos / "a.jpg").symlink_to(target)
            refused = client.get(address)
            assert refused.status_code == 404, target
            assert b"TOP-SECRET" not in refused.content and b"root:" not in refused.content
            ranged = client.get(address, headers={"range": "bytes=0-9"})
            assert ranged.status_code == 404

        (photos / "a.jpg").unlink()
        os.mkfifo(photos / "a.jpg")  # a FIFO must not hold a reader thread forever
        assert client.get(address).status_code == 404

        (photos / "a.jpg").unlink()
        (photos / "copy.jpg").write_bytes(original)
        (photos / "a.jpg").symlink_to(photos / "copy.jpg")  # a link inside the source
        assert client.get(address).content == original
