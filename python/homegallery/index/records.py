"""The per-source index file: one record per file, written atomically.

Format: msgpack (msgspec) of ``{"version": 1, "source": <dir>, "entries": [...]}``
with each entry an array ``[path, size, mtime_ns, ctime_ns, inode, device, id,
kind]``. The path is stored as the raw bytes of the file name (``os.fsencode``), so
names that are not valid UTF-8 survive; in Python it is a ``str`` decoded like
``os.fsdecode``, which opens the same file again.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from homegallery.atomic import write_bytes
from homegallery.errors import HomeGalleryError

FORMAT_VERSION = 1


def portable_path(path: str) -> str:
    """A path as UTF-8 text can carry it (JSON, the catalog): a name that is not
    UTF-8 on disk, decoded like ``os.fsdecode``, gets U+FFFD for the bytes it cannot
    show, and no longer opens the file."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class IndexEntry(msgspec.Struct, frozen=True):
    path: str
    """Relative to the source folder, ``/``-separated."""
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int
    id: str
    """blake3 hex digest of the content: the media id."""
    kind: str
    """``image``, ``raw``, ``video``, ``sidecar`` or ``other`` (by extension)."""


class _StoredEntry(msgspec.Struct, array_like=True):
    path: bytes
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int
    id: str
    kind: str


class _StoredIndex(msgspec.Struct):
    version: int
    source: str
    entries: list[_StoredEntry]


class IndexFileError(HomeGalleryError):
    """An index file that cannot be read; the message names the file."""


_DECODER = msgspec.msgpack.Decoder(_StoredIndex)
_ENCODER = msgspec.msgpack.Encoder()


def load_index(index_file: Path) -> list[IndexEntry]:
    """Entries of an index file, sorted by path; [] when the file does not exist."""
    try:
        data = index_file.read_bytes()
    except FileNotFoundError:
        return []
    try:
        stored = _DECODER.decode(data)
    except msgspec.DecodeError as error:
        raise IndexFileError(f"{index_file}: unreadable index file: {error}") from None
    if stored.version != FORMAT_VERSION:
        raise IndexFileError(
            f"{index_file}: index format {stored.version} is not supported "
            f"(this version reads {FORMAT_VERSION})"
        )
    return [
        IndexEntry(
            os.fsdecode(e.path), e.size, e.mtime_ns, e.ctime_ns, e.inode, e.device, e.id, e.kind
        )
        for e in stored.entries
    ]


def save_index(index_file: Path, source_dir: str, entries: list[IndexEntry]) -> None:
    stored = _StoredIndex(
        FORMAT_VERSION,
        source_dir,
        [
            _StoredEntry(
                os.fsencode(e.path), e.size, e.mtime_ns, e.ctime_ns, e.inode, e.device, e.id, e.kind
            )
            for e in sorted(entries, key=lambda entry: entry.path)
        ],
    )
    write_bytes(index_file, _ENCODER.encode(stored))
