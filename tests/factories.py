"""The test records, made one way for every suite: media ids, index records, files.

A build reads index records through the small protocol
``homegallery.catalog.grouping.IndexedFile``; the records here carry exactly those
fields, made from numbers (for hand-written cases) or from a real folder (blake3 of
each file, its kind by the index's own rule).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import blake3

from homegallery.catalog.entry import EntryFile
from homegallery.index.kinds import kind_of

MTIME_NS = 1_700_000_000_000_000_000  # a fixed time (November 2023) for made-up files


def fake_id(number: int) -> str:
    """The media id ``number`` written as 64 hex digits (ids sort as the numbers do)."""
    return f"{number:064x}"


def media_id(prefix: str) -> str:
    """A media id starting with ``prefix`` (hex), padded with zeros to 64 digits."""
    return prefix + "0" * (64 - len(prefix))


@dataclass(frozen=True)
class Indexed:
    """The fields of a file index record that the build reads."""

    path: str
    size: int
    mtime_ns: int
    id: str
    kind: str


def record(
    path: str, number: int, kind: str = "image", size: int = 1000, media: str | None = None
) -> Indexed:
    """An index record of a made-up file: id ``fake_id(number)`` unless ``media`` says."""
    return Indexed(path, size, MTIME_NS + number, media or fake_id(number), kind)


def index_folder(folder: Path) -> list[Indexed]:
    """Index records of every file below ``folder``, as the index would make them."""
    records = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            relative = path.relative_to(folder).as_posix()
            digest = blake3.blake3(path.read_bytes()).hexdigest()
            records.append(
                Indexed(relative, stat.st_size, stat.st_mtime_ns, digest, kind_of(relative))
            )
    return records


def entry_file(
    path: str, media: str, kind: str = "image", size: int = 1000, source: str = "/photos"
) -> EntryFile:
    """A file of an entry (``media`` is the file's own content id)."""
    return EntryFile(source=source, path=path, size=size, kind=kind, id=media)  # type: ignore[arg-type]
