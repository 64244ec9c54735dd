"""Entries → rows (made by the Rust core from the stored doc, for builds and events)."""

from __future__ import annotations

import pytest

from homegallery import _core
from homegallery.catalog.doc import encode_doc
from homegallery.catalog.entry import DetectedObject, Entry, EntryFile, Face

SEPARATOR = "\x00"


def _rows(
    entry: Entry,
) -> tuple[
    dict[str, object],
    list[tuple[int, str, str, float | None]],
    list[tuple[int, str, str, str, str, str]],
]:
    entries, values, files = _core.entry_rows([encode_doc(entry)], ["sig"], 7)
    (row,) = entries
    return dict(zip(_core.ENTRY_COLUMNS, row, strict=True)), values, files


def test_text_columns_are_casefolded_and_a_stray_separator_becomes_a_space() -> None:
    entry = Entry(
        id="ab" * 32, type="rawImage", date="2020-05-01T10:00:00", city="Straße\x00Mitte",
        make="NIKON", mime="Image/JPEG", country_code="DE", tags=["Sea", "SEA", "Ölberg"],
        objects=[DetectedObject(class_="Dog", score=0.9)],
        files=[
            EntryFile(source="/P", path="A/IMG_1.JPG", size=5, kind="image"),
            EntryFile(source="/P", path="A/IMG_1.xmp", size=1, kind="sidecar", id="cd" * 32),
        ],
    )  # fmt: skip
    row, values, files = _rows(entry)
    assert (row["rowid"], row["id"], row["type"], row["signature"]) == (
        7,
        entry.id,
        "rawImage",
        "sig",
    )
    assert (row["city"], row["make"], row["mime"], row["country_code"]) == (
        "strasse mitte", "nikon", "image/jpeg", "de",
    )  # fmt: skip
    assert (row["year"], row["month"], row["day"], row["hour"], row["minute"]) == (None,) * 5
    assert (row["size"], row["tag_count"], row["object_count"], row["file_count"]) == (5, 3, 1, 2)
    assert str(row["text"]).split(SEPARATOR) == [
        "rawimage", "2020-05-01", "sea", "sea", "ölberg", "strasse mitte", "nikon", "dog",
        "a/img_1.jpg", "a/img_1.xmp",
    ]  # fmt: skip
    # a model's score goes with what it saw; a tag has none
    assert values == [
        (7, "tag", "sea", None),
        (7, "tag", "ölberg", None),
        (7, "object", "dog", 0.9),
    ]
    assert files == [
        (7, "/p", "a/img_1.jpg", "img_1.jpg", "jpg", "image"),
        (7, "/p", "a/img_1.xmp", "img_1.xmp", "xmp", "sidecar"),
    ]


def test_numbers_flags_and_counts_come_through() -> None:
    entry = Entry(
        id="ef" * 32, type="video", width=1920, height=1080, orientation=6, iso=400,
        aperture=2.8, exposure_time=0.004, latitude=-33.9, duration=12.5, rating=-1,
        favorite=True, has_vector=True, faces=[Face(score=0.5), Face(age=30.0)],
        previews=["ef/ef/" + "ef" * 30 + "-image-preview-320.jpg", "aa/bb/cc-video-frame-1.jpg"],
    )  # fmt: skip
    row, values, files = _rows(entry)
    assert row["ratio"] == pytest.approx(1920 / 1080)
    assert (row["orientation"], row["iso"], row["aperture"], row["latitude"]) == (
        6,
        400,
        2.8,
        -33.9,
    )
    assert (row["duration"], row["rating"], row["favorite"], row["has_vector"]) == (12.5, -1, 1, 1)
    assert (row["face_count"], row["preview_count"], row["size"], row["text"]) == (2, 2, 0, "video")
    assert values == [] and files == []


def test_a_doc_that_is_not_an_entry_is_refused() -> None:
    with pytest.raises(ValueError, match="not an entry doc"):
        _core.entry_rows([b"\x01"], ["sig"], 1)
    with pytest.raises(ValueError, match="1 docs but 2 signatures"):
        _core.entry_rows([encode_doc(Entry(id="ab", type="image"))], ["a", "b"], 1)
