"""The catalog's SQLite schema, and how to open the catalog for reading or writing.

The catalog runs in WAL mode: readers keep reading their snapshot while a build
writes, and a build is one transaction, so a reader sees the catalog before the
build or after it, never in between.

Tables (``entries`` is narrow on purpose: every search scans it, so the full
entries live in ``entry_docs`` and are read only for the rows returned):

- ``entries``: one row per media id; searchable columns, text stored casefolded.
- ``entry_docs``: the full :class:`~homegallery.catalog.entry.Entry` in its stored
  form (:mod:`homegallery.catalog.doc`), by the rowid of its ``entries`` row.
- ``entry_values``: tags, object classes and labels, one row each (casefolded), with
  the model's score where a model saw it (NULL for tags and people).
- ``entry_files``: every file of an entry (name, path, extension, source).
- ``events``: user changes, append-only; never touched by a build.
- ``vectors``: similarity codes per media id and model (the code format of each
  model is in ``catalog_info`` under ``code_format:<model>``).
- ``entry_updated``: when each entry last changed (ISO time, UTC).
- ``faces``: every face of the entries (box, score, descriptor, person), copied from
  the storage once per photo (``face_sources`` says which photos were read);
  ``people``: the people they are grouped into (:mod:`homegallery.catalog.people`).
- ``clip_vectors``: a CLIP model's image vector per media id, int8 (``text:``).
- ``near_duplicates``: pairs of media ids (a < b) whose vectors' cosine is at least
  0.85, found by the build as vectors arrive; ``duplicates`` groups them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from homegallery.errors import HomeGalleryError

# 2: entry docs in their stored form (homegallery.catalog.doc); no file ids in entry_files
# 3: labels (entries.label_count, entry_values key "label")
# 4: faces and people (tables faces, face_sources, people; entry_values "person", "person_id")
# 5: entry_values.score (a label's probability, an object's score: word searches rank by
#    it); clip_vectors
SCHEMA_VERSION = 5

# The entry tables, made anew by a full build (their indexes come after the rows:
# building an index over sorted keys once is faster than keeping it up row by row).
_ENTRY_TABLES = """
CREATE TABLE IF NOT EXISTS entries (
    id TEXT NOT NULL,
    type TEXT NOT NULL,
    date TEXT,
    year INTEGER, month INTEGER, day INTEGER, hour INTEGER, minute INTEGER,
    width INTEGER, height INTEGER, ratio REAL, orientation INTEGER,
    mime TEXT, format TEXT, make TEXT, model TEXT, lens TEXT,
    iso INTEGER, aperture REAL, exposure_time REAL, focal_length REAL,
    latitude REAL, longitude REAL, altitude REAL,
    country TEXT, country_code TEXT, state TEXT, county TEXT, city TEXT, road TEXT,
    title TEXT, description TEXT,
    duration REAL, rating INTEGER, favorite INTEGER NOT NULL DEFAULT 0,
    size INTEGER,
    tag_count INTEGER NOT NULL DEFAULT 0,
    object_count INTEGER NOT NULL DEFAULT 0,
    label_count INTEGER NOT NULL DEFAULT 0,
    face_count INTEGER NOT NULL DEFAULT 0,
    file_count INTEGER NOT NULL DEFAULT 0,
    preview_count INTEGER NOT NULL DEFAULT 0,
    has_vector INTEGER NOT NULL DEFAULT 0,
    text TEXT NOT NULL,
    signature TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS entry_docs (
    entry INTEGER PRIMARY KEY,
    doc BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS entry_values (
    entry INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    score REAL
);
CREATE TABLE IF NOT EXISTS entry_files (
    entry INTEGER NOT NULL,
    source TEXT NOT NULL,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    ext TEXT NOT NULL,
    kind TEXT NOT NULL
)
"""
_ENTRY_INDEXES = """
CREATE UNIQUE INDEX IF NOT EXISTS entries_by_id ON entries (id);
CREATE INDEX IF NOT EXISTS entries_by_date ON entries (date, id);
CREATE INDEX IF NOT EXISTS entry_values_by_value ON entry_values (key, value);
CREATE INDEX IF NOT EXISTS entry_values_by_entry ON entry_values (entry);
CREATE INDEX IF NOT EXISTS entry_files_by_entry ON entry_files (entry)
"""
ENTRY_TABLES = ("entries", "entry_docs", "entry_values", "entry_files")
# The statements that make the entry tables, one each (the Rust core makes a build's
# part files with them).
ENTRY_TABLE_STATEMENTS = [statement for statement in _ENTRY_TABLES.split(";") if statement.strip()]
_LASTING_TABLES = """
CREATE TABLE IF NOT EXISTS catalog_info (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    uid TEXT NOT NULL UNIQUE,
    time TEXT NOT NULL,
    user TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS vectors (
    media_id TEXT NOT NULL,
    model TEXT NOT NULL,
    code BLOB NOT NULL,
    vector BLOB,
    scale REAL,
    PRIMARY KEY (media_id, model)
);
-- The ids of one model without reading its rows (each over a kilobyte with its int8
-- vector): what a build asks of every vector it keeps.
CREATE INDEX IF NOT EXISTS vectors_by_model ON vectors (model, media_id);
-- When each entry last changed (made anew by a build, or changed by an event): the
-- `updated` query key. Apart from the entry tables, which full builds make anew.
CREATE TABLE IF NOT EXISTS entry_updated (
    id TEXT PRIMARY KEY,
    updated TEXT NOT NULL
) WITHOUT ROWID;
-- CLIP image vectors (a model the user brought, named by its file's hash) as int8 rows
-- with their scale: what `text:` ranks by.
CREATE TABLE IF NOT EXISTS clip_vectors (
    media_id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    vector BLOB NOT NULL,
    scale REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS near_duplicates (
    model TEXT NOT NULL,
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    score REAL NOT NULL,
    PRIMARY KEY (model, a, b)
);
CREATE TABLE IF NOT EXISTS faces (
    media_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    x REAL NOT NULL, y REAL NOT NULL, width REAL NOT NULL, height REAL NOT NULL,
    score REAL NOT NULL,
    yaw REAL NOT NULL,
    named TEXT,
    descriptor BLOB NOT NULL,
    person INTEGER,
    PRIMARY KEY (media_id, idx)
);
CREATE INDEX IF NOT EXISTS faces_by_person ON faces (person);
CREATE TABLE IF NOT EXISTS face_sources (
    media_id TEXT PRIMARY KEY,
    models TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS people (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT,
    hidden INTEGER NOT NULL DEFAULT 0,
    count INTEGER NOT NULL,
    cover TEXT NOT NULL,
    sum BLOB NOT NULL
)
"""


def _run(connection: sqlite3.Connection, script: str) -> None:
    """Runs statements one by one (``executescript`` would commit the transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            connection.execute(statement)


def create_entry_tables(connection: sqlite3.Connection, indexes: bool = True) -> None:
    for statement in ENTRY_TABLE_STATEMENTS:
        connection.execute(statement)
    if indexes:
        _run(connection, _ENTRY_INDEXES)


def create_entry_indexes(connection: sqlite3.Connection) -> None:
    _run(connection, _ENTRY_INDEXES)


def drop_entry_tables(connection: sqlite3.Connection) -> None:
    for table in ENTRY_TABLES:
        connection.execute(f"DROP TABLE IF EXISTS {table}")


class CatalogError(HomeGalleryError):
    """A catalog that is missing, unreadable or from another version (says which file)."""


def _configure(connection: sqlite3.Connection) -> None:
    connection.execute("PRAGMA busy_timeout = 30000")
    connection.execute("PRAGMA foreign_keys = OFF")
    connection.execute("PRAGMA cache_size = -65536")  # 64 MiB: the whole entries table at 100k
    connection.execute("PRAGMA temp_store = MEMORY")


def open_writer(path: Path) -> sqlite3.Connection:
    """A connection for building and events; creates the catalog when missing.

    ``isolation_level=None``: transactions are explicit (``BEGIN IMMEDIATE``), so a
    build holds the write lock from its first read to its commit.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        # Freed pages need no zeroing here (some SQLite builds do it by default): the
        # catalog holds nothing the build does not write again, and it halves deletes.
        connection.execute("PRAGMA secure_delete = OFF")
        _configure(connection)
        _ensure_schema(connection, path)
    except sqlite3.DatabaseError as error:
        raise CatalogError(f"{path}: cannot open the catalog: {error}") from None
    return connection


@contextmanager
def write_transaction(connection: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken at once (BEGIN IMMEDIATE: no later upgrade that a
    reader could make fail), committed at the end and rolled back on any exception,
    an interrupt included."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


READER_MMAP_BYTES = 1 << 31  # at most; SQLite lowers it to what it was built to allow


def open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection; the catalog must exist (readers never create it)."""
    if not path.is_file():
        raise CatalogError(f"{path}: no catalog yet (run `homegallery build`)")
    try:
        # Not `mode=ro`: a read-only connection cannot create the WAL index when it is
        # the first to open the file; `query_only` refuses writes just the same.
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        _configure(connection)
        connection.execute("PRAGMA query_only = 1")
        # Pages read through a memory map instead of a system call each: a page of 100
        # entries at 1M (two random pages per entry) in 1.0 ms instead of 3.8 ms. The
        # mapped pages are the page cache's, shared by every reader, not the process's.
        connection.execute(f"PRAGMA mmap_size = {READER_MMAP_BYTES}")
        version = _stored_version(connection)
    except sqlite3.DatabaseError as error:
        raise CatalogError(f"{path}: cannot read the catalog: {error}") from None
    if version != SCHEMA_VERSION:
        connection.close()
        raise CatalogError(
            f"{path}: catalog format {version} is not the supported {SCHEMA_VERSION} "
            "(run `homegallery build` to convert it)"
        )
    return connection


def _stored_version(connection: sqlite3.Connection) -> int | None:
    try:
        row = connection.execute("SELECT value FROM catalog_info WHERE key = 'schema'").fetchone()
    except sqlite3.OperationalError:
        return None
    return int(row[0]) if row else None


def _ensure_schema(connection: sqlite3.Connection, path: Path) -> None:
    """Creates the tables; an older format's derived tables are dropped and made anew."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = _stored_version(connection)
        if version is not None and version != SCHEMA_VERSION:
            if version > SCHEMA_VERSION:
                raise CatalogError(
                    f"{path}: catalog format {version} is newer than this homegallery "
                    f"({SCHEMA_VERSION}); upgrade homegallery"
                )
            drop_entry_tables(connection)
        _run(connection, _LASTING_TABLES)
        create_entry_tables(connection)
        connection.execute(
            "INSERT INTO catalog_info (key, value) VALUES ('schema', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (str(SCHEMA_VERSION),),
        )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
