"""Whole-result summaries the web app needs: the timeline layout, map points, tag counts.

Pages of entries come from :class:`~homegallery.gallery.Gallery`; a summary of every
match (100k aspect ratios for the justified grid, every geotagged point for the map)
would cost a full decode of each entry that way, about 1.7 s at 100k. These run the
catalog's own compiled query (same parser, same parameterised SQL, same snapshot
rule) and read only the few narrow columns they need, in a few milliseconds.
Queries with ``similar:`` have an order only the similarity search knows: their ids
come from ``Gallery.search_ids`` and the columns are then read by id.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

import msgspec

from homegallery.catalog.schema import open_reader
from homegallery.catalog.search import compile_cached, snapshot
from homegallery.gallery import Gallery

_CHUNK = 500


class CatalogView:
    """Reads narrow columns of the entries a (scoped) query matches, in its order."""

    def __init__(self, gallery: Gallery) -> None:
        self.gallery = gallery
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = open_reader(self.gallery.catalog_path)
            self._local.connection = connection
        return connection

    def rows(self, query: str, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """``columns`` (fixed names of ``entries``, never user text) of every match."""
        selected = ", ".join(f"e.{name}" for name in columns)
        compiled = compile_cached(query)
        connection = self._connection()
        if compiled.similar:
            return self._rows_by_id(connection, self.gallery.search_ids(query), selected)
        with snapshot(connection):
            return connection.execute(
                f"SELECT {selected} FROM entries e WHERE {compiled.where} "
                f"ORDER BY {compiled.order}",
                compiled.params,
            ).fetchall()

    def _rows_by_id(
        self, connection: sqlite3.Connection, ids: list[str], selected: str
    ) -> list[tuple[Any, ...]]:
        found: dict[str, tuple[Any, ...]] = {}
        with snapshot(connection):
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                for row in connection.execute(
                    f"SELECT e.id, {selected} FROM entries e WHERE e.id IN ({marks})", chunk
                ):
                    found[row[0]] = tuple(row[1:])
        return [found[media_id] for media_id in ids if media_id in found]

    def tag_counts(self, query: str, limit: int) -> list[tuple[str, int]]:
        """The most used tags among the matches (casefolded, as the catalog keeps them)."""
        compiled = compile_cached(query)
        connection = self._connection()
        where = compiled.where
        params: list[object] = list(compiled.params)
        if compiled.similar:
            ids = self.gallery.search_ids(query)
            where, params = "e.id IN (SELECT value FROM json_each(?))", [_json_list(ids)]
        with snapshot(connection):
            return [
                (str(value), int(count))
                for value, count in connection.execute(
                    "SELECT v.value, count(*) AS uses FROM entries e "
                    "JOIN entry_values v ON v.entry = e.rowid "
                    f"WHERE v.key = 'tag' AND ({where}) "
                    "GROUP BY v.value ORDER BY uses DESC, v.value LIMIT ?",
                    [*params, limit],
                )
            ]

    def close(self) -> None:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None


def _json_list(ids: list[str]) -> str:
    return msgspec.json.encode(ids).decode()
