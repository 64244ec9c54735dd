"""Folds the small stored kinds an older storage keeps as files into each id's record.

A storage written before records holds each id's metadata, place, failure records
and model outputs as files of their own, a 4 KiB block each on ext4. They are read
as they are, and each id's are folded into its record the next time a step writes
one of its kinds; this folds every id at once. Each id is one atomic record write
followed by the removal of the files it now holds, so a run cut off at any point
loses nothing and the next run goes on where it stopped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from homegallery.config import Config
from homegallery.importer.lock import import_lock
from homegallery.storage import RECORD_KIND, Storage, StoredFileError, in_record, parse_name


@dataclass
class CompactReport:
    ids: int = 0  # ids whose files were folded
    files: int = 0  # files folded into records
    problems: int = 0  # records that could not be read (left as they are)

    def lines(self) -> list[str]:
        if not self.ids and not self.problems:
            return ["nothing to fold: every id's small kinds are in its record"]
        lines = [f"folded {self.files} files of {self.ids} ids into their records"]
        if self.problems:
            lines.append(f"left alone: {self.problems} unreadable records")
        return lines


def _loose_ids(folder: str, prefix: str) -> dict[str, int]:
    """Ids of one ``ab/cd`` folder with record kinds kept as files, and how many."""
    found: dict[str, int] = {}
    for name in os.listdir(folder):  # noqa: PTH208
        parsed = parse_name(name)
        if parsed is not None and parsed[1] != RECORD_KIND and in_record(parsed[1]):
            found[prefix + parsed[0]] = found.get(prefix + parsed[0], 0) + 1
    return found


def compact_storage(root: Path) -> CompactReport:
    """Folds every id's loose small kinds into its record (see the module's words)."""
    report = CompactReport()
    storage = Storage(root)
    for first in sorted(os.scandir(root), key=lambda entry: entry.name):
        if not (first.is_dir(follow_symlinks=False) and len(first.name) == 2):
            continue
        for second in sorted(os.scandir(first.path), key=lambda entry: entry.name):
            if not (second.is_dir(follow_symlinks=False) and len(second.name) == 2):
                continue
            for media_id, count in sorted(
                _loose_ids(second.path, first.name + second.name).items()
            ):
                try:
                    storage.record(media_id)
                except StoredFileError:
                    report.problems += 1
                    continue
                if storage.fold(media_id):
                    report.ids += 1
                    report.files += count
    return report


def compact_config_storage(config: Config) -> CompactReport:
    """``compact_storage`` of the config's storage, holding the import lock."""
    with import_lock(config.database.path):
        return compact_storage(config.storage.path)
