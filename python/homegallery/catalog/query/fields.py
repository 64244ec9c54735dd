"""What each query key means: its kind, the catalog column it reads, its operators.

The one table of the query language. The checker (:mod:`.check`) resolves every key
and value through it, and the engine (:mod:`.evaluate`) reads the columns it names,
so adding a searchable field is one line in ``FIELDS`` (plus its column in the
catalog, see ``NUMBER_COLUMNS``/``TEXT_COLUMNS`` in :mod:`homegallery.catalog.columns`).
Keys are matched without case, except the one-letter keys of HomeGallery where ``m``
is the month and ``M`` the minute.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Literal

from homegallery.catalog.query.ast import Operator

FieldKind = Literal[
    "number", "text", "date", "values", "count", "files", "id", "type", "ratio", "bool", "similar",
    "duplicates", "clip",
]  # fmt: skip

_ORDERING: tuple[Operator, ...] = (":", "=", "!=", "<", "<=", ">", ">=")
_MATCHING: tuple[Operator, ...] = (":", "~", "=", "!=")

# The operators each kind takes, and how an error message lists them.
OPERATORS: dict[FieldKind, tuple[tuple[Operator, ...], str]] = {
    "number": (_ORDERING, "=, !=, <, <=, > or >="),
    "count": (_ORDERING, "=, <, >"),
    "date": ((*_ORDERING, "~"), ""),
    "ratio": (_ORDERING, "=, <, >, or a word such as panorama"),
    "text": (_MATCHING, ":, ~, = or !="),
    "files": (_MATCHING, ":, ~, = or !="),
    "values": (_MATCHING, ":, =, != or ~ (or count(...) for numbers)"),
    "id": (_MATCHING, ":, =, != or ~"),
    "type": ((":", "=", "!="), ":, = or !="),
    "bool": ((":", "=", "!="), ": or ="),
    "similar": ((":", "="), ":"),
    "duplicates": ((":", "=", ">="), ": (duplicates:0.95)"),
    "clip": ((":", "="), ': (text:"a dog on the beach")'),
}


@dataclass(frozen=True)
class Field:
    name: str  # canonical name, used in messages
    kind: FieldKind
    column: str = ""  # numbers, text, bool: the entries column; values: the key in
    # entry_values; files: the entry_files column (``source`` by its folder's name)
    parts: tuple[str, ...] = ()  # text joined from several columns by spaces
    count: str = ""  # the count column of a key with many values: count(), exists, faces:3
    orderable: bool = True
    whole: bool = False  # files: compared whole (an extension), never by a part of it
    operators: tuple[tuple[Operator, ...], str] | None = None  # instead of its kind's
    # `order by <key>` without a direction: largest or newest first (as HomeGallery)
    descending: bool = False


def _number(name: str, column: str | None = None, descending: bool = False) -> Field:
    return Field(name, "number", column or name, descending=descending)


def _text(name: str, column: str | None = None) -> Field:
    return Field(name, "text", column or name)


def _files(name: str, column: str, whole: bool = False) -> Field:
    operators: tuple[tuple[Operator, ...], str] | None = None
    if whole:
        operators = ((":", "=", "!="), ":, = or !=")
    return Field(
        name, "files", column, count="file_count", orderable=False, whole=whole,
        operators=operators,
    )  # fmt: skip


FIELDS: dict[str, Field] = {
    "id": Field("id", "id"),
    "type": Field("type", "type", "type"),
    "date": Field("date", "date", "date", descending=True),
    # when the entry last changed: made anew by a build, or a tag, favourite, rating
    "updated": Field("updated", "date", "updated", descending=True),
    "year": _number("year"),
    "month": _number("month"),
    "day": _number("day"),
    "hour": _number("hour"),
    "minute": _number("minute"),
    "width": _number("width", descending=True),
    "height": _number("height", descending=True),
    "orientation": _number("orientation"),
    "iso": _number("iso"),
    "aperture": _number("aperture"),
    "exposure": _number("exposure", "exposure_time"),
    "focal": _number("focal", "focal_length"),
    "latitude": _number("latitude"),
    "longitude": _number("longitude"),
    "altitude": _number("altitude"),
    "duration": _number("duration", descending=True),
    "rating": _number("rating"),
    "size": _number("size", descending=True),  # bytes of the files; HomeGallery's filesize
    "make": _text("make"),
    "model": _text("model"),
    "camera": Field("camera", "text", parts=("make", "model"), orderable=False),
    "lens": _text("lens"),
    "country": _text("country"),
    "countrycode": _text("countrycode", "country_code"),
    "state": _text("state"),
    "county": _text("county"),
    "city": _text("city"),
    "road": _text("road"),
    "place": Field(
        "place", "text", parts=("country", "state", "county", "city", "road"), orderable=False
    ),
    "title": _text("title"),
    "description": _text("description"),
    "mime": _text("mime"),
    "format": _text("format"),
    "tag": Field("tag", "values", "tag", count="tag_count", orderable=False),
    "object": Field("object", "values", "object", count="object_count", orderable=False),
    "label": Field("label", "values", "label", count="label_count", orderable=False),
    "face": Field("face", "count", count="face_count", orderable=False),
    # A photo's people by name, and every person (unnamed ones too) by key. Faces of
    # one photo are never one person, so its people count is its face count.
    "person": Field("person", "values", "person", count="face_count", orderable=False),
    "personid": Field("personid", "values", "person_id", count="face_count", orderable=False),
    # a file by its path in its source, its name, its folder in its source (as HomeGallery)
    "file": _files("file", "path"),
    "filename": _files("filename", "name"),
    "path": _files("path", "dir"),
    "ext": _files("ext", "ext", whole=True),
    "index": _files("index", "source"),
    # a file in this folder or below: `folder:<source folder's name>/<path>`
    "folder": _files("folder", "folder", whole=True),
    "preview": Field("preview", "count", count="preview_count", orderable=False),
    "ratio": Field("ratio", "ratio", "ratio"),
    "favorite": Field("favorite", "bool", "favorite"),
    "similar": Field("similar", "similar", orderable=False),
    "duplicates": Field("duplicates", "duplicates", orderable=False),
    # photos ranked by a CLIP model's cosine to a text (extractor.models.clip)
    "text": Field("text", "clip", orderable=False),
}

_ALIASES: dict[str, str] = {
    "tags": "tag",
    "keyword": "tag",
    "keywords": "tag",
    "objects": "object",
    "labels": "label",
    "faces": "face",
    "people": "person",
    "persons": "person",
    "person_id": "personid",
    "files": "file",
    "name": "filename",
    "basename": "filename",
    "dir": "path",
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
    "street": "road",
    "location": "place",
    "filesize": "size",
    "file_size": "size",
    "fav": "favorite",
    "favourite": "favorite",
    "created": "date",
    "modified": "updated",
    "changed": "updated",
    "time": "date",
    "min": "minute",
    "dur": "duration",
    "length": "duration",
}
_SHORT_KEYS = {"y": "year", "m": "month", "d": "day", "H": "hour", "h": "hour", "M": "minute"}

# What a bare word searches, and how much a match in each place counts when a word
# search is ranked (``order by relevance``, the default order of a query with words).
# The places are the parts of the catalog's text cache (``text_cache`` in the Rust row
# writer), each searched where it is cheapest (``type_folded``: the type casefolded,
# as the text cache has it), and the model outputs stored as values with a score.
#
# A word's score for an entry is its best place's ``weight`` × how well the word
# matches there (``MATCH_WHOLE``, ``MATCH_WORD``, ``MATCH_PART``) × the model's score
# for ``scored`` places (a label's probability, an object's detection score), plus
# ``OTHER_PLACES`` of each other place it matches; labels also weigh how far up the
# WordNet hierarchy the word is (see ``catalog/query/labels.py``). The words of a query
# add up. One more source of words with scores (word → score per entry, as rows of
# ``entry_values`` with a ``score``) is one more row here.
WordPlace = Literal["column", "values", "labels", "objects", "day", "files", "id"]


@dataclass(frozen=True)
class WordSource:
    name: str  # the text column, the entry_values key, or what ``place`` says
    place: WordPlace
    weight: float
    scored: bool = False  # values carry a model's score (0-1) that multiplies the weight


WORD_SOURCES: tuple[WordSource, ...] = (
    WordSource("tag", "values", 1.0),
    WordSource("person", "values", 1.0),
    WordSource("title", "column", 0.9),
    WordSource("country", "column", 0.9),
    WordSource("state", "column", 0.9),
    WordSource("county", "column", 0.9),
    WordSource("city", "column", 0.9),
    WordSource("road", "column", 0.9),
    WordSource("object", "objects", 0.8, scored=True),
    WordSource("label", "labels", 0.8, scored=True),
    WordSource("description", "column", 0.6),
    WordSource("day", "day", 0.5),
    WordSource("type_folded", "column", 0.3),
    WordSource("make", "column", 0.15),
    WordSource("model", "column", 0.15),
    WordSource("lens", "column", 0.15),
    WordSource("file", "files", 0.1),  # a file's path in its source
    WordSource("id", "id", 0.05),  # an id prefix
)
MATCH_WHOLE = 1.0  # the word is the whole value (tag ``dog``; city ``rome``)
MATCH_WORD = 0.8  # the word is one of the value's words (``eileen`` of ``eileen collins``)
MATCH_PART = 0.5  # the word is part of one (``dog`` in ``hotdog``)
OTHER_PLACES = 0.1  # what each place besides the best one adds
FREE_TEXT_COLUMNS = tuple(source.name for source in WORD_SOURCES if source.place == "column")
FREE_TEXT_VALUES = tuple(source.name for source in WORD_SOURCES if source.place == "values")
# `order by relevance`: the words' scores, best first (the default when a query has words)
RELEVANCE_ORDER_WORDS = frozenset({"relevance", "score", "rank"})

# `type:` words → the stored type.
TYPE_WORDS = {
    "image": "image",
    "images": "image",
    "photo": "image",
    "photos": "image",
    "raw": "rawImage",
    "rawimage": "rawImage",
    "video": "video",
    "videos": "video",
}
TYPE_NAMES = "image, rawImage or video"

# Bare words that select by aspect ratio (width / height) rather than by text.
RATIO_WORDS = frozenset({"landscape", "portrait", "square", "panorama"})
SQUARE_TOLERANCE = 0.01  # |ratio - 1| below this is square
PANORAMA_RATIO = 2.0  # ratio at least this, or at most its inverse, is a panorama

# `exists geo` and friends: words that stand for "has a GPS position" (`exists location`
# is HomeGallery's "has a place name": `location` is the `place` key).
GEO_WORDS = frozenset({"geo", "gps", "position"})
# Bare words for the entries with a face (HomeGallery's `faces`; quoted, a plain word).
FACE_WORDS = frozenset({"faces", "face"})
# `exists similar` and friends: words that stand for "has a similarity vector".
VECTOR_WORDS = frozenset({"similar", "similarity", "vector", "vectors"})
# `order by similar`: the score of the query's similar: term.
SIMILARITY_ORDER_WORDS = frozenset({"similar", "similarity"})
# `order by random`: a shuffle that stays the same for every page of one day.
RANDOM_ORDER_WORDS = frozenset({"random", "shuffle"})
# Bare words for the entries with a near-duplicate (cosine >= DEFAULT_DUPLICATE_SCORE);
# `duplicates:0.95` asks for another cosine, from DUPLICATE_FLOOR (what the build keeps).
DUPLICATE_WORDS = frozenset({"duplicates", "duplicate"})
DEFAULT_DUPLICATE_SCORE = 0.9
DUPLICATE_FLOOR = 0.85

MAX_TERMS = 500  # a query with more terms is refused: it is a flood, not a question


def lookup(key: str) -> Field | None:
    """The field a key names (with short keys and aliases), or None."""
    if key in _SHORT_KEYS:
        return FIELDS[_SHORT_KEYS[key]]
    lowered = key.lower()
    return FIELDS.get(_ALIASES.get(lowered, lowered))


def known_keys() -> str:
    """A short list of keys for error messages."""
    return "year, month, day, date, tag, type, country, city, make, model, file, width, …"


def key_names() -> list[str]:
    """Every key a query may name (canonical names and aliases), for suggestions."""
    return [*FIELDS, *_ALIASES]


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The choice a misspelt ``word`` most likely meant (``contry`` → ``country``), or None."""
    lowered = word.lower()
    if len(lowered) < 3:
        return None
    found = get_close_matches(lowered, sorted(set(choices)), n=1, cutoff=_CLOSE)
    return found[0] if found else None


_CLOSE = 0.75  # difflib's ratio: one letter wrong, missing or swapped in a word of six
