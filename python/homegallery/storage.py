"""Where derived files live in the storage folder, and how they are written.

Files are named by media id (blake3 hex of the content) as
``<dir>/<id[0:2]>/<id[2:4]>/<id[4:]>-<kind>``, so two copies of the same photo share
their previews, and a moved file keeps them. Every write is atomic (temp name +
rename): a finished-looking file is always complete, which lets every extractor decide
"already done" by existence alone.

The layout and the kinds are defined once, in the Rust core
(``rust/catalog/storage_layout.rs``), which reads the storage when it builds the
catalog; this module and :mod:`homegallery.extract.schema` take them from there.
"""

from __future__ import annotations

import os
import re
import shutil
from contextlib import AbstractContextManager
from pathlib import Path

from homegallery import _core
from homegallery.atomic import atomic_path, write_bytes

# Every kind by name (``meta``, ``image_preview``, …); a family has ``{}`` where its
# size, frame number or step goes.
KINDS: dict[str, str] = _core.STORAGE_KINDS

_MEDIA_ID = re.compile(r"^[0-9a-f]{8,128}$")
_KIND = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def relative_path(media_id: str, kind: str) -> str:
    """The path of a stored file below the storage root (``ab/cd/ef01…-meta.json``)."""
    return _core.storage_relative(media_id, kind)


def split_id(media_id: str) -> tuple[str, str]:
    """The folder below the storage root (``ab/cd``) and the name stem of a media id."""
    return _core.storage_split(media_id)


def parse_name(name: str) -> tuple[str, str] | None:
    """(stem, kind) of a name in a storage folder; None unless it is a finished file."""
    return _core.storage_name(name)


def kind_pattern(name: str, parameter: str) -> str:
    """A regular expression for the kinds of one family, ``parameter`` (a regular
    expression) where its size or number goes."""
    prefix, suffix = KINDS[name].split("{}")
    return re.escape(prefix) + parameter + re.escape(suffix)


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, media_id: str) -> Path:
        _check_id(media_id)
        return self.root / split_id(media_id)[0]

    def path(self, media_id: str, kind: str) -> Path:
        """Path of one derived file, e.g. kind ``image-preview-320.jpg``."""
        if not _KIND.match(kind):
            raise ValueError(f"invalid storage kind: {kind!r}")
        _check_id(media_id)
        return self.root / relative_path(media_id, kind)

    def relative(self, media_id: str, kind: str) -> str:
        """The path below the storage root, as the catalog and the web app name it."""
        return self.path(media_id, kind).relative_to(self.root).as_posix()

    def exists(self, media_id: str, kind: str) -> bool:
        return self.path(media_id, kind).is_file()

    def kinds(self, media_id: str) -> list[str]:
        """Kinds present for one media id (temporary files excluded)."""
        folder = self.folder(media_id)
        stem = split_id(media_id)[1]
        if not folder.is_dir():
            return []
        names = (parse_name(child.name) for child in folder.iterdir())
        return sorted(name[1] for name in names if name is not None and name[0] == stem)

    def write(self, media_id: str, kind: str, data: bytes) -> Path:
        target = self.path(media_id, kind)
        write_bytes(target, data)
        return target

    def share(self, media_id: str, source: Path, kind: str) -> Path:
        """Stores the file ``source`` again as ``kind`` without its bytes twice: a hard
        link, or a copy on file systems without them (FAT, exFAT)."""
        target = self.path(media_id, kind)
        with atomic_path(target) as temporary:
            temporary.unlink()
            try:
                os.link(source, temporary)
            except OSError:
                shutil.copyfile(source, temporary)
        return target

    def writing(self, media_id: str, kind: str) -> AbstractContextManager[Path]:
        """Context manager yielding a temp path that becomes the stored file on success."""
        return atomic_path(self.path(media_id, kind))

    def resolve_relative(self, relative: str) -> Path:
        """Maps a catalog path back to a file, refusing anything outside the storage."""
        candidate = (self.root / relative).resolve()
        root = self.root.resolve()
        if root not in candidate.parents:
            raise ValueError(f"path outside the storage: {relative!r}")
        return candidate


def _check_id(media_id: str) -> None:
    if not _MEDIA_ID.match(media_id):
        raise ValueError(f"invalid media id: {media_id!r}")
