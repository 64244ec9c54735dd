"""Index files → media groups, the unit that becomes one catalog entry.

One entry per media id: copies of the same content (in one source or several) are
listed as files of one entry. A RAW and a JPEG with the same base name in the same
folder are one photo taken once, so they become one entry whose main file is the
JPEG (it shows what the photographer kept); ``.xmp`` and other sidecars join the media
of the same base name (``IMG_1.xmp`` and ``IMG_1.CR2.xmp`` both belong to ``IMG_1.CR2``).

The grouping itself runs in the Rust core (``rust/catalog/grouping.rs``): a build
groups every indexed file each time, and at a million files the Python objects of a
grouping alone cost seconds. This module hands it the files column by column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from homegallery import _core
from homegallery._core import BuildPlan
from homegallery.index.records import portable_path

MEDIA_KINDS = frozenset(_core.MEDIA_KINDS)  # index kinds that make an entry


class IndexedFile(Protocol):
    """What the build needs of an index record (``homegallery.index.IndexEntry``)."""

    @property
    def path(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def mtime_ns(self) -> int: ...
    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...


@dataclass(frozen=True)
class SourceFiles:
    """The indexed files of one source folder."""

    source: str  # the source folder, absolute
    files: Sequence[IndexedFile]
    index: str = ""  # its index's name (HomeGallery's `index:`); "": the folder's name


SourceColumns = tuple[str, list[str], list[int], list[int], list[str], list[str]]


class GroupFile(NamedTuple):
    source: str
    path: str
    size: int
    mtime_ns: int
    id: str
    kind: str


@dataclass(slots=True)
class MediaGroup:
    """The files of one entry; ``id`` is the main file's content id."""

    id: str
    kind: str  # index kind of the main file
    files: list[GroupFile] = field(default_factory=list)
    twin_ids: list[str] = field(default_factory=list)  # RAW ids paired with the main JPEG


def _columns(source: SourceFiles, problems: list[str]) -> SourceColumns:
    """One source's files as the core takes them, column by column.

    A name that is not UTF-8 on disk comes from the index decoded like
    ``os.fsdecode``; the catalog shows it with U+FFFD for the undecodable bytes (its
    previews work, as they go by content id, but its original cannot be served).
    """
    files = source.files
    name = source.source
    paths = [record.path for record in files]
    kinds = [record.kind for record in files]
    try:  # nearly every index: one check in C instead of one per name
        "\n".join(paths).encode("utf-8")
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = portable_path(name)
        for row, (path, kind) in enumerate(zip(paths, kinds, strict=True)):
            carried = portable_path(path)
            if (carried, shown) != (path, name):
                paths[row] = carried
                if kind in MEDIA_KINDS or kind == "sidecar":
                    problems.append(
                        f"{shown}/{carried}: the name is not UTF-8; the catalog shows it "
                        "with U+FFFD and cannot serve the original"
                    )
        name = shown
    return (
        name,
        paths,
        [record.size for record in files],
        [record.mtime_ns for record in files],
        [record.id for record in files],
        kinds,
    )


def plan_build(sources: Iterable[SourceFiles], stored: str = "") -> tuple[BuildPlan, list[str]]:
    """The media groups of every source's files, by id (the grouping runs in the core:
    RAW+JPEG pairs, copies, sidecars), with the catalog's ``stored`` signatures
    (``id:signature`` lines); and the problems met (names that are not UTF-8)."""
    problems: list[str] = []
    columns = [_columns(source, problems) for source in sources]
    return BuildPlan(columns, stored), problems


def group_files(sources: Iterable[SourceFiles]) -> list[MediaGroup]:
    """Groups every source's files into media entries (ordered by id)."""
    plan, _ = plan_build(sources)
    return [
        MediaGroup(media_id, kind, [GroupFile(*file) for file in files], twins)
        for media_id, kind, files, twins in plan.groups(0, len(plan))
    ]
