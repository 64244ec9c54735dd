"""What the storage already holds, read a folder at a time, for planning big runs fast.

(Plain ``os`` calls and strings here, not pathlib: this is the hot path of planning.)

Planning a run over an unchanged gallery must cost next to nothing, yet it asks
"is this file there?" several times per media file. One ``os.listdir`` per storage
folder answers all of them for the ids in that folder (ids share a folder by their
first four hex digits), where a stat per question through pathlib costs ~40 µs each.
Callers walk ids in sorted order, so one folder is listed once and only the current
folder's names are held in memory.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from homegallery.extract.schema import META_KIND, MediaMeta
from homegallery.storage import parse_name, relative_path, split_id

_NOTHING: frozenset[str] = frozenset()


class StorageListing:
    def __init__(self, root: Path) -> None:
        self.root = os.fspath(root)
        self._folder = ""
        self._kinds: dict[str, set[str]] = {}

    def kinds(self, media_id: str) -> frozenset[str] | set[str]:
        """Kinds stored for ``media_id`` (temporary files left out)."""
        folder, stem = split_id(media_id)
        if folder != self._folder:
            self._folder = folder
            self._kinds = {}
            try:
                names = os.listdir(os.path.join(self.root, folder))  # noqa: PTH118, PTH208
            except (FileNotFoundError, NotADirectoryError):
                names = []
            for name in names:
                parsed = parse_name(name)
                if parsed is not None:
                    self._kinds.setdefault(parsed[0], set()).add(parsed[1])
        return self._kinds.get(stem, _NOTHING)

    def forget(self, media_id: str) -> None:
        """Drops the cached folder (after new files were written into it)."""
        if split_id(media_id)[0] == self._folder:
            self._folder = ""

    def meta(self, media_id: str) -> MediaMeta | None:
        """The stored metadata; None when absent or unreadable (it is then made again)."""
        if META_KIND not in self.kinds(media_id):
            return None
        path = os.path.join(self.root, relative_path(media_id, META_KIND))  # noqa: PTH118
        try:
            with open(path, "rb") as handle:  # noqa: PTH123
                return msgspec.json.decode(handle.read(), type=MediaMeta)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return None
