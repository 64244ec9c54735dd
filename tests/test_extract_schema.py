"""Stored formats round-trip, and bad stored files fail with the file named."""

from __future__ import annotations

from pathlib import Path

import pytest

from homegallery.extract.schema import (
    Failure,
    MediaMeta,
    Place,
    StoredFileError,
    read_failure,
    read_meta,
    read_place,
    write_failure,
    write_meta,
    write_place,
)
from homegallery.storage import Storage

MEDIA_ID = "ab" * 32


def test_meta_round_trip(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    assert read_meta(storage, MEDIA_ID) is None
    meta = MediaMeta(
        type="image",
        width=4000,
        height=3000,
        date="2018-01-10T11:39:53+01:00",
        date_source="exif",
        make="Canon",
        keywords=["alps", "snow"],
    )
    write_meta(storage, MEDIA_ID, meta)
    assert read_meta(storage, MEDIA_ID) == meta
    assert storage.kinds(MEDIA_ID) == ["meta.json"]


def test_place_and_failure_round_trip(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    place = Place(source="offline", country="Italy", country_code="IT", city="Siena")
    write_place(storage, MEDIA_ID, place)
    assert read_place(storage, MEDIA_ID) == place
    failure = Failure(
        step="preview", reason="decode", message="truncated", path="/x.jpg", time="2020"
    )
    write_failure(storage, MEDIA_ID, failure)
    assert read_failure(storage, MEDIA_ID, "preview") == failure
    assert read_failure(storage, MEDIA_ID, "meta") is None


def test_newer_fields_are_ignored_and_broken_files_named(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    storage.write(MEDIA_ID, "meta.json", b'{"type": "video", "future_field": 1}')
    meta = read_meta(storage, MEDIA_ID)
    assert meta is not None and meta.type == "video"
    storage.write(MEDIA_ID, "meta.json", b'{"type": "painting"}')
    with pytest.raises(StoredFileError, match=r"meta\.json"):
        read_meta(storage, MEDIA_ID)
