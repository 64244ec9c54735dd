"""Runs queries against the catalog: ids, counts and whole entries in one snapshot.

Each search reads inside one read transaction, so the ids it matched and the entries
it returns come from the same catalog even when a build commits meanwhile.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import msgspec

from homegallery.catalog.entry import ENTRY_DECODER, Entry
from homegallery.catalog.query.compiler import CompiledQuery, SimilarTerm, compile_query
from homegallery.catalog.query.errors import QueryError
from homegallery.catalog.vectors import VectorCache

DEFAULT_MIN_SCORE = 0.5  # HomeGallery's similar: threshold (cosine)


@lru_cache(maxsize=256)
def _compiled(text: str) -> CompiledQuery:
    return compile_query(text)


def compile_cached(text: str) -> CompiledQuery:
    """Compiles a query, reusing the result for a query seen recently."""
    if not isinstance(text, str):
        raise TypeError(f"a query is text, got {type(text).__name__}")
    return _compiled(text)


@contextmanager
def snapshot(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction: every statement inside sees the same catalog state."""
    connection.execute("BEGIN")
    try:
        yield connection
    finally:
        connection.execute("COMMIT")


class Searcher:
    """Queries over one reader connection (one per thread: sqlite3 objects are not shared)."""

    def __init__(self, connection: sqlite3.Connection, vectors: VectorCache | None = None) -> None:
        self.connection = connection
        self.vectors = vectors or VectorCache()

    def _resolve(self, compiled: CompiledQuery) -> tuple[list[object], dict[str, float]]:
        """Parameters with every ``similar:`` placeholder replaced by matching ids."""
        scores: dict[str, float] = {}
        params: list[object] = []
        for param in compiled.params:
            if isinstance(param, SimilarTerm):
                found = self._similar(param)
                for media_id, score in found:
                    scores[media_id] = max(score, scores.get(media_id, -1.0))
                params.append(msgspec.json.encode([media_id for media_id, _ in found]).decode())
            else:
                params.append(param)
        return params, scores

    def _similar(self, term: SimilarTerm) -> list[tuple[str, float]]:
        try:
            media_id = self.resolve_id(term.media_id)
            return self.vectors.similar(self.connection, media_id, None, DEFAULT_MIN_SCORE)
        except LookupError as error:
            raise QueryError(
                str(error.args[0]), column=term.column, expected="a media id with a vector"
            ) from None

    def resolve_id(self, prefix: str) -> str:
        """The full id of an entry from an id or a unique prefix of it."""
        rows = self.connection.execute(
            "SELECT id FROM entries WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
            (prefix, prefix + "\U0010ffff"),
        ).fetchall()
        if not rows:
            raise LookupError(f"no entry with id {prefix}")
        if len(rows) > 1 and rows[0][0] != prefix:
            raise LookupError(f"id prefix {prefix} matches more than one entry; give more of it")
        return str(rows[0][0])

    def ids(self, query: str, limit: int | None = None, offset: int = 0) -> list[str]:
        """Ids of the matching entries, in the query's order."""
        with snapshot(self.connection):
            return self._ids(compile_cached(query), limit, offset)

    def _ids(self, compiled: CompiledQuery, limit: int | None, offset: int) -> list[str]:
        params, scores = self._resolve(compiled)
        if compiled.order_by_similarity:
            matched = [
                row[0]
                for row in self.connection.execute(
                    f"SELECT e.id FROM entries e WHERE {compiled.where}", params
                )
            ]
            matched.sort(key=lambda media_id: (-scores.get(media_id, -1.0), media_id))
            end = None if limit is None else offset + limit
            return matched[offset:end]
        sql = f"SELECT e.id FROM entries e WHERE {compiled.where} ORDER BY {compiled.order}"
        sql, params = _paged(sql, params, limit, offset)
        return [row[0] for row in self.connection.execute(sql, params)]

    def entries(self, query: str, limit: int | None = None, offset: int = 0) -> list[Entry]:
        """The matching entries, decoded, in the query's order."""
        compiled = compile_cached(query)
        with snapshot(self.connection):
            if compiled.order_by_similarity:
                return self._docs(self._ids(compiled, limit, offset))
            params, _ = self._resolve(compiled)
            sql = (
                "SELECT d.doc FROM entries e JOIN entry_docs d ON d.entry = e.rowid "
                f"WHERE {compiled.where} ORDER BY {compiled.order}"
            )
            sql, params = _paged(sql, params, limit, offset)
            return [ENTRY_DECODER.decode(row[0]) for row in self.connection.execute(sql, params)]

    def count(self, query: str) -> int:
        compiled = compile_cached(query)
        with snapshot(self.connection):
            params, _ = self._resolve(compiled)
            row = self.connection.execute(
                f"SELECT count(*) FROM entries e WHERE {compiled.where}", params
            ).fetchone()
        return int(row[0])

    def entry(self, media_id: str) -> Entry | None:
        row = self.connection.execute(
            "SELECT d.doc FROM entries e JOIN entry_docs d ON d.entry = e.rowid WHERE e.id = ?",
            (media_id,),
        ).fetchone()
        return ENTRY_DECODER.decode(row[0]) if row else None

    def _docs(self, ids: list[str]) -> list[Entry]:
        found: dict[str, Entry] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            for media_id, doc in self.connection.execute(
                "SELECT e.id, d.doc FROM entries e JOIN entry_docs d ON d.entry = e.rowid "
                f"WHERE e.id IN ({marks})",
                chunk,
            ):
                found[media_id] = ENTRY_DECODER.decode(doc)
        return [found[media_id] for media_id in ids if media_id in found]

    def all_entries(self, batch: int = 1000) -> Iterator[Entry]:
        """Every entry in timeline order, read in batches from one snapshot."""
        with snapshot(self.connection):
            cursor = self.connection.execute(
                "SELECT d.doc FROM entries e JOIN entry_docs d ON d.entry = e.rowid "
                "ORDER BY e.date DESC NULLS LAST, e.id DESC"
            )
            while True:
                rows = cursor.fetchmany(batch)
                if not rows:
                    return
                for row in rows:
                    yield ENTRY_DECODER.decode(row[0])


def _paged(
    sql: str, params: list[object], limit: int | None, offset: int
) -> tuple[str, list[object]]:
    if limit is None and not offset:
        return sql, params
    return sql + " LIMIT ? OFFSET ?", [*params, -1 if limit is None else limit, offset]
