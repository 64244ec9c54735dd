"""The build: file indexes + storage → the catalog, in one write transaction.

Readers never see a half-built catalog: everything a build changes is written in a
single SQLite transaction on a WAL database, so a search running meanwhile reads the
previous catalog until the commit and the new one after it.

A build is incremental: each entry keeps a signature of what it was made from (its
files and the kinds stored for its ids), and only entries whose signature changed are
read from the storage and written again. ``full=True`` makes every entry anew (after
a format change, or to be sure). The storage is read before the write lock is taken,
so tag changes from the web app wait only for the writing, not for the reading.
"""

from __future__ import annotations

import gc
import logging
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from homegallery.catalog.assemble import StorageReader, assemble, signature
from homegallery.catalog.columns import bump_generation
from homegallery.catalog.entry import Entry
from homegallery.catalog.events import apply_event, events_by_entry
from homegallery.catalog.grouping import MediaGroup, SourceFiles, group_files
from homegallery.catalog.rows import delete_entries, insert_entries, next_rowid
from homegallery.catalog.schema import (
    create_entry_indexes,
    create_entry_tables,
    drop_entry_tables,
    open_writer,
)
from homegallery.config import Config

log = logging.getLogger("homegallery.catalog")


@dataclass
class BuildSummary:
    entries: int = 0  # in the catalog after the build
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def lines(self) -> list[str]:
        lines = [
            f"catalog: {self.entries} entries from {self.files} files "
            f"({self.added} added, {self.changed} changed, {self.removed} removed, "
            f"{self.unchanged} unchanged) in {self.seconds:.1f} s"
        ]
        if self.problems:
            lines.append(f"{len(self.problems)} stored files could not be read, e.g.:")
            lines.extend(f"  {problem}" for problem in self.problems[:5])
        return lines


def _stored_signatures(connection: sqlite3.Connection) -> dict[str, str]:
    return dict(connection.execute("SELECT id, signature FROM entries").fetchall())


def _vector_ids(connection: sqlite3.Connection) -> set[str]:
    return {row[0] for row in connection.execute("SELECT DISTINCT media_id FROM vectors")}


def build_catalog(
    catalog: Path,
    storage_dir: Path,
    sources: Sequence[SourceFiles],
    *,
    full: bool = False,
) -> BuildSummary:
    """Builds (or updates) the catalog at ``catalog`` from indexed files and the storage."""
    # A build makes a few objects per file and frees none until the end: the cyclic
    # collector would walk them all again and again (half the time of a 100k build).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _build(catalog, storage_dir, sources, full)
    finally:
        if collecting:
            gc.enable()


def _build(
    catalog: Path, storage_dir: Path, sources: Sequence[SourceFiles], full: bool
) -> BuildSummary:
    started = time.perf_counter()
    summary = BuildSummary(files=sum(len(source.files) for source in sources))
    groups = group_files(sources)
    reader = StorageReader(storage_dir)
    connection = open_writer(catalog)
    try:
        stored = {} if full else _stored_signatures(connection)
        vector_ids = _vector_ids(connection)
        fresh: list[tuple[Entry, str]] = []
        for group in groups:
            has_vector = group.id in vector_ids
            current = signature(group, reader, has_vector)
            previous = stored.get(group.id)
            if previous == current:
                summary.unchanged += 1
                continue
            if previous is None:
                summary.added += 1
            else:
                summary.changed += 1
            fresh.append((assemble(group, reader, has_vector), current))
        summary.problems = reader.problems
        _write(connection, groups, fresh, stored, full, summary)
        summary.entries = int(connection.execute("SELECT count(*) FROM entries").fetchone()[0])
    finally:
        connection.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _write(
    connection: sqlite3.Connection,
    groups: list[MediaGroup],
    fresh: list[tuple[Entry, str]],
    stored: dict[str, str],
    full: bool,
    summary: BuildSummary,
) -> None:
    """Applies user events and writes everything in one transaction."""
    current_ids = {group.id for group in groups}
    connection.execute("BEGIN IMMEDIATE")
    try:
        if full:
            summary.removed = max(
                0,
                int(connection.execute("SELECT count(*) FROM entries").fetchone()[0])
                - len(current_ids),
            )
        events = events_by_entry(connection)
        applied: list[tuple[Entry, str]] = []
        for entry, entry_signature in fresh:
            for event in events.get(entry.id, ()):
                entry = apply_event(entry, event)
            applied.append((entry, entry_signature))
        if full:
            drop_entry_tables(connection)
            create_entry_tables(connection, indexes=False)
            insert_entries(connection, applied, 1)
            create_entry_indexes(connection)
        else:
            gone = [media_id for media_id in stored if media_id not in current_ids]
            summary.removed = len(gone)
            delete_entries(
                connection, gone + [entry.id for entry, _ in applied if entry.id in stored]
            )
            insert_entries(connection, applied, next_rowid(connection))
        bump_generation(connection)
        connection.execute(
            "INSERT INTO catalog_info (key, value) VALUES ('built', ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),),
        )
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def sources_from_config(config: Config) -> list[SourceFiles]:
    """Each source's index (offline sources too: their index stands for them)."""
    from homegallery.index import load_index  # type: ignore[import-not-found,unused-ignore]

    sources: list[SourceFiles] = []
    for source in config.sources:
        if not source.index_path.is_file():
            log.warning("source %s has no index yet (run `homegallery index`)", source.dir)
            continue
        sources.append(SourceFiles(source.dir, load_index(source.index_path)))
    return sources


def build_from_config(config: Config, *, full: bool = False) -> BuildSummary:
    """The build for a config: its sources' indexes, its storage, its catalog file."""
    return build_catalog(
        config.database.path, config.storage.path, sources_from_config(config), full=full
    )
