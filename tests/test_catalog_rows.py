"""Entries → rows: searchable text is casefolded and never holds the part separator."""

from __future__ import annotations

from homegallery.catalog.entry import Entry, EntryFile
from homegallery.catalog.rows import SEPARATOR, entry_row, text_cache


def test_text_columns_are_casefolded_and_a_stray_separator_becomes_a_space() -> None:
    entry = Entry(
        id="ab" * 32, type="image", city="Straße\x00Mitte", make="NIKON", mime="Image/JPEG",
        country_code="DE", tags=["Sea"],
        files=[EntryFile(source="/p", path="A/IMG_1.JPG", size=1, kind="image")],
    )  # fmt: skip
    row = entry_row(7, entry, "sig")
    assert "strasse mitte" in row and "nikon" in row and "image/jpeg" in row and "de" in row
    text = row[-2]
    assert text == text_cache(entry)
    assert text.split(SEPARATOR) == ["image", "sea", "strasse mitte", "nikon", "a/img_1.jpg"]
