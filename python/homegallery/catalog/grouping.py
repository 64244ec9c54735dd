"""Index files → media groups, the unit that becomes one catalog entry.

One entry per media id: copies of the same content (in one source or several) are
listed as files of one entry. A RAW and a JPEG with the same base name in the same
folder are one photo taken once, so they become one entry whose main file is the
JPEG (it shows what the photographer kept); ``.xmp`` and other sidecars join the media
of the same base name (``IMG_1.xmp`` and ``IMG_1.CR2.xmp`` both belong to ``IMG_1.CR2``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

MEDIA_KINDS = frozenset({"image", "raw", "video"})


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


def _split(path: str) -> tuple[str, str, str]:
    """``a/b/IMG_1.JPG`` → (``a/b``, ``img_1``, ``img_1.jpg``)."""
    folder, _, name = path.rpartition("/")
    lowered = name.lower()
    stem = lowered.rpartition(".")[0] or lowered
    return folder, stem, lowered


_StemKey = tuple[str, str, str]  # (source, folder, lower-case name without extension)


@dataclass
class _Listing:
    files: list[GroupFile] = field(default_factory=list)  # every file, in index order
    by_stem: dict[_StemKey, list[GroupFile]] = field(default_factory=dict)  # media only
    sidecars: list[GroupFile] = field(default_factory=list)


def group_files(sources: Iterable[SourceFiles]) -> list[MediaGroup]:
    """Groups every source's files into media entries (ordered by id)."""
    listing = _list(sources)
    absorbed = _pairs(listing.by_stem)
    groups = _groups(listing.files, absorbed)
    _attach_sidecars(listing, absorbed, groups)
    return [groups[media_id] for media_id in sorted(groups)]


def _list(sources: Iterable[SourceFiles]) -> _Listing:
    """Every file as a GroupFile; media by folder and base name (the candidates for
    RAW+JPEG pairs and for sidecars), and the sidecars."""
    # (This runs once per indexed file in every build: tuples are made without the
    # named tuple's Python-level constructor, and the name split is written inline.)
    make_file = tuple.__new__
    listing = _Listing()
    by_stem = listing.by_stem
    for source in sources:
        name = source.source
        for record in source.files:
            kind = record.kind
            file: GroupFile = make_file(
                GroupFile,
                (name, record.path, int(record.size), int(record.mtime_ns), record.id, kind),
            )
            listing.files.append(file)
            if kind in MEDIA_KINDS:
                folder, _, base = record.path.rpartition("/")
                lowered = base.lower()
                key = (name, folder, lowered.rpartition(".")[0] or lowered)
                members = by_stem.get(key)
                if members is None:
                    by_stem[key] = [file]
                else:
                    members.append(file)
            elif kind == "sidecar":
                listing.sidecars.append(file)
    return listing


def _pairs(by_stem: dict[_StemKey, list[GroupFile]]) -> dict[str, str]:
    """RAW id → id of the one JPEG of the same folder and base name it is paired with."""
    absorbed: dict[str, str] = {}
    for members in by_stem.values():
        if len(members) < 2:
            continue
        images = {file.id for file in members if file.kind == "image"}
        raws = {file.id for file in members if file.kind == "raw"}
        if len(images) == 1 and raws:
            (main,) = images
            for raw in raws:
                absorbed.setdefault(raw, main)
    return absorbed


def _groups(files: list[GroupFile], absorbed: dict[str, str]) -> dict[str, MediaGroup]:
    """One group per media id, a paired RAW in its JPEG's group."""
    groups: dict[str, MediaGroup] = {}
    for file in files:
        file_id, kind = file.id, file.kind
        if kind not in MEDIA_KINDS:
            continue
        entry_id = absorbed.get(file_id, file_id) if absorbed else file_id
        group = groups.get(entry_id)
        if group is None:
            # A RAW is only ever absorbed into a JPEG, so a group it joins is an image.
            group = groups[entry_id] = MediaGroup(
                entry_id, kind if file_id == entry_id else "image", [file]
            )
        else:
            group.files.append(file)
        if file_id != entry_id and file_id not in group.twin_ids:
            group.twin_ids.append(file_id)
    return groups


def _attach_sidecars(
    listing: _Listing, absorbed: dict[str, str], groups: dict[str, MediaGroup]
) -> None:
    """Each sidecar joins the media of its base name (IMG_1.xmp) or its full name
    (IMG_1.jpg.xmp) in the same folder, once per entry."""
    for sidecar in listing.sidecars:
        attached: set[str] = set()
        for target in _sidecar_targets(sidecar, listing.by_stem):
            entry_id = absorbed.get(target.id, target.id)
            if entry_id not in attached:
                attached.add(entry_id)
                groups[entry_id].files.append(sidecar)


def _sidecar_targets(
    sidecar: GroupFile, by_stem: dict[_StemKey, list[GroupFile]]
) -> list[GroupFile]:
    folder, stem, _ = _split(sidecar.path)
    targets = by_stem.get((sidecar.source, folder, stem), [])
    if targets or "." not in stem:
        return targets
    inner_stem = stem.rpartition(".")[0]  # IMG_1.jpg.xmp → media named IMG_1.jpg
    candidates = by_stem.get((sidecar.source, folder, inner_stem), [])
    return [file for file in candidates if _split(file.path)[2] == stem]
