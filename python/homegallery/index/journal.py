"""Journals: what one index update changed, for the stages after it.

Each update that changes anything writes ``<index file>.journal/<sequence>.json``
(sequence numbers count up from 1, zero-padded) holding ``added``, ``changed``,
``moved`` and ``removed`` with media ids. Extract and build keep their own cursor (the
last sequence they handled) and read only newer journals, so they touch only what
changed. Journals are written atomically and before the index file, so a crash
between the two leaves a journal that describes an update not yet saved; the next
update recomputes from the old index and writes a journal of the same changes again,
and consumers treat journal entries as hints to look again, never as the only truth.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from homegallery.atomic import write_bytes


class AddedFile(msgspec.Struct, frozen=True):
    path: str
    id: str
    kind: str
    size: int


class ChangedFile(msgspec.Struct, frozen=True):
    path: str
    old_id: str
    id: str


class MovedFile(msgspec.Struct, frozen=True):
    old_path: str
    path: str
    id: str


class RemovedFile(msgspec.Struct, frozen=True):
    path: str
    id: str


class Journal(msgspec.Struct, frozen=True):
    sequence: int
    created: str
    source: str
    added: list[AddedFile] = []
    changed: list[ChangedFile] = []
    moved: list[MovedFile] = []
    removed: list[RemovedFile] = []

    @property
    def touched_ids(self) -> set[str]:
        """Media ids whose files appeared, changed, moved or went away."""
        ids = {item.id for item in self.added}
        ids |= {item.id for item in self.changed} | {item.old_id for item in self.changed}
        ids |= {item.id for item in self.moved} | {item.id for item in self.removed}
        return ids


_NAME = re.compile(r"^(\d+)\.json$")


def journal_dir(index_file: Path) -> Path:
    return index_file.with_name(index_file.name + ".journal")


def _sequences(index_file: Path) -> list[tuple[int, Path]]:
    folder = journal_dir(index_file)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def last_sequence(index_file: Path) -> int:
    sequences = _sequences(index_file)
    return sequences[-1][0] if sequences else 0


def write_journal(
    index_file: Path,
    source: str,
    added: list[AddedFile],
    changed: list[ChangedFile],
    moved: list[MovedFile],
    removed: list[RemovedFile],
) -> Journal:
    journal = Journal(
        sequence=last_sequence(index_file) + 1,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        source=source,
        added=added,
        changed=changed,
        moved=moved,
        removed=removed,
    )
    target = journal_dir(index_file) / f"{journal.sequence:08d}.json"
    write_bytes(target, msgspec.json.encode(journal))
    return journal


def read_journals(index_file: Path, after_sequence: int = 0) -> list[Journal]:
    """Journals newer than ``after_sequence``, oldest first."""
    journals = []
    for sequence, path in _sequences(index_file):
        if sequence > after_sequence:
            journals.append(msgspec.json.decode(path.read_bytes(), type=Journal))
    return journals
