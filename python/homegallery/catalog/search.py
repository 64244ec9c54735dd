"""Runs queries against the catalog: ids, counts and whole entries in one snapshot.

Each search reads inside one read transaction, so the ids it matched and the entries
it returns come from the same catalog even when a build commits meanwhile.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache, partial
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt

from homegallery.catalog.clip_search import NOT_CONFIGURED, ClipRows, TextEncoder
from homegallery.catalog.columns import Columns, FloatArray, IntArray, SharedColumns
from homegallery.catalog.doc import decode_doc
from homegallery.catalog.entry import Entry
from homegallery.catalog.fold import fold
from homegallery.catalog.query import checked as c
from homegallery.catalog.query.check import check_query
from homegallery.catalog.query.checked import CheckedQuery, SimilarTo
from homegallery.catalog.query.errors import QueryError
from homegallery.catalog.query.evaluate import Evaluator
from homegallery.catalog.query.fields import WORD_SOURCES
from homegallery.catalog.query.parser import JOINED_DEPTH
from homegallery.catalog.vectors import VectorCache
from homegallery.errors import HomeGalleryError

DEFAULT_MIN_SCORE = 0.5  # HomeGallery's similar: threshold (cosine)
# The numbers the web app's first screens read (the timeline's layout, the map).
WARM_NUMBERS = ("width", "height", "year", "month", "latitude", "longitude")


@lru_cache(maxsize=256)
def _checked(text: str) -> CheckedQuery:
    return check_query(text, max_depth=JOINED_DEPTH)


def check_cached(text: str) -> CheckedQuery:
    """Checks a query, reusing the result for a query seen recently."""
    if not isinstance(text, str):
        raise TypeError(f"a query is text, got {type(text).__name__}")
    return _checked(text)


@contextmanager
def snapshot(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction: every statement inside sees the same catalog state."""
    connection.execute("BEGIN")
    try:
        yield connection
    finally:
        connection.execute("COMMIT")


def _warm_loads() -> list[Callable[[Columns], object]]:
    """What ``Searcher.warm`` reads: every source of a bare word, then WARM_NUMBERS."""
    loads: list[Callable[[Columns], object]] = []
    for source in WORD_SOURCES:
        if source.place == "column":
            loads.append(partial(Columns.text, name=source.name))
        elif source.place == "values":
            loads.append(partial(Columns.values, key=source.name))
        elif source.place in ("objects", "labels"):
            loads.append(partial(Columns.value_scores, key=source.name))
        elif source.place == "day":
            loads.append(Columns.days)
        elif source.place == "files":
            loads.append(Columns.file_rows)
        elif source.place == "id":
            loads.append(Columns.id_order)
    loads.extend(partial(Columns.number, name=name) for name in WARM_NUMBERS)
    return loads


class Searcher:
    """Queries over one reader connection (one per thread: sqlite3 objects are not shared).

    Queries are evaluated over an in-memory column snapshot
    (:mod:`homegallery.catalog.columns`), loaded on first use, patched after user
    events and loaded again after a build, and shared with the searchers of the
    gallery's other threads; only the entries asked for are read from SQLite.
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        vectors: VectorCache | None = None,
        text_encoder: TextEncoder | None = None,
        shared: SharedColumns | None = None,
    ) -> None:
        self.connection = connection
        self.vectors = vectors or VectorCache()
        self.text_encoder = text_encoder  # the CLIP text model for text: (None: none)
        self.clip_rows = ClipRows()
        # the column snapshot, shared with the other threads' searchers of a gallery
        self.shared = shared or SharedColumns()

    @property
    def loads(self) -> int:
        """Column snapshots read so far (user events patch, builds reload)."""
        return self.shared.loads

    # --- similar: ----------------------------------------------------------------------

    def _similar(self, media_id: str, column: int) -> list[tuple[str, float]]:
        try:
            full_id = self.resolve_id(media_id)
            return self.vectors.similar(self.connection, full_id, None, DEFAULT_MIN_SCORE)
        except LookupError as error:
            raise QueryError(
                str(error.args[0]), column=column, expected="a media id with a vector"
            ) from None

    # --- text: --------------------------------------------------------------------------

    def _texts(self, term: c.ClipText, columns: Columns) -> tuple[IntArray, FloatArray]:
        """The snapshot rows of the entries with a CLIP vector and their cosines to the
        text (without a text, ``exists text``: each at 0)."""
        if not term.text:
            self.clip_rows.load(self.connection)
            rows = self.clip_rows.rows_in(columns)
            known = rows >= 0
            return rows[known], np.zeros(int(known.sum()))
        if self.text_encoder is None:
            raise QueryError(NOT_CONFIGURED, column=term.column, expected="a CLIP model")
        try:
            vector = self.text_encoder.vector(term.text)
        except QueryError:
            raise
        except HomeGalleryError as error:
            raise QueryError(
                str(error), column=term.column, expected="a CLIP model that runs"
            ) from None
        scores = self.clip_rows.scores(self.connection, vector, term.column)
        rows = self.clip_rows.rows_in(columns)
        known = rows >= 0
        return rows[known], scores[known]

    # --- duplicates ------------------------------------------------------------------------

    def duplicate_groups(self, min_score: float) -> list[list[str]]:
        """Groups of near-duplicates (see ``VectorCache.duplicate_groups``); call in a snapshot."""
        return self.vectors.duplicate_groups(self.connection, min_score)

    def with_a_mate(self, matched: list[str], min_score: float) -> list[str]:
        """The matched ids that share their group with another matched id.

        When the whole query requires ``duplicates`` (a viewer's filter joined to it,
        or ``duplicates tag:x``), a photo whose near-duplicates all fall outside the
        rest of the query is not listed: the list shows groups among the matches, and
        a viewer never learns that a photo they see has a copy they do not.
        """
        inside = set(matched)
        kept: list[str] = []
        for group in self.duplicate_groups(min_score):
            members = [media_id for media_id in group if media_id in inside]
            if len(members) >= 2:
                kept.extend(members)
        return kept

    def in_groups(self, matched: list[str], min_score: float) -> list[str]:
        """The matched ids one group after another: each group in timeline order, the
        groups by their newest member (a group's members stay together)."""
        place = {media_id: rank for rank, media_id in enumerate(self._timeline(matched))}
        groups = [
            sorted((m for m in group if m in place), key=place.__getitem__)
            for group in self.duplicate_groups(min_score)
        ]
        groups = sorted((group for group in groups if group), key=lambda g: place[g[0]])
        grouped = [media_id for group in groups for media_id in group]
        seen = set(grouped)
        return grouped + [media_id for media_id in matched if media_id not in seen]

    def _timeline(self, ids: list[str]) -> list[str]:
        return [
            row[0]
            for row in self.connection.execute(
                "SELECT id FROM entries WHERE id IN (SELECT value FROM json_each(?)) "
                "ORDER BY date DESC NULLS LAST, id DESC",
                (msgspec.json.encode(ids).decode(),),
            )
        ]

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

    # --- matching ------------------------------------------------------------------------

    def columns(self) -> Columns:
        """The column snapshot of the catalog state this transaction reads."""
        return self.shared.get(self.connection)

    def _match(self, query: str) -> Match:
        """Every match in order; call inside ``snapshot``."""
        checked = check_cached(query)
        columns = self.columns()
        terms = _Terms(self, columns)
        by_relevance = checked.order is not None and checked.order.by == "relevance"
        evaluator = Evaluator(
            columns,
            terms.similar_rows,
            terms.duplicate_rows,
            terms.text_rows,
            rank_words=by_relevance,
        )
        if checked.filter is None:
            rows = np.arange(columns.size)
        else:
            rows = np.flatnonzero(evaluator.node(checked.filter))
        required = required_duplicates(checked.filter)
        if required is not None:
            mates = self.with_a_mate(columns.id_array[rows].tolist(), required)
            rows = rows[np.isin(columns.id_array[rows], np.array(mates, dtype=object))]
        if checked.by_similarity:
            matched = columns.id_array[rows].tolist()
            matched.sort(key=lambda media_id: (-terms.scores.get(media_id, -1.0), media_id))
            return Match(ids=matched)
        if checked.by_text:  # best cosine first, ties in timeline order
            return Match(rows=rows, columns=columns, keys=-terms.text_scores[rows])
        if checked.by_groups:
            group_score = checked.duplicates[0].min_score
            return Match(ids=self.in_groups(columns.id_array[rows].tolist(), group_score))
        if by_relevance and checked.order is not None:
            scores = evaluator.relevance(checked.words)[rows]
            keys = -scores if checked.order.descending else scores
            return Match(rows=rows, columns=columns, keys=keys)
        return Match(rows=evaluator.order(rows, checked.order, checked.words), columns=columns)

    def _rows(self, match: Match) -> tuple[Columns, Rows]:
        """The snapshot rows of a match, in its order."""
        if match.rows is not None and match.columns is not None:
            return match.columns, match.rows
        columns = self.columns()
        found = (columns.row_of(media_id) for media_id in match.ids or ())
        return columns, np.array([row for row in found if row is not None], np.int64)

    # --- public ---------------------------------------------------------------------------

    def ids(self, query: str, limit: int | None = None, offset: int = 0) -> list[str]:
        """Ids of the matching entries, in the query's order."""
        with snapshot(self.connection):
            return self._match(query).page(limit, offset)

    def entries(self, query: str, limit: int | None = None, offset: int = 0) -> list[Entry]:
        """The matching entries, decoded, in the query's order."""
        with snapshot(self.connection):
            return self._docs(self._match(query).page(limit, offset))

    def match(self, query: str) -> Match:
        """Every match of ``query`` in order, to count and page without evaluating again."""
        with snapshot(self.connection):
            return self._match(query)

    def entries_of(self, ids: Sequence[str]) -> list[Entry]:
        """The entries of ``ids`` that exist, decoded, in the order of ``ids``."""
        with snapshot(self.connection):
            return self._docs(list(ids))

    def numbers(
        self, query: str, names: Sequence[str]
    ) -> tuple[npt.NDArray[np.object_], list[FloatArray]]:
        """Ids and numeric columns (NaN where unknown) of every match, in its order.

        Whole-result summaries (the timeline's 100k aspect ratios, the map's points)
        read these from the column snapshot: a query over SQLite that orders and
        returns every row takes most of a second at 100k, this a few milliseconds.
        """
        with snapshot(self.connection):
            columns, rows = self._rows(self._match(query))
            return columns.id_array[rows], [columns.number(name)[rows] for name in names]

    def count(self, query: str) -> int:
        with snapshot(self.connection):
            return self._match(query).count

    def warm(self, stop: Callable[[], bool] = lambda: False) -> int:
        """Reads what a bare word and the web app's first screens need into the column
        snapshot now, so the first searches after a start or a build find it read (at
        a million entries each column takes a third of a second); stops early when
        ``stop()`` says so. Returns how many columns it went through (read now or
        found read)."""
        read = 0
        with snapshot(self.connection):
            # only the shared snapshot: one older than it would be read and thrown away
            columns = self.shared.shared(self.connection)
            if columns is None:
                return 0
            for load in _warm_loads():
                if stop():
                    break
                load(columns)
                read += 1
        return read

    def tag_counts(self, query: str, limit: int, prefix: str = "") -> list[tuple[str, int]]:
        """The most used tags among the matches (casefolded, as the catalog keeps them),
        most used first, then by name; only those starting with ``prefix`` when given."""
        with snapshot(self.connection):
            columns, rows = self._rows(self._match(query))
            matched = np.zeros(columns.size, dtype=bool)
            matched[rows] = True
            names, value_of, value_rows = columns.value_table("tag")
            counts = np.bincount(value_of[matched[value_rows]], minlength=len(names))
            if prefix:  # names are sorted: those with the prefix are one run
                folded = fold(prefix)
                start = bisect.bisect_left(names, folded)
                end = start
                while end < len(names) and names[end].startswith(folded):
                    end += 1
                counts[:start] = 0
                counts[end:] = 0
            used = np.flatnonzero(counts)  # names are sorted: ties stay in name order
            top = used[np.argsort(-counts[used], kind="stable")[:limit]]
            return [(names[index], int(counts[index])) for index in top.tolist()]

    def entry(self, media_id: str) -> Entry | None:
        row = self.connection.execute(
            "SELECT d.doc FROM entries e JOIN entry_docs d ON d.entry = e.rowid WHERE e.id = ?",
            (media_id,),
        ).fetchone()
        return decode_doc(row[0]) if row else None

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
                found[media_id] = decode_doc(doc)
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
                    yield decode_doc(row[0])


class _Terms:
    """The terms of one query the search resolves (``similar:``, ``duplicates``,
    ``text:``), with the scores they order by."""

    def __init__(self, searcher: Searcher, columns: Columns) -> None:
        self.searcher = searcher
        self.columns = columns
        self.scores: dict[str, float] = {}  # similar: cosines by id
        self.text_scores = np.zeros(columns.size)  # text: cosines by row, added up

    def similar_rows(self, term: SimilarTo) -> IntArray:
        rows = []
        for media_id, score in self.searcher._similar(term.media_id, term.column):
            row = self.columns.row_of(media_id)
            if row is not None:
                rows.append(row)
                self.scores[media_id] = max(score, self.scores.get(media_id, -1.0))
        return np.array(rows, np.int64)

    def duplicate_rows(self, min_score: float) -> IntArray:
        groups = self.searcher.duplicate_groups(min_score)
        found = (self.columns.row_of(m) for group in groups for m in group)
        return np.array([row for row in found if row is not None], np.int64)

    def text_rows(self, term: c.ClipText) -> IntArray:
        rows, scores = self.searcher._texts(term, self.columns)
        self.text_scores[rows] += scores
        return rows


def required_duplicates(node: c.Node | None) -> float | None:
    """The cosine of a ``duplicates`` term every match must satisfy (one of the checked
    query's top-level conjuncts), or None."""
    operands = node.operands if isinstance(node, c.And) else (node,) if node is not None else ()
    for operand in operands:
        if isinstance(operand, c.Duplicates):
            return operand.min_score
    return None


# A match's rows, 32-bit while the snapshot has fewer rows than that can number.
Rows = np.ndarray[Any, np.dtype[np.int32]] | IntArray
_INT32_ROWS = np.iinfo(np.int32).max
_ID_BYTES = 8 + 49  # a list's pointer and a str's own size besides its characters


class Match:
    """The matches of one query, in order: rows of a column snapshot, or ids.

    Rows with ``keys`` are in timeline order and to be put in the keys' order (smallest
    first, ties staying in timeline order), which is done when first needed: a page
    near the top needs only its own rows ordered, found by a partial sort, which at
    100k matches costs a tenth of ordering them all.
    """

    def __init__(
        self,
        rows: IntArray | None = None,
        columns: Columns | None = None,
        ids: list[str] | None = None,
        keys: FloatArray | None = None,
    ) -> None:
        # Kept as 32-bit rows: the server keeps the matches of recent queries, and at a
        # million entries one match of everything is 4 MB instead of 8.
        self._rows: Rows | None = (
            rows.astype(np.int32)
            if rows is not None and columns is not None and columns.size <= _INT32_ROWS
            else rows
        )
        self.columns = columns
        self.ids = ids
        self.keys = keys

    @property
    def nbytes(self) -> int:
        """What keeping this match holds in memory (its ids approximately)."""
        if self.ids is not None:
            return len(self.ids) * (_ID_BYTES + (len(self.ids[0]) if self.ids else 0))
        kept = self._rows.nbytes if self._rows is not None else 0
        return kept + (self.keys.nbytes if self.keys is not None else 0)

    @property
    def rows(self) -> Rows | None:
        """Every matched row, in order."""
        if self.keys is not None and self._rows is not None:
            self._rows = self._rows[np.argsort(self.keys, kind="stable")]
            self.keys = None
        return self._rows

    @property
    def count(self) -> int:
        if self.ids is not None:
            return len(self.ids)
        assert self._rows is not None
        return len(self._rows)

    def _top(self, end: int) -> Rows:
        """The first ``end`` rows in order, without ordering the others while they are
        few: past a quarter of the matches every page would cost most of a full sort,
        so the matches are ordered once and later pages are slices."""
        assert self._rows is not None and self.keys is not None
        keys = self.keys
        if end <= 0:
            return self._rows[:0]
        if end * 4 >= len(keys):
            return self.rows[:end]  # type: ignore[index]
        bound = np.partition(keys, end - 1)[end - 1]  # the end-th smallest key
        below = np.flatnonzero(keys < bound)
        at = np.flatnonzero(keys == bound)[: end - len(below)]  # ties: timeline order
        chosen = np.concatenate((below, at))
        chosen.sort()  # positions in timeline order, so the stable sort keeps ties so
        return self._rows[chosen[np.argsort(keys[chosen], kind="stable")]]

    def page(self, limit: int | None, offset: int) -> list[str]:
        end = None if limit is None else offset + limit
        if self.ids is not None:
            return self.ids[offset:end]
        assert self.columns is not None
        if end is not None and self.keys is not None:
            selected: list[str] = self.columns.id_array[self._top(end)[offset:]].tolist()
            return selected
        rows = self.rows
        assert rows is not None
        ordered: list[str] = self.columns.id_array[rows[offset:end]].tolist()
        return ordered
