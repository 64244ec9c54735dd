"""A media group plus what extract stored for it → one :class:`Entry`.

Reads the storage through one folder listing per id prefix (see
:class:`homegallery.extract.listing.StorageListing`), which is what makes a build of
100k entries a matter of seconds. A stored file that cannot be read does not stop
the build: the entry is made from what is readable and the problem is counted and
logged with the file's path.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import operator
import os
from collections.abc import Sequence
from pathlib import Path

import msgspec

from homegallery.catalog.entry import Entry, EntryFile, EntryType
from homegallery.catalog.grouping import MediaGroup
from homegallery.extract.schema import META_KIND, PLACE_KIND, MediaMeta, Place

log = logging.getLogger("homegallery.catalog")

_TYPES: dict[str, EntryType] = {"image": "image", "raw": "rawImage", "video": "video"}
_FILE_KINDS = frozenset({"image", "raw", "video", "sidecar"})
# MediaMeta fields an entry takes over as they are.
_COPIED = (
    "width", "height", "orientation", "mime", "format", "make", "model", "lens", "iso",
    "aperture", "exposure_time", "focal_length", "latitude", "longitude", "altitude",
    "title", "description", "duration", "rating",
)  # fmt: skip
_copy_from_meta = operator.attrgetter(*_COPIED)
_PLACE_FIELDS = ("country", "country_code", "state", "county", "city", "road")
_copy_from_place = operator.attrgetter(*_PLACE_FIELDS)
_META_DECODER = msgspec.json.Decoder(MediaMeta)
_PLACE_DECODER = msgspec.json.Decoder(Place)
# MediaMeta fields a RAW twin may fill in when the JPEG lacks them.
_FILLABLE = (
    "date", "make", "model", "lens", "iso", "aperture", "exposure_time", "focal_length",
    "latitude", "longitude", "altitude", "title", "description", "rating",
)  # fmt: skip


class StorageReader:
    """Kinds, metadata and places of media ids, read with one listing per folder.

    (Plain ``os`` calls and f-strings here, not pathlib: this runs per media file.)
    Ids are asked for in sorted order, so each storage folder is listed once; a few
    folders are kept because a RAW twin's id sends the reader elsewhere for a moment.
    """

    _FOLDERS_KEPT = 8

    def __init__(self, root: Path) -> None:
        self.root = os.fspath(root)
        self._folders: dict[str, dict[str, list[str]]] = {}
        self.problems: list[str] = []

    def kinds(self, media_id: str) -> list[str]:
        """Kinds stored for ``media_id``, sorted (temporary files left out)."""
        folder = self._folders.get(media_id[0:4])
        if folder is None:
            folder = self._list(media_id)
        return folder.get(media_id[4:], [])

    def _list(self, media_id: str) -> dict[str, list[str]]:
        if len(self._folders) >= self._FOLDERS_KEPT:
            self._folders.clear()
        folder: dict[str, list[str]] = {}
        self._folders[media_id[0:4]] = folder
        try:
            names = os.listdir(f"{self.root}/{media_id[0:2]}/{media_id[2:4]}")  # noqa: PTH208
        except (FileNotFoundError, NotADirectoryError):
            return folder
        for name in sorted(names):  # sorted here, so each id's kinds come sorted
            stem, separator, kind = name.partition("-")
            if separator and not name.startswith(".") and ".part" not in kind:
                folder.setdefault(stem, []).append(kind)
        return folder

    def _read(self, media_id: str, kind: str, decoder: msgspec.json.Decoder[object]) -> object:
        if kind not in self.kinds(media_id):
            return None
        path = f"{self.root}/{media_id[0:2]}/{media_id[2:4]}/{media_id[4:]}-{kind}"
        try:
            descriptor = os.open(path, os.O_RDONLY)
            try:
                data = b""
                while chunk := os.read(descriptor, 1 << 20):
                    data += chunk
            finally:
                os.close(descriptor)
            return decoder.decode(data)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError) as error:
            message = f"{path}: cannot read {kind}: {error}"
            log.warning("%s", message)
            self.problems.append(message)
            return None

    def meta(self, media_id: str) -> MediaMeta | None:
        value = self._read(media_id, META_KIND, _META_DECODER)  # type: ignore[arg-type]
        return value if isinstance(value, MediaMeta) else None

    def place(self, media_id: str) -> Place | None:
        value = self._read(media_id, PLACE_KIND, _PLACE_DECODER)  # type: ignore[arg-type]
        return value if isinstance(value, Place) else None


def storage_relative(media_id: str, kind: str) -> str:
    """The storage path the web app asks for (the layout of homegallery.storage)."""
    return f"{media_id[0:2]}/{media_id[2:4]}/{media_id[4:]}-{kind}"


def preview_kinds(kinds: Sequence[str]) -> list[str]:
    """Previews present, largest image preview first, then web video and poster."""
    return list(_preview_kinds(tuple(kinds)))


@functools.lru_cache(maxsize=256)  # a storage holds few combinations of kinds
def _preview_kinds(kinds: tuple[str, ...]) -> tuple[str, ...]:
    images: list[tuple[int, str]] = []
    others: list[str] = []
    for kind in kinds:
        if kind.startswith("image-preview-") and kind.endswith(".jpg"):
            size = kind[14:-4]
            if size.isdigit():
                images.append((int(size), kind))
        elif kind.startswith(("video-preview-", "video-frame-")):
            others.append(kind)
    images.sort(reverse=True)
    return tuple([kind for _, kind in images] + sorted(others, reverse=True))


def signature(group: MediaGroup, reader: StorageReader, has_vector: bool) -> str:
    """Changes whenever anything the entry is made from changes (files or storage)."""
    parts = [
        f"{file.source}\0{file.path}\0{file.size}\0{file.mtime_ns}\0{file.id}"
        for file in group.files
    ]
    parts.append("|".join(reader.kinds(group.id)))
    for twin in group.twin_ids:
        parts.append("|".join(reader.kinds(twin)))
    parts.append("v" if has_vector else "")
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=10).hexdigest()


def _merged_meta(group: MediaGroup, reader: StorageReader) -> MediaMeta | None:
    meta = reader.meta(group.id)
    for twin in group.twin_ids:
        other = reader.meta(twin)
        if other is None:
            continue
        if meta is None:
            meta = msgspec.structs.replace(other, type="image")
            continue
        changes = {
            name: getattr(other, name)
            for name in _FILLABLE
            if getattr(meta, name) is None and getattr(other, name) is not None
        }
        keywords = meta.keywords + [k for k in other.keywords if k not in meta.keywords]
        if changes or keywords != meta.keywords:
            meta = msgspec.structs.replace(meta, keywords=keywords, **changes)
    return meta


def _date_parts(date: str | None) -> tuple[int | None, ...]:
    """(year, month, day, hour, minute) of an ISO date; None where it does not say."""
    if not date or len(date) < 10 or not (date[0:4] + date[5:7] + date[8:10]).isdigit():
        return (None, None, None, None, None)
    year, month, day = int(date[0:4]), int(date[5:7]), int(date[8:10])
    if len(date) >= 16 and (date[11:13] + date[14:16]).isdigit():
        return (year, month, day, int(date[11:13]), int(date[14:16]))
    return (year, month, day, None, None)


def assemble(group: MediaGroup, reader: StorageReader, has_vector: bool) -> Entry:
    """The entry of one group, before user events are applied."""
    # Every field goes into one constructor call rather than being set one by one
    # afterwards: this runs per media file, and each attribute set is a Python call.
    fields: dict[str, object] = {}
    meta = _merged_meta(group, reader)
    if meta is not None:
        fields = dict(zip(_COPIED, _copy_from_meta(meta), strict=True))
        fields["date"] = meta.date
        year, month, day, hour, minute = _date_parts(meta.date)
        fields.update(year=year, month=month, day=day, hour=hour, minute=minute)
        fields["tags"] = list(dict.fromkeys(meta.keywords))
    place = reader.place(group.id)
    for twin in group.twin_ids:
        if place is not None:
            break
        place = reader.place(twin)
    if place is not None:
        fields.update(zip(_PLACE_FIELDS, _copy_from_place(place), strict=True))
    previews = [storage_relative(group.id, kind) for kind in preview_kinds(reader.kinds(group.id))]
    for twin in group.twin_ids:
        if previews:
            break
        previews = [storage_relative(twin, kind) for kind in preview_kinds(reader.kinds(twin))]
    files = [
        EntryFile(
            source=file.source,
            path=file.path,
            size=file.size,
            kind=file.kind if file.kind in _FILE_KINDS else "other",  # type: ignore[arg-type]
            id=file.id,
            mtime_ns=file.mtime_ns,
        )
        for file in group.ordered_files()
    ]
    # A paired group is an image whatever its RAW twin's metadata says.
    meta_type = meta.type if meta is not None and group.kind != "image" else None
    return Entry(
        id=group.id,
        type=meta_type or _TYPES.get(group.kind, "image"),
        files=files,
        previews=previews,
        has_vector=has_vector,
        **fields,  # type: ignore[arg-type]
    )
