"""One part of a build: read the storage for some groups and write their rows to a file.

The groups (a :class:`~homegallery._core.BuildPlan`, held in the core) are cut into
contiguous parts (by id, so each part lists its own storage folders), and each part
is made by :func:`make_shard` into a small SQLite file of its own. The work per media
file (storage reads, the entry, its doc and rows, the inserts) runs in the Rust core
with the GIL released, so parts made on threads run on all cores. The build then
copies every part into the catalog with ``INSERT … SELECT`` inside its one
transaction; that copy runs in SQLite's C code and is cheap next to making the rows.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from homegallery import _core
from homegallery._core import BuildPlan
from homegallery.catalog.doc import decode_doc, encode_doc
from homegallery.catalog.events import Event, apply_event
from homegallery.catalog.rows import insert_docs
from homegallery.catalog.schema import ENTRY_TABLE_STATEMENTS, ENTRY_TABLES
from homegallery.catalog.vector_build import ModelOutputs
from homegallery.extract.schema import objects_kind

log = logging.getLogger("homegallery.catalog")


@dataclass(frozen=True)
class ObjectOutputs:
    """The object detector whose stored objects a build reads, and the score kept."""

    model_tag: str  # model name and version, as in the stored kind
    object_score: float = 0.4

    @property
    def objects_kind(self) -> str:
        return objects_kind(self.model_tag)

    def describe(self) -> str:
        """What the entries' objects are made with: a change makes the whole catalog anew."""
        return f"{self.model_tag}@{self.object_score:g}"


@dataclass
class ShardTask:
    plan: BuildPlan  # every group of the build, with the catalog's signatures
    start: int  # this part's groups: plan groups start to end
    end: int
    storage_dir: Path
    path: Path  # the shard file to write
    vector_ids: set[str]  # ids with vectors no stored embedding accounts for
    events: dict[str, list[Event]]  # recorded user events by entry id, in order
    outputs: ModelOutputs | None = None  # the embedding model's labels and vectors
    objects: ObjectOutputs | None = None  # the object detector's objects


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
    """Makes the entries of the task's groups that changed, into ``task.path``.

    Entries with user events come back from the core as docs; the events are applied
    to them here (their rules live in Python) and they are written after the rest.
    """
    outputs = task.outputs
    added, changed_ids, unchanged, held_docs, written, problems = _core.write_part(
        os.fspath(task.path),
        os.fspath(task.storage_dir),
        ENTRY_TABLE_STATEMENTS,
        task.plan,
        task.start,
        task.end,
        set(task.events),
        task.vector_ids,
        labels_kind=outputs.labels_kind if outputs else None,
        label_threshold=outputs.label_threshold if outputs else 0.0,
        vector_kind=outputs.vector_kind if outputs else None,
        objects_kind=task.objects.objects_kind if task.objects else None,
        object_score=task.objects.object_score if task.objects else 0.0,
    )
    result = ShardResult(task.path, added, len(changed_ids), unchanged, written, changed_ids)
    result.problems = problems
    for problem in problems:
        log.warning("%s", problem)
    if held_docs:
        _write_held(task, held_docs, result.written + 1)
        result.written += len(held_docs)
    return result


def _write_held(task: ShardTask, held_docs: list[tuple[str, str, bytes]], rowid: int) -> None:
    """Applies the user events to the held entries and writes them from ``rowid`` on."""
    docs = []
    for media_id, _, doc in held_docs:
        entry = decode_doc(doc)
        for event in task.events[media_id]:
            entry = apply_event(entry, event)
        docs.append(encode_doc(entry))
    connection = sqlite3.connect(task.path, isolation_level=None)
    try:
        connection.execute("BEGIN")
        insert_docs(connection, docs, [signature for _, signature, _ in held_docs], rowid)
        connection.execute("COMMIT")
    finally:
        connection.close()


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
