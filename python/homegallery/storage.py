"""Where derived files live in the storage folder, and how they are written.

Files are named by media id (blake3 hex of the content) as
``<dir>/<id[0:2]>/<id[2:4]>/<id[4:]>-<kind>``, so two copies of the same photo share
their previews, and a moved file keeps them. Every write is atomic (temp name +
rename): a finished-looking file is always complete, which lets every extractor decide
"already done" by existence alone.

The small kinds (JSON and ``.npy``: metadata, place, failure records, model outputs,
whatever a later step adds) live together in the id's record, ``<id[4:]>-record.bin``
(``in_record``): on ext4 each file of its own took a 4 KiB block for a few hundred
bytes. Every kind goes through the same calls (``write``, ``get``, ``exists``,
``delete``, ``kinds``), which put it in the record or in a file of its own; a new
step's kind needs nothing more. Changing a record is read, change, write whole under
a lock on the id's folder (two processes storing different kinds of one id lose
neither), and the write is atomic like any other. A storage written before records
keeps such kinds as files of their own: they are read as before, folded into the
record the next time the id's record changes, and ``fold`` (``homegallery storage
compact``) folds a whole storage at once.

The layout and the kinds are defined once, in the Rust core
(``rust/catalog/storage_layout.rs``), which reads the storage when it builds the
catalog; this module and :mod:`homegallery.extract.schema` take them from there.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from homegallery import _core
from homegallery.atomic import atomic_path, write_bytes
from homegallery.errors import HomeGalleryError

# Every kind by name (``meta``, ``image_preview``, …); a family has ``{}`` where its
# size, frame number or step goes.
KINDS: dict[str, str] = _core.STORAGE_KINDS

RECORD_KIND = KINDS["record"]

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


def in_record(kind: str) -> bool:
    """Whether ``kind`` is kept in the id's record rather than a file of its own."""
    return _core.storage_in_record(kind)


class StoredFileError(HomeGalleryError, ValueError):
    """A stored file exists but cannot be read (names the file and the cause)."""


def decode_record(data: bytes, where: object = "record") -> dict[str, bytes]:
    """The parts of a record by kind; StoredFileError when it is not one."""
    try:
        return dict(_core.storage_record_decode(data))
    except ValueError as error:
        raise StoredFileError(f"{where}: cannot read the record: {error}") from None


def read_record(path: str | Path) -> dict[str, bytes]:
    """The parts of the record file at ``path``; empty when there is none."""
    try:
        with open(path, "rb") as handle:  # noqa: PTH123 - hot path, plain calls
            data = handle.read()
    except (FileNotFoundError, NotADirectoryError):
        return {}
    return decode_record(data, path)


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on one storage folder, for changing a record in it."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


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
        if in_record(kind) and kind in self._readable_record(media_id):
            return True
        return self.path(media_id, kind).is_file()

    def get(self, media_id: str, kind: str) -> bytes | None:
        """The bytes of one stored kind, from the record or its own file; None if absent."""
        if in_record(kind):
            found = self.record(media_id).get(kind)
            if found is not None:
                return found
        try:
            return self.path(media_id, kind).read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def record(self, media_id: str) -> dict[str, bytes]:
        """The parts of the id's record (without the files of an older storage)."""
        return read_record(self.path(media_id, RECORD_KIND))

    def _readable_record(self, media_id: str) -> dict[str, bytes]:
        """The record's parts, none when it is broken (reading a kind says why)."""
        try:
            return self.record(media_id)
        except StoredFileError:
            return {}

    def kinds(self, media_id: str) -> list[str]:
        """Kinds present for one media id, in files or its record (temporary files excluded)."""
        folder = self.folder(media_id)
        stem = split_id(media_id)[1]
        if not folder.is_dir():
            return []
        names = (parse_name(child.name) for child in folder.iterdir())
        found = {name[1] for name in names if name is not None and name[0] == stem}
        if RECORD_KIND in found:
            found.discard(RECORD_KIND)
            found.update(self._readable_record(media_id))
        return sorted(found)

    def write(self, media_id: str, kind: str, data: bytes) -> Path:
        """Stores ``data`` as ``kind``: into the record, or as a file; the path written."""
        if in_record(kind):
            return self.change_record(media_id, {kind: data})
        target = self.path(media_id, kind)
        write_bytes(target, data)
        return target

    def delete(self, media_id: str, kind: str) -> None:
        """Removes one stored kind (from the record, and its file of an older storage)."""
        if in_record(kind):
            if self.exists(media_id, kind):
                self.change_record(media_id, {kind: None})
            return
        self.path(media_id, kind).unlink(missing_ok=True)

    def change_record(self, media_id: str, changes: Mapping[str, bytes | None]) -> Path:
        """Sets (bytes) or removes (None) kinds of the id's record in one atomic write.

        The id's files of an older storage are folded in (the record's part wins over
        a file of the same kind) and removed once the record holding them is written,
        so a crash at any point leaves every kind readable. A record left with no
        parts is removed.
        """
        for kind in changes:
            if not in_record(kind) or not _KIND.match(kind):
                raise ValueError(f"not a kind of the record: {kind!r}")
        folder = self.folder(media_id)
        folder.mkdir(parents=True, exist_ok=True)
        target = self.path(media_id, RECORD_KIND)
        with _folder_lock(folder):
            loose = self._loose(media_id)
            parts = self._parts_with(media_id, loose)
            for kind, data in changes.items():
                if data is None:
                    parts.pop(kind, None)
                else:
                    parts[kind] = data
            if parts:
                write_bytes(target, _core.storage_record_encode(sorted(parts.items())))
            else:
                target.unlink(missing_ok=True)
            for path in loose.values():
                path.unlink(missing_ok=True)
        return target

    def _parts_with(self, media_id: str, loose: dict[str, Path]) -> dict[str, bytes]:
        """The record's parts and the kinds of ``loose`` files it lacks."""
        try:
            parts = self.record(media_id)
        except StoredFileError:
            parts = {}  # unreadable: what it held is lost already; write anew
        for kind, path in loose.items():
            if kind not in parts:
                try:
                    parts[kind] = path.read_bytes()
                except FileNotFoundError:
                    continue
        return parts

    def fold(self, media_id: str) -> bool:
        """Moves the id's small kinds kept as files (older storages) into its record;
        True when there were any."""
        if not self._loose(media_id):
            return False
        self.change_record(media_id, {})
        return True

    def _loose(self, media_id: str) -> dict[str, Path]:
        """The id's record kinds kept as files of their own (an older storage)."""
        folder = self.folder(media_id)
        stem = split_id(media_id)[1]
        try:
            children = list(folder.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return {}
        found = {}
        for child in children:
            name = parse_name(child.name)
            if (
                name is not None
                and name[0] == stem
                and name[1] != RECORD_KIND
                and in_record(name[1])
            ):
                found[name[1]] = child
        return found

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
