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
import functools
import json
import sqlite3
import threading
from bisect import bisect_left
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np

from homegallery import _core
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
LEAST_SCORE = 1e-6  # a stored score of 0 still matches: it ranks last, but it is found

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
# A text column: casefolded values, one per row, in one text the core searches (a
# Python string per value would cost ~60 bytes of header each at a million rows).
TextColumn = _core.TextColumn


_P = ParamSpec("_P")
_T = TypeVar("_T")


def _read_once(
    method: Callable[Concatenate[Columns, _P], _T],
) -> Callable[Concatenate[Columns, _P], _T]:
    """A column read by one thread at a time: a second thread asking for the same
    column waits for the first one's read instead of reading it again (at a million
    rows a read costs a third of a second and, twice at once, twice the memory)."""

    @functools.wraps(method)
    def read(columns: Columns, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        key = (method.__name__, *args, *kwargs.values())
        with columns._reading_lock:
            lock = columns._reading.setdefault(key, threading.RLock())
        with lock:
            return method(columns, *args, **kwargs)

    return read


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
        self._reading: dict[tuple[object, ...], threading.RLock] = {}  # see _read_once
        self._reading_lock = threading.Lock()
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
        self._sorted_rows: IntArray | None = None
        self._sorted_ids: list[str] | None = None
        self._id_rank: IntArray | None = None
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

    @_read_once
    def scan_rows(self) -> IntArray:
        """The row of each entry in rowid order (the order of the per-column reads)."""
        if self._scan_rows is None:
            (text,) = self.connection.execute(
                "SELECT group_concat(rowid, ',') FROM (SELECT rowid FROM entries ORDER BY rowid)"
            ).fetchone()
            self._scan_rows = self._rows(_integers(text, self.size))
        return self._scan_rows

    @property
    @_read_once
    def sorted_rows(self) -> IntArray:
        """The rows in id order. Sorted here from the ids, which events never change
        (their rowids they do), as ASCII bytes: a million of them in 0.5 s, three
        times faster than as Python strings."""
        if self._sorted_rows is None:
            try:
                keys: np.ndarray[Any, Any] = np.array(self.ids, dtype="S")
            except UnicodeEncodeError:  # not an id this catalog makes, but sorted all the same
                keys = self.id_array
            found = np.argsort(keys, kind="stable") if self.size else np.zeros(0, np.int64)
            self._sorted_rows = found.astype(np.int64)
        return self._sorted_rows

    @_read_once
    def id_order(self) -> list[str]:
        """The ids, sorted (what an id prefix is looked up in)."""
        if self._sorted_ids is None:
            self._sorted_ids = self.id_array[self.sorted_rows].tolist()
        return self._sorted_ids

    @property
    def id_rank(self) -> IntArray:
        """Each row's place in id order."""
        if self._id_rank is None:
            ranks = np.empty(self.size, np.int64)
            ranks[self.sorted_rows] = np.arange(self.size)
            self._id_rank = ranks
        return self._id_rank

    @_read_once
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
                found[self.scan_rows()] = _core.parse_numbers(text, self.size)
            self._numbers[name] = found
        return found

    @_read_once
    def text(self, name: str) -> TextColumn:
        """A text column (casefolded); ``type_folded`` is the type as the text cache has it."""
        found = self._texts.get(name)
        if found is None:
            if name == "type_folded":
                kinds, codes = self.text("type").dictionary()
                found = TextColumn.from_codes([fold(kind) for kind in kinds], codes)
            else:
                if name not in TEXT_COLUMNS:
                    raise KeyError(name)
                (text,) = self.connection.execute(
                    f"SELECT group_concat(ifnull({name}, ''), char(0)) FROM "
                    f"(SELECT {name} FROM entries ORDER BY rowid)"
                ).fetchone()
                found = TextColumn.from_joined(text or "", self.size, self.scan_rows(), self.size)
            self._texts[name] = found
        return found

    @_read_once
    def values(self, key: str) -> dict[str, IntArray]:
        """``tag``, ``object`` or ``label``: each casefolded value → the rows that have it."""
        found = self._values.get(key)
        if found is None:
            count, entries_text, values_text = self.connection.execute(
                "SELECT count(*), group_concat(entry, ','), group_concat(value, char(0)) FROM "
                "(SELECT entry, value FROM entry_values NOT INDEXED WHERE key = ?)",
                (key,),
            ).fetchone()
            rows = self._rows(_integers(entries_text, count))
            names, codes = TextColumn.from_joined(values_text or "", count).dictionary()
            found = {name: part[0] for name, part in _by_value(names, codes, rows).items()}
            self._values[key] = found
        return found

    @_read_once
    def value_scores(self, key: str) -> dict[str, tuple[IntArray, FloatArray]]:
        """``object`` or ``label``: each value → the rows a model saw it in (ascending)
        and its score there, at least ``LEAST_SCORE`` (a missing one counts as certain).
        Only builds write these, and a build makes the next search load a new snapshot,
        so events never patch them."""
        found = self._scores.get(key)
        if found is None:
            count, entries_text, values_text, scores_text = self.connection.execute(
                "SELECT count(*), group_concat(entry, ','), group_concat(value, char(0)), "
                "group_concat(ifnull(score, 'nan'), ',') FROM "
                "(SELECT entry, value, score FROM entry_values NOT INDEXED WHERE key = ?)",
                (key,),
            ).fetchone()
            rows = self._rows(_integers(entries_text, count))
            scores = _core.parse_numbers(scores_text or "", count)
            scores = np.clip(np.where(np.isnan(scores), 1.0, scores), LEAST_SCORE, 1.0)
            names, codes = TextColumn.from_joined(values_text or "", count).dictionary()
            found = _by_value(names, codes, rows, scores)
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

    @_read_once
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

    @_read_once
    def _load_files(self) -> None:
        if self._file_rows is not None:  # read by another thread meanwhile
            return
        count, rows_text, names, paths, exts, sources = self.connection.execute(
            "SELECT count(*), group_concat(entry, ','), group_concat(name, char(0)), "
            "group_concat(path, char(0)), group_concat(ext, char(0)), "
            "group_concat(source, char(0)) FROM entry_files"
        ).fetchone()
        self._files["name"] = TextColumn.from_joined(names or "", count)
        path = self._files["path"] = TextColumn.from_joined(paths or "", count)
        self._files["ext"] = TextColumn.from_joined(exts or "", count)
        self._files["dir"] = path.parents()  # the folder of each file in its source
        # a source by its index's name (as HomeGallery; by default the folder's name),
        # never by where it is on the server (`folder:` names it by its folder's name)
        index_names = {fold(source): fold(name) for source, name in self._index_names().items()}
        distinct, codes = TextColumn.from_joined(sources or "", count).dictionary()
        folders = [source.rstrip("/").rsplit("/", 1)[-1] for source in distinct]
        self._files["folder"] = TextColumn.from_codes(folders, codes)
        self._files["source"] = TextColumn.from_codes(
            [
                index_names.get(source) or folder
                for source, folder in zip(distinct, folders, strict=True)
            ],
            codes,
        )
        # last: other threads take the files as read once this is set
        self._file_rows = self._rows(_integers(rows_text, count))

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

    @_read_once
    def days(self) -> TextColumn:
        """The day of each entry (``2021-06-30``), as the text cache holds it."""
        if self._days is None:
            days = self.dates.astype("S10").tolist()
            self._days = TextColumn.from_joined(b"\x00".join(days).decode(), len(days))
        return self._days

    def composite(self, parts: tuple[str, ...]) -> TextColumn:
        """Text columns joined by spaces (``camera`` is make and model)."""
        key = "+".join(parts)
        if key not in self._texts:
            columns = [self.text(part) for part in parts]
            self._texts[key] = TextColumn.concatenated(columns, " ")
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
        if len(touched) > _PATCH_AT_MOST:
            # A change of many entries (a tag on a whole result): reading the changed
            # columns again costs less than patching row after row, and stays linear.
            patched._renumber(touched)
            patched._values = {}
            patched._numbers = {
                name: values
                for name, values in self._numbers.items()
                if name not in _PATCHED_NUMBERS
            }
        else:
            for media_id in touched:
                row = patched.row_of(media_id)
                if row is not None:
                    patched._patch(row, media_id)
        patched._scan_rows = None  # patched entries have new rowids
        if touched:
            patched._updated = None  # read again when asked for
        patched.generation = generation(self.connection)
        return patched

    def _renumber(self, media_ids: set[str]) -> None:
        """The rows of entries an event wrote anew, under their new rowids."""
        found = self.connection.execute(
            "SELECT group_concat(rowid, ','), group_concat(id, ',') FROM entries "
            "WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(media_ids)),),
        ).fetchone()
        if not found[0]:
            return
        rowids = _integers(found[0])
        rows = np.array([self.row_of(media_id) for media_id in found[1].split(",")], np.int64)
        if int(rowids.max()) >= len(self._position):
            grown = np.full(int(rowids.max()) * 2 + 1, -1, np.int64)
            grown[: len(self._position)] = self._position
            self._position = grown
        self._position[rowids] = rows

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
        """The row of an id, looked up in the id order (a dictionary of a million ids
        would hold ~100 MB for lookups a few events and similar: searches make)."""
        ids = self.id_order()
        index = bisect_left(ids, media_id)
        if index < len(ids) and ids[index] == media_id:
            return int(self.sorted_rows[index])
        return None

    def rows_with_id_prefix(self, prefix: str) -> IntArray:
        ids = self.id_order()
        start = bisect_left(ids, prefix)
        end = bisect_left(ids, prefix + "\U0010ffff", lo=start)
        return self.sorted_rows[start:end]


_PATCHED_NUMBERS = ("tag_count", "favorite", "rating")  # the numbers user events change
_PATCH_AT_MOST = 200  # entries an event may change for its rows to be patched one by one


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


def _by_value(
    names: list[str], codes: IntArray, rows: IntArray, scores: FloatArray | None = None
) -> dict[str, tuple[IntArray, FloatArray]]:
    """Each value (``names[code]``) → its rows, ascending, and their ``scores`` (the
    rows again without scores); pairs whose code is -1 (an empty value) are left out."""
    order = np.lexsort((rows, codes))
    order = order[codes[order] >= 0]
    rows = rows[order]
    scores = rows.astype(np.float64) if scores is None else scores[order]
    ends = np.cumsum(np.bincount(codes[order], minlength=len(names))).tolist()
    found: dict[str, tuple[IntArray, FloatArray]] = {}
    start = 0
    for name, end in zip(names, ends, strict=True):
        found[name] = (rows[start:end], scores[start:end])
        start = end
    return found


def _integers(text: str | None, count: int | None = None) -> IntArray:
    """The integers of a comma-joined column (``count`` of them, when known)."""
    if not text:
        return np.zeros(0, np.int64)
    return _core.parse_integers(text, count)


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
        found = self.shared(connection)
        return load_columns(connection) if found is None else found

    def shared(self, connection: sqlite3.Connection) -> Columns | None:
        """As :meth:`get`, but None where that would make a snapshot of its own."""
        current = generation(connection)
        with self._lock:
            columns = self._columns
            if columns is not None and columns.generation > current:
                return None
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
