"""Entries → catalog rows: the searchable columns, values, files and the stored doc.

One place writes entries, for the build and for user events alike, so the searchable
columns always agree with the stored entry: the rows of a doc are made by the Rust
core (``rust/catalog/entry_rows.rs``), whatever made the doc. Searchable text is casefolded
there once, with the table queries fold their words with (:mod:`.fold`), so a search
compares plain strings.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence

from homegallery import _core
from homegallery.catalog.doc import encode_doc
from homegallery.catalog.entry import Entry

_INSERT_ENTRY = (
    f"INSERT INTO entries ({', '.join(_core.ENTRY_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(_core.ENTRY_COLUMNS))})"
)


def insert_docs(
    connection: sqlite3.Connection,
    docs: Sequence[bytes],
    signatures: Sequence[str],
    first_rowid: int,
) -> int:
    """Inserts new entries (ids not in the catalog) from their stored docs.

    Rowids are assigned here (from ``first_rowid``) rather than read back after each
    insert so that every table can be filled with one ``executemany``. Returns the
    next free rowid.
    """
    entry_rows, value_rows, file_rows = _core.entry_rows(list(docs), list(signatures), first_rowid)
    connection.executemany(_INSERT_ENTRY, entry_rows)
    connection.executemany(
        "INSERT INTO entry_values (entry, key, value, score) VALUES (?, ?, ?, ?)", value_rows
    )
    connection.executemany(
        "INSERT INTO entry_files (entry, source, path, name, ext, kind) VALUES (?, ?, ?, ?, ?, ?)",
        file_rows,
    )
    connection.executemany(
        "INSERT INTO entry_docs (entry, doc) VALUES (?, ?)",
        zip(range(first_rowid, first_rowid + len(docs)), docs, strict=True),
    )
    return first_rowid + len(docs)


def insert_entries(
    connection: sqlite3.Connection, entries: Iterable[tuple[Entry, str]], first_rowid: int
) -> int:
    """Inserts new entries with their signatures (see :func:`insert_docs`)."""
    pairs = list(entries)
    docs = [encode_doc(entry) for entry, _ in pairs]
    return insert_docs(connection, docs, [signature for _, signature in pairs], first_rowid)


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


def now_text() -> str:
    """The time as the ``updated`` key compares it: ISO, UTC, to the second."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())


def mark_updated(connection: sqlite3.Connection, ids: Iterable[str], when: str) -> None:
    """Records that the entries ``ids`` changed at ``when`` (see :func:`now_text`)."""
    connection.executemany(
        "INSERT INTO entry_updated (id, updated) VALUES (?, ?) "
        "ON CONFLICT (id) DO UPDATE SET updated = excluded.updated",
        ((media_id, when) for media_id in ids),
    )


def forget_updated(connection: sqlite3.Connection) -> None:
    """Drops the times of entries the catalog no longer holds."""
    connection.execute("DELETE FROM entry_updated WHERE id NOT IN (SELECT id FROM entries)")


def updated_times(connection: sqlite3.Connection, ids: Sequence[str]) -> dict[str, str]:
    """When each of ``ids`` last changed (ids without a recorded time are left out)."""
    found: dict[str, str] = {}
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ", ".join("?" * len(chunk))
        try:
            rows = connection.execute(
                f"SELECT id, updated FROM entry_updated WHERE id IN ({marks})", chunk
            ).fetchall()
        except sqlite3.OperationalError:  # a catalog no build has written to yet
            return found
        found.update(rows)
    return found
