"""Entries → catalog rows: the searchable columns, values, files and the JSON doc.

One place writes entries, for the build and for user events alike, so the searchable
columns always agree with the stored entry. Searchable text is casefolded here once,
which lets queries compare with plain ``=`` and ``instr`` (SQLite's own ``lower()``
knows only ASCII).
"""

from __future__ import annotations

import operator
import sqlite3
from collections.abc import Iterable, Sequence

from homegallery.catalog.doc import encode_doc
from homegallery.catalog.entry import Entry

_COLUMNS = (
    "rowid", "id", "type", "date", "year", "month", "day", "hour", "minute",
    "width", "height", "ratio", "orientation", "mime", "format", "make", "model", "lens",
    "iso", "aperture", "exposure_time", "focal_length", "latitude", "longitude", "altitude",
    "country", "country_code", "state", "county", "city", "road", "title", "description",
    "duration", "rating", "favorite", "size", "tag_count", "object_count", "face_count",
    "file_count", "preview_count", "has_vector", "text", "signature",
)  # fmt: skip
_INSERT_ENTRY = (
    f"INSERT INTO entries ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"
)


# Between the parts of the text cache: no query word can span two parts (a tag and
# the next one), which lets the in-memory search test each part on its own.
SEPARATOR = "\x00"


def fold(text: str | None) -> str | None:
    """The searchable form of a text: casefolded, never holding the separator."""
    if not text:
        return None
    folded = text.casefold()
    return folded.replace(SEPARATOR, " ") if SEPARATOR in folded else folded


def text_cache(entry: Entry) -> str:
    """What bare words search: type, day, tags, places, camera, titles, objects, files.

    :meth:`homegallery.catalog.query.evaluate.Evaluator.text` searches the same parts
    from the columns; the two must list the same ones.
    """
    return _text_cache(entry, _fold_all(_cached_fields(entry)))


_CACHED_FIELDS = (
    "country", "state", "county", "city", "road", "make", "model", "lens", "title", "description",
)  # fmt: skip


def _text_cache(entry: Entry, folded_fields: list[str | None]) -> str:
    parts: list[str | None] = [entry.type.casefold(), entry.date[:10] if entry.date else None]
    parts.extend(map(fold, entry.tags))
    parts.extend(folded_fields)
    parts.extend(fold(found.class_) for found in entry.objects)
    parts.extend(fold(file.path) for file in entry.files)
    return SEPARATOR.join(part for part in parts if part)


_cached_fields = operator.attrgetter(*_CACHED_FIELDS)


def _fold_all(texts: tuple[str | None, ...]) -> list[str | None]:
    """:func:`fold` of each text (the build's hot path: one call for all of an entry's)."""
    folded = [text.casefold() if text else None for text in texts]
    if any(SEPARATOR in text for text in folded if text):
        return [fold(text) for text in folded]
    return folded


def entry_row(rowid: int, entry: Entry, signature: str) -> tuple[object, ...]:
    ratio = entry.width / entry.height if entry.width and entry.height else None
    folded = _fold_all(_cached_fields(entry))
    country, state, county, city, road, make, model, lens, title, description = folded
    mime, format_, country_code = _fold_all((entry.mime, entry.format, entry.country_code))
    return (
        rowid, entry.id, entry.type, entry.date, entry.year, entry.month, entry.day,
        entry.hour, entry.minute, entry.width, entry.height, ratio, entry.orientation,
        mime, format_, make, model, lens, entry.iso, entry.aperture,
        entry.exposure_time, entry.focal_length, entry.latitude, entry.longitude,
        entry.altitude, country, country_code, state, county, city, road, title,
        description, entry.duration, entry.rating, 1 if entry.favorite else 0, entry.size,
        len(entry.tags), len(entry.objects), len(entry.faces), len(entry.files),
        len(entry.previews), 1 if entry.has_vector else 0, _text_cache(entry, folded),
        signature,
    )  # fmt: skip


def _extension(path: str) -> str:
    """``a/IMG_1.JPG`` → ``jpg`` (as ``PurePosixPath.suffix``, without the dot)."""
    name = path.rpartition("/")[2]
    dot = name.rfind(".")
    return name[dot + 1 :].casefold() if dot > 0 else ""


def insert_entries(
    connection: sqlite3.Connection, entries: Iterable[tuple[Entry, str]], first_rowid: int
) -> int:
    """Inserts new entries (ids not in the catalog) with rowids from ``first_rowid``.

    Rowids are assigned here rather than read back after each insert so that every
    table can be filled with one ``executemany``. Returns the next free rowid.
    """
    entry_rows: list[tuple[object, ...]] = []
    value_rows: list[tuple[int, str, str]] = []
    file_rows: list[tuple[object, ...]] = []
    doc_rows: list[tuple[int, bytes]] = []
    rowid = first_rowid
    for entry, signature in entries:
        entry_rows.append(entry_row(rowid, entry, signature))
        seen: set[tuple[str, str]] = set()
        for key, values in (("tag", entry.tags), ("object", [o.class_ for o in entry.objects])):
            for value in values:
                item = (key, fold(value) or "")
                if item not in seen:
                    seen.add(item)
                    value_rows.append((rowid, key, item[1]))
        for file in entry.files:
            file_rows.append(
                (
                    rowid,
                    fold(file.source) or "",
                    fold(file.path) or "",
                    fold(file.path.rpartition("/")[2]) or "",
                    _extension(file.path),
                    file.kind,
                )
            )
        doc_rows.append((rowid, encode_doc(entry)))
        rowid += 1
    connection.executemany(_INSERT_ENTRY, entry_rows)
    connection.executemany(
        "INSERT INTO entry_values (entry, key, value) VALUES (?, ?, ?)", value_rows
    )
    connection.executemany(
        "INSERT INTO entry_files (entry, source, path, name, ext, kind) VALUES (?, ?, ?, ?, ?, ?)",
        file_rows,
    )
    connection.executemany("INSERT INTO entry_docs (entry, doc) VALUES (?, ?)", doc_rows)
    return rowid


def next_rowid(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT coalesce(max(rowid), 0) + 1 FROM entries").fetchone()
    return int(row[0])


def delete_entries(connection: sqlite3.Connection, ids: Sequence[str]) -> None:
    """Removes entries (all their rows); ids not in the catalog are ignored."""
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ", ".join("?" * len(chunk))
        rowids = [
            row[0]
            for row in connection.execute(f"SELECT rowid FROM entries WHERE id IN ({marks})", chunk)
        ]
        if rowids:
            rowid_marks = ", ".join("?" * len(rowids))
            connection.execute(f"DELETE FROM entry_values WHERE entry IN ({rowid_marks})", rowids)
            connection.execute(f"DELETE FROM entry_files WHERE entry IN ({rowid_marks})", rowids)
            connection.execute(f"DELETE FROM entry_docs WHERE entry IN ({rowid_marks})", rowids)
            connection.execute(f"DELETE FROM entries WHERE rowid IN ({rowid_marks})", rowids)


def replace_entries(connection: sqlite3.Connection, entries: Sequence[tuple[Entry, str]]) -> None:
    """Writes entries over their previous version (or as new ones)."""
    delete_entries(connection, [entry.id for entry, _ in entries])
    insert_entries(connection, entries, next_rowid(connection))
