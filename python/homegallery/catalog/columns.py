"""A column-wise, in-memory copy of the searchable catalog, for fast searches.

SQLite scans 100k rows in 20-70 ms on a small machine, and a query with a few terms
and an order costs several scans. Held as numpy arrays, the same columns answer a
comparison in well under a millisecond, so searches are evaluated here
(:mod:`homegallery.catalog.query.evaluate`) and only the page of entries asked for is
read from SQLite.

Rows are kept in the timeline order (date descending, then id descending), so a
result in the default order needs no sort at all. A snapshot belongs to one catalog
``generation`` (every build and every user event moves it); searches compare it in
the same read transaction and load a new snapshot when it moved.

The reader threads of a server share one snapshot (:class:`SharedColumns`): at a
million entries a snapshot holds hundreds of megabytes and takes seconds to read, so
one per thread would multiply both. A shared snapshot is never changed in place:
user events make a patched copy that shares every column they do not touch.
"""

from __future__ import annotations

import copy
import json
import re
import sqlite3
import threading
from bisect import bisect_left
from typing import Any

import numpy as np

from homegallery.catalog.events import read_events
from homegallery.catalog.fold import fold
from homegallery.catalog.generation import generation, info_number

# Numeric columns; NULL is read as this value and turned into NaN.
_NULL = -8.5e307
NUMBER_COLUMNS = (
    "year", "month", "day", "hour", "minute", "width", "height", "ratio", "orientation",
    "iso", "aperture", "exposure_time", "focal_length", "latitude", "longitude", "altitude",
    "duration", "rating", "favorite", "size", "tag_count", "object_count", "label_count",
    "face_count", "file_count", "preview_count", "has_vector",
)  # fmt: skip
TEXT_COLUMNS = (
    "type", "mime", "format", "make", "model", "lens", "country", "country_code", "state",
    "county", "city", "road", "title", "description",
)  # fmt: skip
_SEPARATOR = "\x00"
_FEW = 2000  # rows_with_word: this many candidate rows are tested one by one
LEAST_SCORE = 1e-6  # a stored score of 0 still matches: it ranks last, but it is found

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]


class TextColumn:
    """Casefolded strings of one column, with what substring and equality searches need."""

    def __init__(self, values: list[str | None] | list[str]) -> None:
        """``values``: one per row; None or "" where the row has none."""
        self.values = values
        self._blob: str | None = None
        self._starts: IntArray | None = None
        self._equal: dict[str, IntArray] | None = None
        self._ranks: IntArray | None = None
        self._distinct: int | None = None

    def _index(self) -> tuple[str, IntArray]:
        if self._blob is None or self._starts is None:
            texts = [(value or "").replace(_SEPARATOR, " ") for value in self.values]
            lengths = np.fromiter((len(text) + 1 for text in texts), np.int64, len(texts))
            starts = np.zeros(len(texts), np.int64)
            if len(texts) > 1:
                np.cumsum(lengths[:-1], out=starts[1:])
            self._blob, self._starts = _SEPARATOR.join(texts), starts
        return self._blob, self._starts

    def rows_containing(self, text: str) -> IntArray:
        """Rows whose value contains ``text`` (each row once, ascending)."""
        if not text:
            return np.flatnonzero(np.array([bool(value) for value in self.values], dtype=bool))
        if _SEPARATOR in text:
            return np.zeros(0, np.int64)
        if self._few_distinct():  # test each distinct value once
            found = [rows for value, rows in self._groups().items() if text in value]
            return np.sort(np.concatenate(found)) if found else np.zeros(0, np.int64)
        blob, starts = self._index()
        # One match per row at most: the pattern swallows the rest of the row.
        pattern = re.compile(re.escape(text) + "[^" + _SEPARATOR + "]*")
        positions = np.fromiter((match.start() for match in pattern.finditer(blob)), np.int64)
        if not len(positions):
            return np.zeros(0, np.int64)
        return np.searchsorted(starts, positions, side="right") - 1

    def _few_distinct(self) -> bool:
        """Whether a row in four or fewer has a value of its own. Counted once without
        grouping: the groups of a column of unique values (file names, paths) would hold
        an array per row, 200 MB at a million rows, for searches that never need them."""
        if self._distinct is None:
            self._distinct = len(set(self.values))
        return self._distinct * 4 < len(self.values)

    def _groups(self) -> dict[str, IntArray]:
        if self._equal is None:
            grouped: dict[str, list[int]] = {}
            for row, value in enumerate(self.values):
                if value:
                    grouped.setdefault(value, []).append(row)
            self._equal = {key: np.array(rows, np.int64) for key, rows in grouped.items()}
        return self._equal

    def ranks(self) -> IntArray:
        """Each row's place in the sorted distinct values; -1 where there is none."""
        if self._ranks is None:
            ordered = sorted(self._groups())
            ranks = np.full(len(self.values), -1, np.int64)
            for rank, value in enumerate(ordered):
                ranks[self._groups()[value]] = rank
            self._ranks = ranks
        return self._ranks

    def rows_equal(self, text: str, within: IntArray | None = None) -> IntArray:
        """Rows whose value is ``text``; ``within``: the rows containing it, when known.
        A column of unique values is not grouped for this (see ``_few_distinct``): the
        rows containing the text are compared one by one."""
        if self._few_distinct() or self._equal is not None:
            return self._groups().get(text, np.zeros(0, np.int64))
        rows = self.rows_containing(text) if within is None else within
        values = self.values
        return np.array([row for row in rows.tolist() if values[row] == text], np.int64)

    def rows_with_word(self, text: str, within: IntArray | None = None) -> IntArray:
        """Rows whose value holds ``text`` as a word of its own (not inside a longer
        word: ``york`` in ``new york``, not in ``yorkshire``), each once, ascending.
        ``within``: the rows containing ``text`` (``rows_containing``), when known: a
        few of them are tested one by one instead of scanning every value."""
        if not text or _SEPARATOR in text:
            return np.zeros(0, np.int64)
        word = word_pattern(text)
        if within is not None and len(within) <= _FEW:
            values = self.values
            return np.array(
                [row for row in within.tolist() if word.search(values[row] or "")], np.int64
            )
        if self._few_distinct():
            groups = self._groups()
            found = [rows for value, rows in groups.items() if text in value and word.search(value)]
            return np.sort(np.concatenate(found)) if found else np.zeros(0, np.int64)
        blob, starts = self._index()
        # Led by the text itself, which the regex engine finds fast (a look-behind in
        # front makes it try every position: 200 times slower); the letter before is
        # looked at here.
        ahead = re.compile(re.escape(text) + _WORD_END)
        positions = np.fromiter(
            (
                match.start()
                for match in ahead.finditer(blob)
                if not match.start() or not blob[match.start() - 1].isalnum()
            ),
            np.int64,
        )
        if not len(positions):
            return np.zeros(0, np.int64)
        return np.unique(np.searchsorted(starts, positions, side="right") - 1)

    def present(self) -> np.ndarray[Any, np.dtype[np.bool_]]:
        return np.array([bool(value and value.strip()) for value in self.values], dtype=bool)


class Columns:
    """The searchable columns of every entry, rows in timeline order, read on demand.

    Only ids and dates are read up front; every other column is read the first time a
    query needs it, through the connection the calling thread bound (:meth:`bind`).
    That is only correct within one catalog state, so the caller must use the column
    methods inside a read transaction whose ``generation`` equals this snapshot's
    (:class:`SharedColumns` hands out only such snapshots).
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._readers = threading.local()
        self.bind(connection)
        self.generation = generation(connection)
        self.rebuilds = info_number(connection, "rebuilds")
        self.events_seen = _last_event(connection)
        rowids_text, ids_text, dates_text = connection.execute(
            "SELECT group_concat(rowid, ','), group_concat(id, ','), "
            "group_concat(ifnull(date, ''), ',') FROM "
            "(SELECT rowid, id, date FROM entries ORDER BY date DESC, id DESC)"
        ).fetchone()
        rowids = _integers(rowids_text)
        count = len(rowids)
        self.size = count
        self.ids: list[str] = ids_text.split(",") if count else []
        self.id_array = np.array(self.ids, dtype=object)
        self.dates = np.array(dates_text.encode().split(b",") if count else [], dtype="S32")
        self._position = np.full(int(rowids.max()) + 1 if count else 0, -1, np.int64)
        self._position[rowids] = np.arange(count)
        self._scan_rows: IntArray | None = None
        order = np.argsort(self.id_array, kind="stable") if count else np.zeros(0, np.int64)
        self.sorted_rows: IntArray = order.astype(np.int64)
        self.sorted_ids: list[str] = self.id_array[order].tolist()
        self.id_rank = np.empty(count, np.int64)
        self.id_rank[self.sorted_rows] = np.arange(count)
        self._numbers: dict[str, FloatArray] = {}
        self._texts: dict[str, TextColumn] = {}
        self._values: dict[str, dict[str, IntArray]] = {}
        self._scores: dict[str, dict[str, tuple[IntArray, FloatArray]]] = {}
        self._value_tables: dict[str, tuple[list[str], IntArray, IntArray]] = {}
        self._files: dict[str, TextColumn] = {}
        self._file_rows: IntArray | None = None
        self._days: TextColumn | None = None
        self._updated: np.ndarray[Any, np.dtype[np.bytes_]] | None = None
        self._id_numbers: np.ndarray[Any, np.dtype[np.uint64]] | None = None
        self._row_of: dict[str, int] | None = None

    # Columns cross from SQLite as one joined string each (group_concat): a Python
    # object per value would cost ten times as much at 100k rows.

    def bind(self, connection: sqlite3.Connection) -> None:
        """Reads columns through ``connection`` on this thread from now on."""
        self._readers.connection = connection

    @property
    def connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection = self._readers.connection
        return connection

    def _rows(self, rowids: IntArray) -> IntArray:
        return self._position[rowids]

    def scan_rows(self) -> IntArray:
        """The row of each entry in rowid order (the order of the per-column reads)."""
        if self._scan_rows is None:
            (text,) = self.connection.execute(
                "SELECT group_concat(rowid, ',') FROM (SELECT rowid FROM entries ORDER BY rowid)"
            ).fetchone()
            self._scan_rows = self._rows(_integers(text))
        return self._scan_rows

    def number(self, name: str) -> FloatArray:
        """A numeric column (NaN where unknown); ``name`` is one of NUMBER_COLUMNS."""
        found = self._numbers.get(name)
        if found is None:
            if name not in NUMBER_COLUMNS:
                raise KeyError(name)
            (text,) = self.connection.execute(
                f"SELECT group_concat(ifnull({name}, 'nan'), ',') FROM "
                f"(SELECT {name} FROM entries ORDER BY rowid)"
            ).fetchone()
            found = np.full(self.size, np.nan)
            if self.size:
                found[self.scan_rows()] = np.fromstring(text, sep=",")
            self._numbers[name] = found
        return found

    def text(self, name: str) -> TextColumn:
        """A text column (casefolded); ``type_folded`` is the type as the text cache has it."""
        found = self._texts.get(name)
        if found is None:
            if name == "type_folded":
                found = TextColumn([fold(kind or "") for kind in self.text("type").values])
            else:
                if name not in TEXT_COLUMNS:
                    raise KeyError(name)
                (text,) = self.connection.execute(
                    f"SELECT group_concat(ifnull({name}, ''), char(0)) FROM "
                    f"(SELECT {name} FROM entries ORDER BY rowid)"
                ).fetchone()
                values = [""] * self.size
                if self.size:
                    for row, value in zip(
                        self.scan_rows().tolist(), _shared(text.split(_SEPARATOR)), strict=True
                    ):
                        values[row] = value
                found = TextColumn(values)
            self._texts[name] = found
        return found

    def values(self, key: str) -> dict[str, IntArray]:
        """``tag``, ``object`` or ``label``: each casefolded value → the rows that have it."""
        found = self._values.get(key)
        if found is None:
            entries_text, values_text = self.connection.execute(
                "SELECT group_concat(entry, ','), group_concat(value, char(0)) FROM "
                "(SELECT entry, value FROM entry_values NOT INDEXED WHERE key = ?)",
                (key,),
            ).fetchone()
            grouped: dict[str, list[int]] = {}
            if entries_text:
                rows = self._rows(_integers(entries_text)).tolist()
                for row, value in zip(rows, values_text.split(_SEPARATOR), strict=True):
                    grouped.setdefault(value, []).append(row)
            found = {value: np.sort(np.array(rows, np.int64)) for value, rows in grouped.items()}
            self._values[key] = found
        return found

    def value_scores(self, key: str) -> dict[str, tuple[IntArray, FloatArray]]:
        """``object`` or ``label``: each value → the rows a model saw it in (ascending)
        and its score there, at least ``LEAST_SCORE`` (a missing one counts as certain).
        Only builds write these, and a build makes the next search load a new snapshot,
        so events never patch them."""
        found = self._scores.get(key)
        if found is None:
            entries_text, values_text, scores_text = self.connection.execute(
                "SELECT group_concat(entry, ','), group_concat(value, char(0)), "
                "group_concat(ifnull(score, 'nan'), ',') FROM "
                "(SELECT entry, value, score FROM entry_values NOT INDEXED WHERE key = ?)",
                (key,),
            ).fetchone()
            found = {}
            if entries_text:
                rows = self._rows(_integers(entries_text))
                scores = np.fromstring(scores_text, sep=",")
                scores = np.clip(np.where(np.isnan(scores), 1.0, scores), LEAST_SCORE, 1.0)
                names, codes = np.unique(
                    np.array(values_text.split(_SEPARATOR), dtype=object), return_inverse=True
                )
                order = np.lexsort((rows, codes.reshape(-1)))
                rows, scores = rows[order], scores[order]
                ends = np.cumsum(np.bincount(codes.reshape(-1), minlength=len(names)))
                for name, end, size in zip(
                    names.tolist(), ends.tolist(), np.diff(ends, prepend=0).tolist(), strict=True
                ):
                    found[str(name)] = (rows[end - size : end], scores[end - size : end])
            self._scores[key] = found
        return found

    def value_table(self, key: str) -> tuple[list[str], IntArray, IntArray]:
        """``tag`` or ``object`` as three flat lists, for counting values over many rows:
        the distinct values (sorted), and for each (row, value) pair the value's index
        in the first list and the row."""
        found = self._value_tables.get(key)
        if found is None:
            grouped = self.values(key)
            names = sorted(grouped)
            sizes = [len(grouped[name]) for name in names]
            value_of = np.repeat(np.arange(len(names), dtype=np.int64), sizes)
            rows = np.concatenate([grouped[name] for name in names]) if names else value_of
            found = self._value_tables[key] = (names, value_of, rows.astype(np.int64))
        return found

    def date_values(self, name: str) -> np.ndarray[Any, np.dtype[np.bytes_]]:
        """``date`` (when taken) or ``updated`` (when the entry last changed) of every
        row, ISO bytes, empty where unknown."""
        if name == "date":
            return self.dates
        if name != "updated":
            raise KeyError(name)
        if self._updated is None:
            found = np.full(self.size, b"", dtype="S32")
            if self.size:
                try:
                    (text,) = self.connection.execute(
                        "SELECT group_concat(ifnull(updated, ''), ',') FROM (SELECT u.updated "
                        "AS updated FROM entries e LEFT JOIN entry_updated u ON u.id = e.id "
                        "ORDER BY e.rowid)"
                    ).fetchone()
                except sqlite3.OperationalError:  # a catalog no build has written to yet
                    text = "," * (self.size - 1)
                found[self.scan_rows()] = np.array(text.encode().split(b","), dtype="S32")
            self._updated = found
        return self._updated

    def random_keys(self, seed: int) -> np.ndarray[Any, np.dtype[np.uint64]]:
        """A shuffle key per row from its id and ``seed``: the same id gets the same key
        for the same seed whatever else the catalog holds, so pages of one shuffle
        stay in step while entries come and go."""
        if self._id_numbers is None:  # made once per snapshot: 100k ids take ~60 ms
            self._id_numbers = np.array([int(i[:15] or "0", 16) for i in self.ids], np.uint64)
        with np.errstate(over="ignore"):
            keys: np.ndarray[Any, np.dtype[np.uint64]] = self._id_numbers ^ np.uint64(
                seed & 0xFFFFFFFFFFFFFFF
            )
            for shift, factor in ((30, 0xBF58476D1CE4E5B9), (27, 0x94D049BB133111EB)):
                keys ^= keys >> np.uint64(shift)
                keys *= np.uint64(factor)
            keys ^= keys >> np.uint64(31)
        return keys

    def _index_names(self) -> dict[str, str]:
        """Source folder → its index's name, as the last build recorded them."""
        row = self.connection.execute(
            "SELECT value FROM catalog_info WHERE key = 'index_names'"
        ).fetchone()
        try:
            names = json.loads(row[0]) if row else {}
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}

    def _load_files(self) -> None:
        joined = self.connection.execute(
            "SELECT group_concat(entry, ','), group_concat(name, char(0)), "
            "group_concat(path, char(0)), group_concat(ext, char(0)), "
            "group_concat(source, char(0)) FROM entry_files"
        ).fetchone()
        if joined[0] is None:
            self._file_rows = np.zeros(0, np.int64)
            for name in ("name", "path", "ext", "source", "dir", "folder"):
                self._files[name] = TextColumn([])
            return
        self._file_rows = self._rows(_integers(joined[0]))
        for offset, name in enumerate(("name", "path", "ext"), start=1):
            split = joined[offset].split(_SEPARATOR)
            self._files[name] = TextColumn(_shared(split) if name == "ext" else split)
        # the folder of each file in its source ("" at the top)
        self._files["dir"] = TextColumn(
            _shared([path.rpartition("/")[0] for path in joined[2].split(_SEPARATOR)])
        )
        # a source by its index's name (as HomeGallery; by default the folder's name),
        # never by where it is on the server
        # (`folder:` names a source by its folder's name)
        index_names = {fold(source): fold(name) for source, name in self._index_names().items()}
        sources = joined[4].split(_SEPARATOR)
        folders = _shared([source.rstrip("/").rsplit("/", 1)[-1] for source in sources])
        self._files["folder"] = TextColumn(folders)
        self._files["source"] = TextColumn(
            _shared(
                [
                    index_names.get(source) or folder
                    for source, folder in zip(sources, folders, strict=True)
                ]
            )
        )

    def file_rows(self) -> IntArray:
        """The entry row of each file (files as in :meth:`file_column`)."""
        if self._file_rows is None:
            self._load_files()
        assert self._file_rows is not None
        return self._file_rows

    def file_column(self, name: str) -> TextColumn:
        """``name``, ``path`` (in the source), ``dir`` (the folder in the source), ``ext``,
        ``source`` (the index's name) or ``folder`` (the source folder's name) of every
        file (casefolded)."""
        if self._file_rows is None:
            self._load_files()
        return self._files[name]

    def days(self) -> TextColumn:
        """The day of each entry (``2021-06-30``), as the text cache holds it."""
        if self._days is None:
            self._days = TextColumn(_shared([date[:10].decode() for date in self.dates.tolist()]))
        return self._days

    def composite(self, parts: tuple[str, ...]) -> TextColumn:
        """Text columns joined by spaces (``camera`` is make and model)."""
        key = "+".join(parts)
        if key not in self._texts:
            columns = [self.text(part).values for part in parts]
            self._texts[key] = TextColumn(
                [" ".join(value or "" for value in row) for row in zip(*columns, strict=True)]
            )
        return self._texts[key]

    def refreshed(self) -> Columns | None:
        """This snapshot caught up with the user events since it was read, as a new
        snapshot (this one stays as it was for whoever still reads it); None if a
        rebuild means reading anew. Call with a connection bound whose transaction
        sees the newer state.

        Events change only tags, favourite and rating, and keep every entry where it is
        in the timeline, so the few rows they name are read again and patched in.
        """
        if info_number(self.connection, "rebuilds") != self.rebuilds:
            return None
        touched: set[str] = set()
        events_seen = self.events_seen
        for seq, event in read_events(self.connection, events_seen):
            touched.update(event.ids)
            events_seen = seq
        patched = copy.copy(self)
        patched.events_seen = events_seen
        # what a patch writes to is copied; every other column is shared
        patched._position = self._position.copy()
        patched._numbers = {
            name: values.copy() if name in _PATCHED_NUMBERS else values
            for name, values in self._numbers.items()
        }
        patched._values = {key: dict(grouped) for key, grouped in self._values.items()}
        patched._value_tables = {}  # made again from the patched values when asked for
        for media_id in touched:
            row = patched.row_of(media_id)
            if row is not None:
                patched._patch(row, media_id)
        patched._scan_rows = None  # patched entries have new rowids
        if touched:
            patched._updated = None  # read again when asked for
        patched.generation = generation(self.connection)
        return patched

    def _patch(self, row: int, media_id: str) -> None:
        found = self.connection.execute(
            "SELECT rowid, tag_count, favorite, rating FROM entries WHERE id = ?", (media_id,)
        ).fetchone()
        if found is None:
            return
        rowid, *numbers = found
        if rowid >= len(self._position):
            grown = np.full(rowid * 2 + 1, -1, np.int64)
            grown[: len(self._position)] = self._position
            self._position = grown
        self._position[rowid] = row
        for name, value in zip(_PATCHED_NUMBERS, numbers, strict=True):
            if name in self._numbers:
                self._numbers[name][row] = np.nan if value is None else value
        for key, grouped in self._values.items():
            now = {
                value
                for (value,) in self.connection.execute(
                    "SELECT value FROM entry_values WHERE entry = ? AND key = ?", (rowid, key)
                )
            }
            _regroup(grouped, row, now)

    def row_of(self, media_id: str) -> int | None:
        if self._row_of is None:
            self._row_of = {media_id: row for row, media_id in enumerate(self.ids)}
        return self._row_of.get(media_id)

    def rows_with_id_prefix(self, prefix: str) -> IntArray:
        start = bisect_left(self.sorted_ids, prefix)
        end = bisect_left(self.sorted_ids, prefix + "\U0010ffff", lo=start)
        return self.sorted_rows[start:end]


_PATCHED_NUMBERS = ("tag_count", "favorite", "rating")  # the numbers user events change
_WORD_END = r"(?![^\W_])"  # no letter or digit follows


def word_pattern(text: str) -> re.Pattern[str]:
    """``text`` as a word of its own: no letter or digit right before or after it."""
    return re.compile(r"(?<![^\W_])" + re.escape(text) + _WORD_END)


def _shared(values: list[str]) -> list[str]:
    """``values`` with one string object per distinct value: a column of a million rows
    and a few hundred values (types, cameras, places, folders, days) then holds a
    million references (8 MB) instead of a million strings (~60 MB)."""
    seen: dict[str, str] = {}
    return [seen.setdefault(value, value) for value in values]


def _regroup(grouped: dict[str, IntArray], row: int, now: set[str]) -> None:
    """``grouped`` (value → rows) with ``row`` under exactly the values ``now``."""
    for value in list(grouped):
        if value not in now and row in grouped[value]:
            kept = grouped[value][grouped[value] != row]
            if len(kept):
                grouped[value] = kept
            else:
                del grouped[value]
    for value in now:
        rows = grouped.get(value, np.zeros(0, np.int64))
        if row not in rows:
            grouped[value] = np.sort(np.append(rows, row))


def _last_event(connection: sqlite3.Connection) -> int:
    row = connection.execute("SELECT max(seq) FROM events").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _integers(text: str | None) -> IntArray:
    if not text:
        return np.zeros(0, np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def load_columns(connection: sqlite3.Connection) -> Columns:
    """A snapshot of the catalog this read transaction sees (see ``search.snapshot``)."""
    return Columns(connection)


class SharedColumns:
    """The newest column snapshot, shared by every reader thread of a gallery."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._columns: Columns | None = None
        self.loads = 0  # snapshots read from the catalog so far (events patch, builds reload)

    def get(self, connection: sqlite3.Connection) -> Columns:
        """The snapshot of the state ``connection``'s read transaction sees, bound to it.

        A transaction older than the shared snapshot (it began before a change another
        thread has caught up with) gets a snapshot of its own, which is not kept.
        """
        current = generation(connection)
        with self._lock:
            columns = self._columns
            if columns is not None and columns.generation > current:
                return load_columns(connection)
            if columns is not None and columns.generation < current:
                columns.bind(connection)
                columns = columns.refreshed()
            if columns is None:
                self._columns = None  # free the old snapshot before reading anew
                columns = load_columns(connection)
                self.loads += 1
            self._columns = columns
            columns.bind(connection)
            return columns
