"""The catalog entry: one per media id, as scripts and the web app receive it.

Field names follow HomeGallery's database entry where it has one (``id``, ``type``,
``date``, ``year`` … ``files``, ``previews``) so its users recognise them; exposure and
focal length keep the units of :class:`~homegallery.extract.schema.MediaMeta`.
Entries are msgspec Structs: decoding thousands from the catalog costs microseconds
each, and they encode straight to JSON for the HTTP API.
"""

from __future__ import annotations

from typing import Literal

import msgspec

EntryType = Literal["image", "rawImage", "video"]
FileKind = Literal["image", "raw", "video", "sidecar", "other"]


class EntryFile(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One file of an entry: the media itself, a copy, its RAW or JPEG twin, a sidecar."""

    source: str  # the source folder (absolute) the path is relative to
    path: str  # POSIX, relative to the source folder
    size: int
    kind: FileKind
    id: str = ""  # content id of this file (the entry id for the main file and copies)
    mtime_ns: int = 0


class DetectedObject(msgspec.Struct, kw_only=True, omit_defaults=True):
    class_: str = msgspec.field(name="class")
    score: float
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # x, y, width, height


class Label(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An ImageNet class the embedding model saw, at least as probable as the threshold.

    ``id`` is the class's WordNet id ("n02088364"): it brings the words that find the
    label (``beagle``, ``dog``, ``animal``; see :mod:`homegallery.ml.labels`).
    """

    id: str = ""
    name: str
    score: float


class Face(msgspec.Struct, kw_only=True, omit_defaults=True):
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    score: float = 0.0
    age: float | None = None
    gender: str | None = None


class Entry(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: str
    type: EntryType
    date: str | None = None  # ISO 8601, with the UTC offset when the file says it
    year: int | None = None
    month: int | None = None
    day: int | None = None
    hour: int | None = None
    minute: int | None = None
    width: int | None = None  # as displayed (after orientation)
    height: int | None = None
    orientation: int = 1
    mime: str | None = None
    format: str | None = None
    make: str | None = None
    model: str | None = None
    lens: str | None = None
    iso: int | None = None
    aperture: float | None = None
    exposure_time: float | None = None  # seconds
    focal_length: float | None = None  # millimetres
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None
    country: str | None = None
    country_code: str | None = None
    state: str | None = None
    county: str | None = None
    city: str | None = None
    road: str | None = None
    title: str | None = None
    description: str | None = None
    duration: float | None = None  # seconds (videos)
    rating: int | None = None
    favorite: bool = False
    tags: list[str] = msgspec.field(default_factory=list)
    objects: list[DetectedObject] = msgspec.field(default_factory=list)
    labels: list[Label] = msgspec.field(default_factory=list)  # most probable first
    faces: list[Face] = msgspec.field(default_factory=list)
    files: list[EntryFile] = msgspec.field(default_factory=list)
    previews: list[str] = msgspec.field(default_factory=list)  # storage-relative paths
    has_vector: bool = False  # a similarity code is in the catalog

    @property
    def size(self) -> int:
        """Bytes of the main file."""
        return self.files[0].size if self.files else 0
