"""The checked form of a query: what to test on which column, every value typed.

:mod:`.check` makes it from the parsed tree, raising every :class:`QueryError` a
query can have (an unknown key, an operator a key does not take, a value that is not
a number); the engine (:mod:`.evaluate`) only runs it. Negations sit on single
tests (the checker pushes them down), ANDs and ORs are flat.

Missing values: a test of a column an entry has no value in is false, its negation
true (``year != 2021`` finds the entries without a year); ``!=`` is written as a
negated test wherever that gives exactly this meaning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Comparison = Literal["=", "!=", "<", "<=", ">", ">="]
DateComparison = Literal["=", "<", "<=", ">", ">=", "~"]  # `~`: the date contains the text


@dataclass(frozen=True)
class Everything:
    """Matches every entry (empty free text)."""


@dataclass(frozen=True)
class Nothing:
    """Matches no entry (free text that cannot occur in the catalog's text)."""


@dataclass(frozen=True)
class FreeText:
    """A bare word: in any searchable text, tag, day, file path, or an id prefix, or a
    label of one of ``labels`` or an object of one of ``objects`` (the classes one of
    whose words contains it)."""

    word: str  # casefolded
    labels: tuple[str, ...] = ()  # WordNet ids
    # how well the word names each of ``labels`` (see ``labels.class_weights``): ranking
    label_weights: tuple[float, ...] = ()
    objects: tuple[str, ...] = ()  # COCO names: the object classes one of whose words contains it
    object_weights: tuple[float, ...] = ()


@dataclass(frozen=True)
class Shape:
    """``landscape``, ``portrait``, ``square`` or ``panorama``, by aspect ratio."""

    word: str


@dataclass(frozen=True)
class NumberTest:
    column: str
    op: Comparison
    number: float


@dataclass(frozen=True)
class NumberIn:
    column: str
    numbers: tuple[float, ...]


@dataclass(frozen=True)
class NumberRange:
    """Both ends included."""

    column: str
    low: float
    high: float


@dataclass(frozen=True)
class NumberKnown:
    column: str


@dataclass(frozen=True)
class DateTest:
    """The date's first ``len(prefix)`` characters compared with ``prefix``; ``column``:
    ``date`` (when taken) or ``updated`` (when the entry last changed)."""

    op: DateComparison
    prefix: str
    column: str = "date"


@dataclass(frozen=True)
class DateKnown:
    column: str = "date"


@dataclass(frozen=True)
class TextTest:
    """A text column (or several joined by spaces) contains or equals ``text``."""

    columns: tuple[str, ...]
    text: str  # casefolded, as the catalog stores text
    contains: bool


@dataclass(frozen=True)
class TextKnown:
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ValueTest:
    """One of an entry's values of ``key`` (``tag``, ``object``) contains or equals ``text``."""

    key: str
    text: str
    contains: bool


@dataclass(frozen=True)
class LabelIn:
    """One of an entry's labels is one of ``classes`` (WordNet ids: the classes whose
    words the query's word equals or is part of, found by :mod:`.labels`)."""

    classes: tuple[str, ...]


@dataclass(frozen=True)
class FileTest:
    """One of an entry's files has ``column`` (name, path, ext, source) containing or
    equal to ``text``."""

    column: str
    text: str
    contains: bool


@dataclass(frozen=True)
class FolderTest:
    """One of an entry's files is in ``source`` (its folder's name) with a path starting
    with ``prefix`` (empty: anywhere in the source)."""

    source: str
    prefix: str


@dataclass(frozen=True)
class IdTest:
    """The id starts with ``text``, or contains it."""

    text: str
    contains: bool


@dataclass(frozen=True)
class TypeIs:
    type: str  # as stored: image, rawImage, video


@dataclass(frozen=True)
class FlagIs:
    """A 0/1 column (``favorite``, ``has_vector``) is 1 (or 0)."""

    column: str
    value: bool


@dataclass(frozen=True)
class SimilarTo:
    """``similar:<id>``: the entries whose vectors are close to that entry's."""

    media_id: str  # an id or a prefix of one, lowercase hex
    column: int  # where the id stands in the query, for errors found when it is looked up


@dataclass(frozen=True)
class ClipText:
    """``text:"a dog on the beach"``: the entries with a CLIP vector, by its cosine to the
    text's (the search runs the CLIP text model)."""

    text: str  # as written (the tokenizer cleans it); "": any (`exists text`), no model run
    column: int  # where the text stands in the query, for errors found when it is run


@dataclass(frozen=True)
class Duplicates:
    """``duplicates`` (``duplicates:0.95``): the entries with a near-duplicate at least
    ``min_score`` alike (cosine)."""

    min_score: float


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = (
    Everything | Nothing | FreeText | Shape | NumberTest | NumberIn | NumberRange | NumberKnown
    | DateTest | DateKnown | TextTest | TextKnown | ValueTest | LabelIn | FileTest | FolderTest
    | IdTest     | TypeIs | FlagIs | SimilarTo | ClipText | Duplicates | Not | And | Or
)  # fmt: skip


@dataclass(frozen=True)
class Order:
    """How matches are ordered when not in timeline order.

    ``by``: the value of a ``number`` or ``text`` ``column`` (ties by id), the ``id``,
    the ``date`` (``column``: ``date`` or ``updated``), a ``count`` ``column`` (ties in
    timeline order), or ``random`` (a shuffle by id, the same all day); missing values
    come last either way; or ``relevance``, the score of the query's words
    (``CheckedQuery.words``, see ``fields.WORD_SOURCES``), ties in timeline order.
    """

    by: Literal["number", "text", "id", "date", "count", "random", "relevance"]
    descending: bool
    column: str = ""


@dataclass(frozen=True)
class CheckedQuery:
    filter: Node | None  # None matches everything
    order: Order | None = None  # None: timeline order (date descending, then id)
    similar: tuple[SimilarTo, ...] = ()  # every similar: term, in query order
    by_similarity: bool = False  # ordered by the similar: terms' scores
    duplicates: tuple[Duplicates, ...] = ()  # every duplicates term, in query order
    # near-duplicates one group after another (by the first duplicates term's cosine)
    by_groups: bool = False
    words: tuple[FreeText, ...] = ()  # the words a match is ranked by (none under a `not`)
    texts: tuple[ClipText, ...] = ()  # every text: term, in query order
    by_text: bool = False  # ordered by the text: terms' CLIP cosines
