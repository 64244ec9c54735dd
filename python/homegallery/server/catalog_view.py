"""Tag counts of a whole result, for the chips the web app suggests.

Counting tags over every match is a grouped join that SQLite does well; it runs the
catalog's own compiled query (same parser, same parameterised SQL, same snapshot
rule). Queries with ``similar:`` have an order only the similarity search knows:
their ids come from ``Gallery.search_ids``.
"""

from __future__ import annotations

import sqlite3
import threading

import msgspec

from homegallery.catalog.schema import open_reader
from homegallery.catalog.search import compile_cached, snapshot
from homegallery.gallery import Gallery


class CatalogView:
    """Tag counts over the entries a (scoped) query matches."""

    def __init__(self, gallery: Gallery) -> None:
        self.gallery = gallery
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = open_reader(self.gallery.catalog_path)
            self._local.connection = connection
        return connection

    def connection(self) -> sqlite3.Connection:
        """This thread's reader connection (for other summaries of the catalog)."""
        return self._connection()

    def tag_counts(self, query: str, limit: int, prefix: str = "") -> list[tuple[str, int]]:
        """The most used tags among the matches (casefolded, as the catalog keeps them),
        of those starting with ``prefix`` when one is given."""
        compiled = compile_cached(query)
        connection = self._connection()
        where = compiled.where
        params: list[object] = list(compiled.params)
        if prefix:
            where = f"({where}) AND substr(v.value, 1, ?) = ?"
            params += [len(prefix), prefix.casefold()]
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
