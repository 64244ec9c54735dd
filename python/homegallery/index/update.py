"""One index update of one source: walk, match, hash what is new, save, journal.

The walk and the checksums run in Rust with the GIL released; this module decides
what to hash and what each difference means:

- a file whose record matches (see ``matcher``) keeps its id without being read;
- a new path whose inode, device, size and mtime equal those of a vanished path is
  the same file renamed or moved, and keeps its id without being read (only with the
  inode-aware matcher, since other matchers exist for file systems with unstable
  inodes);
- every other new or different file is hashed; a new path whose id equals a vanished
  path's id is reported as a move, a known path with a new id as a change;
- a file that cannot be read keeps its old record, so a passing I/O error or a file
  being written during the run loses nothing; it is retried on the next run;
- a symbolic link is listed only when it leads to a file inside the source (or, with
  ``followSymlinks``, inside another source: the ``roots``); the checksum step checks
  the file it opened again, so a file swapped for a link after the walk is not read.

Add-limits hold back new files (not changed ones) beyond what this run may take; the
held-back count is reported so progress can show the true total.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import msgspec

from homegallery import _core
from homegallery.config import Source
from homegallery.index.add_limits import AddLimits
from homegallery.index.journal import (
    AddedFile,
    ChangedFile,
    Journal,
    MovedFile,
    RemovedFile,
    write_journal,
)
from homegallery.index.kinds import kind_of
from homegallery.index.matcher import Walked, matcher_for
from homegallery.index.records import IndexEntry, load_index, portable_path, save_index
from homegallery.index.removed import removed_patterns
from homegallery.progress import Progress
from homegallery.within import Roots, real_folder

log = logging.getLogger(__name__)

# Files per checksum call: large enough to keep every core busy, small enough for
# steady progress updates.
_HASH_BATCH_FILES = 256
_HASH_BATCH_BYTES = 256 * 1024 * 1024


class SourceResult(msgspec.Struct, kw_only=True):
    """What one update did to one source."""

    source: str
    status: str = "ok"
    """``ok``, ``offline`` (not walked, index kept) or ``error`` (see ``error``)."""
    error: str = ""
    seen: int = 0
    added: int = 0
    changed: int = 0
    moved: int = 0
    removed: int = 0
    excluded: int = 0
    too_large: int = 0
    pending: int = 0
    """New files held back by add-limits for a later run."""
    entries: int = 0
    file_errors: list[tuple[str, str]] = []
    bytes_hashed: int = 0
    seconds: float = 0.0
    journal: int = 0
    """Sequence number of the journal written, 0 when nothing changed."""


class _Walk(NamedTuple):
    """What the walk (``_core.walk_source``) returns."""

    files: list[Walked]
    errors: list[tuple[str, str]]  # (path, message)
    excluded: int
    too_large: int
    marked: int  # folders left out by exclude_if_present


class _Hashed(NamedTuple):
    """One file's outcome of ``_core.hash_files``."""

    digest: str | None
    bytes_read: int
    problem: str | None


@dataclass
class _Plan:
    """What the walk means against the old index, before any file is read."""

    kept: list[IndexEntry] = field(default_factory=list)  # unchanged or renamed in place
    moved: list[MovedFile] = field(default_factory=list)
    changed: list[Walked] = field(default_factory=list)  # known path, to hash again
    new: list[Walked] = field(default_factory=list)  # new path, to hash
    vanished: dict[str, IndexEntry] = field(default_factory=dict)  # by path


@dataclass
class _Changes:
    entries: list[IndexEntry]
    added: list[AddedFile]
    changed: list[ChangedFile]
    moved: list[MovedFile]
    removed: list[RemovedFile]


def _batches(paths: list[Walked]) -> Iterable[list[Walked]]:
    batch: list[Walked] = []
    size = 0
    for item in paths:
        batch.append(item)
        size += item.size
        if len(batch) >= _HASH_BATCH_FILES or size >= _HASH_BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _entry(walked: Walked, media_id: str) -> IndexEntry:
    path, size, mtime_ns, ctime_ns, inode, device = walked
    return IndexEntry(path, size, mtime_ns, ctime_ns, inode, device, media_id, kind_of(path))


def update_source(
    source: Source,
    add_limits: AddLimits | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    threads: int = 0,
    roots: Roots | None = None,
) -> tuple[SourceResult, Journal | None]:
    """``roots``: the real folders the source's files may lie in, its own first
    (``homegallery.within.source_roots``); None: only the source itself."""
    started = time.monotonic()
    roots = roots or (real_folder(source.dir),)
    result = SourceResult(source=source.dir)
    if source.offline:
        result.status = "offline"
        result.entries = len(load_index(source.index_path))
        return result, None
    old_entries = load_index(source.index_path)
    try:
        walk = _walk(source, roots)
    except OSError as error:
        # An unmounted disk looks like an empty folder or a missing one: never read it
        # as "every file was deleted". The old index stays as it is.
        return _kept(result, old_entries, f"source not readable, index kept: {error}"), None
    if not walk.files and old_entries:
        return _kept(
            result,
            old_entries,
            f"source {source.dir} is empty but its index lists {len(old_entries)} files; "
            "is the disk unmounted? index kept (mark the source `offline: true`, or remove "
            "its index file to start over)",
        ), None
    result.seen, result.excluded = len(walk.files), walk.excluded + walk.marked
    result.too_large, result.file_errors = walk.too_large, list(walk.errors)

    plan = _plan(walk.files, old_entries, source.matcher)
    if add_limits is not None:
        allowed = add_limits.allowed_new(len(old_entries))
        result.pending = max(0, len(plan.new) - allowed)
        plan.new = plan.new[:allowed]
    if dry_run:
        result.added, result.changed = len(plan.new), len(plan.changed)
        result.moved, result.removed = len(plan.moved), len(plan.vanished)
        result.entries = len(old_entries)
        result.seconds = time.monotonic() - started
        return result, None

    digests = _hash(Path(source.dir), plan.changed + plan.new, threads, roots, result, progress)
    changes = _changes(plan, old_entries, digests)
    result.added, result.changed = len(changes.added), len(changes.changed)
    result.moved, result.removed = len(changes.moved), len(changes.removed)
    result.entries = len(changes.entries)
    journal = _save(source, old_entries, changes)
    result.journal = journal.sequence if journal is not None else 0
    result.seconds = time.monotonic() - started
    return result, journal


def _kept(result: SourceResult, old_entries: list[IndexEntry], error: str) -> SourceResult:
    """The result of a source not walked: an error, and the old index as it was."""
    result.status, result.error, result.entries = "error", error, len(old_entries)
    return result


def _walk(source: Source, roots: Roots) -> _Walk:
    files, errors, excluded, too_large, marked = _core.walk_source(
        source.dir,
        [*source.excludes, *_exclude_file_patterns(source)],
        source.exclude_if_present or None,
        source.max_file_size_bytes,
        list(roots[1:]),
    )
    return _Walk(list(map(Walked._make, files)), errors, excluded, too_large, marked)


def _plan(files: list[Walked], old_entries: list[IndexEntry], matcher: str) -> _Plan:
    """Each walked file: kept (it matches its record, or is a vanished file renamed,
    by inode), or to hash; what is left of the old index has vanished."""
    matches = matcher_for(matcher)
    by_path = {entry.path: entry for entry in old_entries}
    walked_paths = {item.path for item in files}
    plan = _Plan(vanished={p: e for p, e in by_path.items() if p not in walked_paths})
    by_inode = (
        {(e.device, e.inode, e.size, e.mtime_ns): e for e in plan.vanished.values()}
        if matcher == "size-ctime-inode"
        else {}
    )
    for item in files:
        old = by_path.get(item.path)
        if old is not None:
            if matches(old, item):
                plan.kept.append(_entry(item, old.id))
            else:
                plan.changed.append(item)
            continue
        renamed = by_inode.pop((item.device, item.inode, item.size, item.mtime_ns), None)
        if renamed is None:
            plan.new.append(item)
            continue
        del plan.vanished[renamed.path]
        plan.kept.append(_entry(item, renamed.id))
        moved = MovedFile(portable_path(renamed.path), portable_path(item.path), renamed.id)
        plan.moved.append(moved)
    return plan


def _hash(
    root: Path,
    files: list[Walked],
    threads: int,
    roots: Roots,
    result: SourceResult,
    progress: Progress | None,
) -> dict[str, str]:
    """The digest of each file that could be read, by path; the others are errors."""
    if progress is not None:
        progress.set_total((progress.total or 0) + len(files))
    digests: dict[str, str] = {}
    for batch in _batches(files):
        outcomes = _core.hash_files(
            [os.fspath(root / item.path) for item in batch], threads, list(roots)
        )
        for item, outcome in zip(batch, map(_Hashed._make, outcomes), strict=True):
            result.bytes_hashed += outcome.bytes_read
            if outcome.digest is None:
                result.file_errors.append((item.path, outcome.problem or "unreadable"))
            else:
                digests[item.path] = outcome.digest
        if progress is not None:
            progress.advance(len(batch), sum(item.size for item in batch))
    return digests


def _changes(plan: _Plan, old_entries: list[IndexEntry], digests: dict[str, str]) -> _Changes:
    """The new index and the journal's changes, from the plan and the digests."""
    changes = _Changes(list(plan.kept), [], [], list(plan.moved), [])
    by_path = {entry.path: entry for entry in old_entries}
    for item in plan.changed:
        old = by_path[item.path]
        digest = digests.get(item.path)
        if digest is None:
            changes.entries.append(old)  # unreadable now: keep what we knew
            continue
        changes.entries.append(_entry(item, digest))
        if digest != old.id:
            changes.changed.append(ChangedFile(portable_path(item.path), old.id, digest))
    vanished_by_id: dict[str, IndexEntry] = {}
    for entry in plan.vanished.values():
        vanished_by_id.setdefault(entry.id, entry)
    for item in plan.new:
        digest = digests.get(item.path)
        if digest is None:
            continue
        entry = _entry(item, digest)
        changes.entries.append(entry)
        source_of_move = vanished_by_id.pop(digest, None)
        if source_of_move is None:
            added = AddedFile(portable_path(entry.path), digest, entry.kind, entry.size)
            changes.added.append(added)
            continue
        del plan.vanished[source_of_move.path]
        changes.moved.append(
            MovedFile(portable_path(source_of_move.path), portable_path(entry.path), digest)
        )
    changes.removed = [RemovedFile(portable_path(e.path), e.id) for e in plan.vanished.values()]
    changes.entries.sort(key=lambda entry: entry.path)
    return changes


def _save(source: Source, old_entries: list[IndexEntry], changes: _Changes) -> Journal | None:
    """Writes the journal of the changes (if any) and the index (if it changed)."""
    journal = None
    if changes.added or changes.changed or changes.moved or changes.removed:
        journal = write_journal(
            source.index_path, source.dir, changes.added, changes.changed, changes.moved,
            changes.removed,
        )  # fmt: skip
    if journal is not None or changes.entries != old_entries or not source.index_path.exists():
        save_index(source.index_path, source.dir, changes.entries)
    return journal


def _exclude_file_patterns(source: Source) -> list[str]:
    """The patterns of ``excludeFromFile``, then the rules of removed files (last, so
    that no pattern before them brings a removed file back)."""
    removed = removed_patterns(source)
    if not source.exclude_from_file:
        return removed
    text = Path(source.exclude_from_file).read_text(encoding="utf-8")
    return [*text.splitlines(), *removed]
