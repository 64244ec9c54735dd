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
from pathlib import Path

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


def _batches(paths: list[tuple[str, int]]) -> Iterable[list[tuple[str, int]]]:
    batch: list[tuple[str, int]] = []
    size = 0
    for item in paths:
        batch.append(item)
        size += item[1]
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
        walked, walk_errors, excluded, too_large, marked = _core.walk_source(
            source.dir,
            [*source.excludes, *_exclude_file_patterns(source)],
            source.exclude_if_present or None,
            source.max_file_size_bytes,
            list(roots[1:]),
        )
    except OSError as error:
        # An unmounted disk looks like an empty folder or a missing one: never read it
        # as "every file was deleted". The old index stays as it is.
        result.status = "error"
        result.error = f"source not readable, index kept: {error}"
        result.entries = len(old_entries)
        return result, None
    if not walked and old_entries:
        result.status = "error"
        result.error = (
            f"source {source.dir} is empty but its index lists {len(old_entries)} files; "
            "is the disk unmounted? index kept (mark the source `offline: true`, or remove "
            "its index file to start over)"
        )
        result.entries = len(old_entries)
        return result, None
    result.seen = len(walked)
    result.excluded = excluded + marked
    result.too_large = too_large
    result.file_errors = list(walk_errors)

    matches = matcher_for(source.matcher)
    by_path = {entry.path: entry for entry in old_entries}
    walked_paths = {item[0] for item in walked}
    vanished = {path: entry for path, entry in by_path.items() if path not in walked_paths}
    by_inode = (
        {(e.device, e.inode, e.size, e.mtime_ns): e for e in vanished.values()}
        if source.matcher == "size-ctime-inode"
        else {}
    )

    kept: list[IndexEntry] = []
    moved: list[MovedFile] = []
    to_hash_changed: list[Walked] = []
    to_hash_new: list[Walked] = []
    for item in walked:
        old = by_path.get(item[0])
        if old is not None:
            if matches(old, item):
                kept.append(_entry(item, old.id))
            else:
                to_hash_changed.append(item)
            continue
        renamed = by_inode.pop((item[5], item[4], item[1], item[2]), None)
        if renamed is not None:
            del vanished[renamed.path]
            kept.append(_entry(item, renamed.id))
            moved.append(MovedFile(portable_path(renamed.path), portable_path(item[0]), renamed.id))
            continue
        to_hash_new.append(item)

    limits_entries = len(old_entries)
    if add_limits is not None:
        allowed = add_limits.allowed_new(limits_entries)
        result.pending = max(0, len(to_hash_new) - allowed)
        to_hash_new = to_hash_new[:allowed]

    to_hash = to_hash_changed + to_hash_new
    if dry_run:
        result.added = len(to_hash_new)
        result.changed = len(to_hash_changed)
        result.moved = len(moved)
        result.removed = len(vanished)
        result.entries = len(old_entries)
        result.seconds = time.monotonic() - started
        return result, None

    if progress is not None:
        progress.set_total((progress.total or 0) + len(to_hash))
    root = Path(source.dir)
    digests: dict[str, str] = {}
    walked_by_path = {item[0]: item for item in to_hash}
    for batch in _batches([(item[0], item[1]) for item in to_hash]):
        outcomes = _core.hash_files(
            [os.fspath(root / path) for path, _ in batch], threads, list(roots)
        )
        for (path, _), (digest, nbytes, problem) in zip(batch, outcomes, strict=True):
            result.bytes_hashed += nbytes
            if digest is None:
                result.file_errors.append((path, problem or "unreadable"))
            else:
                digests[path] = digest
        if progress is not None:
            progress.advance(len(batch), sum(size for _, size in batch))

    added: list[AddedFile] = []
    changed: list[ChangedFile] = []
    new_entries: list[IndexEntry] = list(kept)
    vanished_by_id: dict[str, IndexEntry] = {}
    for entry in vanished.values():
        vanished_by_id.setdefault(entry.id, entry)
    for item in to_hash_changed:
        old = by_path[item[0]]
        digest = digests.get(item[0])
        if digest is None:
            new_entries.append(old)  # unreadable now: keep what we knew
            continue
        new_entries.append(_entry(item, digest))
        if digest != old.id:
            changed.append(ChangedFile(portable_path(item[0]), old.id, digest))
    for item in to_hash_new:
        digest = digests.get(item[0])
        if digest is None:
            continue
        entry = _entry(walked_by_path[item[0]], digest)
        new_entries.append(entry)
        source_of_move = vanished_by_id.pop(digest, None)
        if source_of_move is not None:
            del vanished[source_of_move.path]
            moved.append(
                MovedFile(portable_path(source_of_move.path), portable_path(entry.path), digest)
            )
        else:
            added.append(AddedFile(portable_path(entry.path), digest, entry.kind, entry.size))
    removed = [RemovedFile(portable_path(entry.path), entry.id) for entry in vanished.values()]

    result.added, result.changed = len(added), len(changed)
    result.moved, result.removed = len(moved), len(removed)
    new_entries.sort(key=lambda entry: entry.path)
    result.entries = len(new_entries)
    journal = None
    if added or changed or moved or removed:
        journal = write_journal(source.index_path, source.dir, added, changed, moved, removed)
        result.journal = journal.sequence
    if journal is not None or new_entries != old_entries or not source.index_path.exists():
        save_index(source.index_path, source.dir, new_entries)
    result.seconds = time.monotonic() - started
    return result, journal


def _exclude_file_patterns(source: Source) -> list[str]:
    if not source.exclude_from_file:
        return []
    text = Path(source.exclude_from_file).read_text(encoding="utf-8")
    return text.splitlines()
