"""One part of a build: read the storage for some groups and write their rows to a file.

A build of 100k entries spends most of its time in Python per media file (listing
storage folders, decoding metadata, making rows), which one process cannot spread
over cores. The groups are therefore cut into contiguous parts (by id, so each part
lists its own storage folders), and each part is made by :func:`make_shard` in a
worker process into a small SQLite file of its own. The build then copies every part
into the catalog with ``INSERT … SELECT`` inside its one transaction; that copy runs
in SQLite's C code and is cheap next to making the rows.
"""

from __future__ import annotations

import gc
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from homegallery.catalog.assemble import StorageReader, assemble, signature
from homegallery.catalog.entry import Entry
from homegallery.catalog.events import Event, apply_event
from homegallery.catalog.grouping import MediaGroup
from homegallery.catalog.rows import insert_entries
from homegallery.catalog.schema import ENTRY_TABLES, create_entry_tables


@dataclass
class ShardTask:
    groups: list[MediaGroup]
    storage_dir: Path
    path: Path  # the shard file to write
    stored: dict[str, str]  # signatures in the catalog (empty for a full build)
    vector_ids: set[str]
    events: dict[str, list[Event]]  # recorded user events of these ids, in order


@dataclass
class ShardResult:
    path: Path
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    written: int = 0
    changed_ids: list[str] = field(default_factory=list)  # in the catalog before; now anew
    problems: list[str] = field(default_factory=list)


def make_shard(task: ShardTask) -> ShardResult:
    """Makes the entries of ``task.groups`` that changed, into ``task.path``."""
    collecting = gc.isenabled()
    gc.disable()  # many small objects, none freed until the end (see build)
    try:
        return _make_shard(task)
    finally:
        if collecting:
            gc.enable()


def _make_shard(task: ShardTask) -> ShardResult:
    result = ShardResult(task.path)
    reader = StorageReader(task.storage_dir)
    fresh: list[tuple[Entry, str]] = []
    for group in task.groups:
        has_vector = group.id in task.vector_ids
        current = signature(group, reader, has_vector)
        previous = task.stored.get(group.id)
        if previous == current:
            result.unchanged += 1
            continue
        if previous is None:
            result.added += 1
        else:
            result.changed += 1
            result.changed_ids.append(group.id)
        entry = assemble(group, reader, has_vector)
        for event in task.events.get(group.id, ()):
            entry = apply_event(entry, event)
        fresh.append((entry, current))
    result.problems = reader.problems
    task.path.unlink(missing_ok=True)
    connection = sqlite3.connect(task.path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = OFF")
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("BEGIN")
        create_entry_tables(connection, indexes=False)
        insert_entries(connection, fresh, 1)
        connection.execute("COMMIT")
    finally:
        connection.close()
    result.written = len(fresh)
    return result


def copy_shard(connection: sqlite3.Connection, alias: str, rowid_offset: int) -> None:
    """Copies an attached shard's rows into the catalog, moving its rowids up."""
    columns = {
        table: [row[1] for row in connection.execute(f"PRAGMA {alias}.table_info({table})")]
        for table in ENTRY_TABLES
    }
    entry_columns = ", ".join(columns["entries"])
    connection.execute(
        f"INSERT INTO main.entries (rowid, {entry_columns}) "
        f"SELECT rowid + ?, {entry_columns} FROM {alias}.entries ORDER BY rowid",
        (rowid_offset,),
    )
    for table in ("entry_docs", "entry_values", "entry_files"):
        names = columns[table]
        moved = ", ".join("entry + ?" if name == "entry" else name for name in names)
        connection.execute(
            f"INSERT INTO main.{table} ({', '.join(names)}) SELECT {moved} FROM {alias}.{table}",
            (rowid_offset,),
        )
