"""What the storage already holds, read a folder at a time, for planning big runs fast.

(Plain ``os`` calls and strings here, not pathlib: this is the hot path of planning.)

Planning a run over an unchanged gallery must cost next to nothing, yet it asks
"is this file there?" several times per media file. One ``os.listdir`` per storage
folder answers all of them for the ids in that folder (ids share a folder by their
first four hex digits), where a stat per question through pathlib costs ~40 µs each.
Callers walk ids in sorted order, so one folder is listed once and only the current
folder's names are held in memory. An id's record (``storage.RECORD_KIND``) is read
with the folder: the kinds in it count as stored.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from homegallery.extract.schema import META_KIND, MediaMeta
from homegallery.storage import (
    RECORD_KIND,
    StoredFileError,
    parse_name,
    read_record,
    relative_path,
    split_id,
)

_NOTHING: frozenset[str] = frozenset()


class StorageListing:
    def __init__(self, root: Path) -> None:
        self.root = os.fspath(root)
        self._folder = ""
        self._kinds: dict[str, set[str]] = {}
        self._records: dict[str, dict[str, bytes]] = {}

    def kinds(self, media_id: str) -> frozenset[str] | set[str]:
        """Kinds stored for ``media_id`` (temporary files left out)."""
        folder, stem = split_id(media_id)
        if folder != self._folder:
            self._folder = folder
            self._kinds = {}
            self._records = {}
            path = os.path.join(self.root, folder)  # noqa: PTH118
            try:
                names = os.listdir(path)  # noqa: PTH208
            except (FileNotFoundError, NotADirectoryError):
                names = []
            for name in names:
                parsed = parse_name(name)
                if parsed is None:
                    continue
                kinds = self._kinds.setdefault(parsed[0], set())
                if parsed[1] != RECORD_KIND:
                    kinds.add(parsed[1])
                    continue
                try:
                    record = read_record(os.path.join(path, name))  # noqa: PTH118
                except StoredFileError:
                    continue  # read again by the step that needs it, which says why
                self._records[parsed[0]] = record
                kinds.update(record)
        return self._kinds.get(stem, _NOTHING)

    def meta(self, media_id: str) -> MediaMeta | None:
        """The stored metadata; None when absent or unreadable (it is then made again)."""
        if META_KIND not in self.kinds(media_id):
            return None
        data = self._records.get(split_id(media_id)[1], {}).get(META_KIND)
        path = os.path.join(self.root, relative_path(media_id, META_KIND))  # noqa: PTH118
        try:
            if data is None:
                with open(path, "rb") as handle:  # noqa: PTH123
                    data = handle.read()
            return msgspec.json.decode(data, type=MediaMeta)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return None
