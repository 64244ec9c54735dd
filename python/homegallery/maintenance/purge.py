"""``purge_storage``: storage files no indexed file and no catalog entry needs any more.

The storage is named by content id, so a file deleted from the sources (or a whole
source taken out of the config) leaves its previews, web video and metadata behind.
What is kept: every id of every configured source's index (offline ones included),
every entry of the catalog and the previews of entries fetched from another gallery. What goes: the stored files of other ids (their
failure records too), failure records of steps the extractor no longer has, and
temporary files a crashed write left. Files whose names are not the storage's are
left alone and counted.

The whole run holds the import lock: no import (and no ``homegallery extract``) writes
into the storage meanwhile, so a file one is making is never taken for a leftover.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from homegallery.catalog.build import FETCHED_SIGNATURE
from homegallery.catalog.doc import decode_doc
from homegallery.catalog.schema import open_reader
from homegallery.config import Config
from homegallery.errors import HomeGalleryError
from homegallery.extract.steps import STEPS
from homegallery.importer.lock import import_lock
from homegallery.index import load_index
from homegallery.progress import Progress, counted
from homegallery.storage import KINDS, RECORD_KIND, Storage, StoredFileError, parse_name

_FAILURE_PREFIX, _FAILURE_SUFFIX = KINDS["failure"].split("{}")
_TEMPORARY_MARK = ".part"


class PurgeError(HomeGalleryError):
    """Nothing was purged (the message says why)."""


@dataclass
class PurgeReport:
    files: int = 0
    bytes: int = 0
    kept: int = 0
    foreign: int = 0  # names that are not the storage's, left alone
    by_reason: Counter[str] = field(default_factory=Counter)
    folders: int = 0  # emptied folders removed
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        files = counted(self.files, "storage file")
        lines = [f"{verb} {files} ({self.bytes / 1e6:,.1f} MB), kept {self.kept:,}"]
        lines += [
            f"  {counted(count, *_REASON_NOUNS[reason])}"
            for reason, count in sorted(self.by_reason.items())
        ]
        if self.folders:
            lines.append(f"  {counted(self.folders, 'emptied folder')}")
        if self.foreign:
            lines.append(f"left alone: {counted(self.foreign, 'file')} not named like stored ones")
        return lines


def referenced_ids(config: Config) -> set[str]:
    """Ids every configured source's index and the catalog hold."""
    ids: set[str] = set()
    for source in config.sources:
        if not source.index_path.is_file():
            raise PurgeError(
                f"source {source.dir} has no index yet ({source.index_path}); run "
                "`homegallery index` first, or its stored files would look unused"
            )
        ids.update(entry.id for entry in load_index(source.index_path))
    if config.database.path.is_file():
        connection = open_reader(config.database.path)
        try:
            ids.update(row[0] for row in connection.execute("SELECT id FROM entries"))
            ids.update(_fetched_preview_ids(connection))
        finally:
            connection.close()
    return ids


def _fetched_preview_ids(connection: sqlite3.Connection) -> set[str]:
    """Ids of the previews of fetched entries: no index holds their files, and a
    preview may be stored under the id of a RAW twin rather than the entry's."""
    ids: set[str] = set()
    rows = connection.execute(
        "SELECT d.doc FROM entries e JOIN entry_docs d ON d.entry = e.rowid "
        "WHERE e.signature LIKE ?",
        (FETCHED_SIGNATURE + "%",),
    )
    for (doc,) in rows:
        for relative in decode_doc(doc).previews:
            folder, _, name = relative.rpartition("/")
            parsed = parse_name(name)
            if parsed is not None:
                ids.add(folder.replace("/", "") + parsed[0])
    return ids


# Each reason a stored file goes, as a noun in the singular and the plural.
_REASON_NOUNS = {
    "temporary files of broken writes": (
        "temporary file of a broken write",
        "temporary files of broken writes",
    ),
    "files of ids no index or entry holds": (
        "file of an id no index or entry holds",
        "files of ids no index or entry holds",
    ),
    "failure records of steps that no longer exist": (
        "failure record of a step that no longer exists",
        "failure records of steps that no longer exist",
    ),
}


def _reason(name: str, folder: str, keep: set[str]) -> str | None:
    """Why a stored file goes (None: it stays; "" : not the storage's own)."""
    parsed = parse_name(name)
    if parsed is None:
        return (
            "temporary files of broken writes"
            if name.startswith(".") and (_TEMPORARY_MARK in name)
            else ""
        )
    stem, kind = parsed
    if folder + stem not in keep:
        return "files of ids no index or entry holds"
    return _stale_kind(kind)


def _stale_kind(kind: str) -> str | None:
    """Why a kind of a kept id goes (None: it stays)."""
    if kind.startswith(_FAILURE_PREFIX) and kind.endswith(_FAILURE_SUFFIX):
        step = kind[len(_FAILURE_PREFIX) : len(kind) - len(_FAILURE_SUFFIX)]
        if step not in STEPS:
            return "failure records of steps that no longer exist"
    return None


def _purge_record(folder: Path, media_id: str, report: PurgeReport) -> None:
    """Takes the stale kinds out of a kept id's record."""
    storage = Storage(folder.parent.parent)
    try:
        parts = storage.record(media_id)
    except StoredFileError:
        return  # its reader says what is wrong; purging leaves it be
    stale = {kind: _stale_kind(kind) for kind in parts}
    gone = {kind: reason for kind, reason in stale.items() if reason}
    for kind, reason in gone.items():
        report.files += 1
        report.bytes += len(parts[kind])
        report.by_reason[reason] += 1
    if gone and not report.dry_run:
        storage.change_record(media_id, dict.fromkeys(gone))


def _folders(root: Path) -> list[tuple[Path, str]]:
    """Every ``ab/cd`` folder with its id prefix ``abcd``."""
    found = []
    for first in sorted(os.scandir(root), key=lambda e: e.name):
        if first.is_dir(follow_symlinks=False) and len(first.name) == 2:
            for second in sorted(os.scandir(first.path), key=lambda e: e.name):
                if second.is_dir(follow_symlinks=False) and len(second.name) == 2:
                    found.append((Path(second.path), first.name + second.name))
    return found


def _purge_folder(folder: Path, prefix: str, keep: set[str], report: PurgeReport) -> None:
    for item in os.scandir(folder):
        if not item.is_file(follow_symlinks=False):
            report.foreign += 1
            continue
        reason = _reason(item.name, prefix, keep)
        parsed = parse_name(item.name)
        if reason is None and parsed is not None and parsed[1] == RECORD_KIND:
            _purge_record(folder, prefix + parsed[0], report)
        if reason is None:
            report.kept += 1
        elif not reason:
            report.foreign += 1
        else:
            report.files += 1
            report.bytes += item.stat(follow_symlinks=False).st_size
            report.by_reason[reason] += 1
            if not report.dry_run:
                Path(item.path).unlink()
    if not report.dry_run:
        for emptied in (folder, folder.parent):
            try:
                emptied.rmdir()
                report.folders += 1
            except OSError:  # not empty: something stays in it
                break


def purge_storage(config: Config, *, dry_run: bool = False, quiet: bool = False) -> PurgeReport:
    report = PurgeReport(dry_run=dry_run)
    root = config.storage.path
    with import_lock(config.database.path):
        keep = referenced_ids(config)
        if not root.is_dir():
            return report
        folders = _folders(root)
        with Progress("storage folders", total=len(folders), quiet=quiet) as progress:
            for folder, prefix in folders:
                _purge_folder(folder, prefix, keep, report)
                progress.advance()
    return report
