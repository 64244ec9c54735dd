"""What each query key means: which catalog column it reads and how values parse.

The one table the compiler consults, so adding a searchable field is one line here
(plus its column in the catalog schema). Keys are matched without case, except the
one-letter keys of HomeGallery where ``m`` is the month and ``M`` the minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FieldKind = Literal[
    "number",
    "text",
    "date",
    "list",
    "count",
    "files",
    "id",
    "type",
    "ratio",
    "bool",
    "similar",
    "duplicates",
]


@dataclass(frozen=True)
class Field:
    name: str  # canonical name, used in messages
    kind: FieldKind
    sql: str  # column expression over alias `e`; for lists/files the sub-key or column
    count_column: str = ""  # for count(key) and exists(key) of lists
    orderable: bool = True


def _number(name: str, column: str | None = None) -> Field:
    return Field(name, "number", f"e.{column or name}")


def _text(name: str, sql: str | None = None) -> Field:
    return Field(name, "text", sql or f"e.{name}")


_PLACE_SQL = (
    "(coalesce(e.country, '') || ' ' || coalesce(e.state, '') || ' ' || "
    "coalesce(e.county, '') || ' ' || coalesce(e.city, '') || ' ' || coalesce(e.road, ''))"
)
_CAMERA_SQL = "(coalesce(e.make, '') || ' ' || coalesce(e.model, ''))"

FIELDS: dict[str, Field] = {
    "id": Field("id", "id", "e.id"),
    "type": Field("type", "type", "e.type"),
    "date": Field("date", "date", "e.date"),
    "year": _number("year"),
    "month": _number("month"),
    "day": _number("day"),
    "hour": _number("hour"),
    "minute": _number("minute"),
    "width": _number("width"),
    "height": _number("height"),
    "orientation": _number("orientation"),
    "iso": _number("iso"),
    "aperture": _number("aperture"),
    "exposure": _number("exposure", "exposure_time"),
    "focal": _number("focal", "focal_length"),
    "latitude": _number("latitude"),
    "longitude": _number("longitude"),
    "altitude": _number("altitude"),
    "duration": _number("duration"),
    "rating": _number("rating"),
    "size": _number("size"),
    "make": _text("make"),
    "model": _text("model"),
    "camera": Field("camera", "text", _CAMERA_SQL, orderable=False),
    "lens": _text("lens"),
    "country": _text("country"),
    "countrycode": _text("countrycode", "e.country_code"),
    "state": _text("state"),
    "county": _text("county"),
    "city": _text("city"),
    "road": _text("road"),
    "place": Field("place", "text", _PLACE_SQL, orderable=False),
    "title": _text("title"),
    "description": _text("description"),
    "mime": _text("mime"),
    "format": _text("format"),
    "tag": Field("tag", "list", "tag", "e.tag_count", orderable=False),
    "object": Field("object", "list", "object", "e.object_count", orderable=False),
    "label": Field("label", "list", "label", "e.label_count", orderable=False),
    "face": Field("face", "count", "", "e.face_count", orderable=False),
    "file": Field("file", "files", "name", "e.file_count", orderable=False),
    "path": Field("path", "files", "path", "e.file_count", orderable=False),
    "ext": Field("ext", "files", "ext", "e.file_count", orderable=False),
    "index": Field("index", "files", "source", "e.file_count", orderable=False),
    # a file in this folder or below: `folder:<source folder's name>/<path>`
    "folder": Field("folder", "files", "folder", "e.file_count", orderable=False),
    "preview": Field("preview", "count", "", "e.preview_count", orderable=False),
    "ratio": Field("ratio", "ratio", "e.ratio"),
    "favorite": Field("favorite", "bool", "e.favorite"),
    "similar": Field("similar", "similar", "", orderable=False),
    "duplicates": Field("duplicates", "duplicates", "", orderable=False),
}

_ALIASES: dict[str, str] = {
    "tags": "tag",
    "keyword": "tag",
    "keywords": "tag",
    "objects": "object",
    "labels": "label",
    "faces": "face",
    "files": "file",
    "filename": "file",
    "name": "file",
    "extension": "ext",
    "source": "index",
    "previews": "preview",
    "duplicate": "duplicates",
    "lat": "latitude",
    "lon": "longitude",
    "lng": "longitude",
    "alt": "altitude",
    "exposure_time": "exposure",
    "exposuretime": "exposure",
    "focal_length": "focal",
    "focallength": "focal",
    "country_code": "countrycode",
    "fav": "favorite",
    "favourite": "favorite",
    "created": "date",
    "time": "date",
    "min": "minute",
    "dur": "duration",
    "length": "duration",
}
_SHORT_KEYS = {"y": "year", "m": "month", "d": "day", "H": "hour", "h": "hour", "M": "minute"}

# `exists geo` and friends: words that stand for "has a GPS position".
GEO_WORDS = frozenset({"geo", "location", "gps", "position"})
# Bare words that select by aspect ratio rather than by text.
RATIO_WORDS = frozenset({"landscape", "portrait", "square", "panorama"})
# Bare words for the entries with a near-duplicate (cosine >= DEFAULT_DUPLICATE_SCORE);
# `duplicates:0.95` asks for another cosine, from DUPLICATE_FLOOR (what the build keeps).
DUPLICATE_WORDS = frozenset({"duplicates", "duplicate"})
DEFAULT_DUPLICATE_SCORE = 0.9
DUPLICATE_FLOOR = 0.85


def lookup(key: str) -> Field | None:
    """The field a key names (with short keys and aliases), or None."""
    if key in _SHORT_KEYS:
        return FIELDS[_SHORT_KEYS[key]]
    lowered = key.lower()
    return FIELDS.get(_ALIASES.get(lowered, lowered))


def known_keys() -> str:
    """A short list of keys for error messages."""
    return "year, month, day, date, tag, type, country, city, make, model, file, width, …"
