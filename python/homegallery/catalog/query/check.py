"""Parsed query → :class:`~.checked.CheckedQuery`: keys, operators and values resolved.

Every mistake a query can hold past its grammar is found here, each a
:class:`QueryError` at the column of the key or value at fault: an unknown key, an
operator the key does not take, a value that is not a number, a date, a type, a media
id. What the checker returns needs no more checking: the engine runs it as it is.

Negations are pushed down to single tests first (:func:`normal_form`), so the
checked tree stays as shallow as the query's parentheses and a chain of ``not``
costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from homegallery.catalog.fold import fold
from homegallery.catalog.query import checked as c
from homegallery.catalog.query import values
from homegallery.catalog.query.ast import (
    And,
    Compare,
    Count,
    Exists,
    InList,
    InRange,
    Node,
    Not,
    Operator,
    Or,
    OrderBy,
    Query,
    Text,
    Value,
)
from homegallery.catalog.query.errors import QueryError
from homegallery.catalog.query.fields import (
    DEFAULT_DUPLICATE_SCORE,
    DUPLICATE_FLOOR,
    DUPLICATE_WORDS,
    FACE_WORDS,
    GEO_WORDS,
    MAX_TERMS,
    OPERATORS,
    RANDOM_ORDER_WORDS,
    RATIO_WORDS,
    RELEVANCE_ORDER_WORDS,
    SIMILARITY_ORDER_WORDS,
    TYPE_NAMES,
    TYPE_WORDS,
    VECTOR_WORDS,
    Field,
    closest,
    key_names,
    known_keys,
    lookup,
)
from homegallery.catalog.query.labels import class_weights, classes_matching
from homegallery.catalog.query.parser import MAX_DEPTH, parse

_COMPARISON: dict[Operator, c.Comparison] = {
    ":": "=", "=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
}  # fmt: skip
_DATE_COMPARISON: dict[Operator, c.DateComparison] = {
    ":": "=", "=": "=", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "~": "~",
}  # fmt: skip
_HEX = frozenset("0123456789abcdef")


def check_query(text: str, *, max_depth: int = MAX_DEPTH) -> c.CheckedQuery:
    """Parses and checks ``text``; raises :class:`QueryError` on any mistake."""
    return _Checker().query(parse(text, max_depth=max_depth))


def _fail(value: Value, message: str, expected: str) -> QueryError:
    return QueryError(message, column=value.column, expected=expected, found=repr(value.text))


def _unknown(value: Value, what: str, expected: str, choices: Iterable[str]) -> QueryError:
    """``unknown key 'contry'; did you mean `country`?`` when one of ``choices`` is close."""
    message = f"unknown {what} {value.text!r}"
    suggestion = closest(value.text, choices)
    if suggestion is not None:
        message += f"; did you mean `{suggestion}`?"
    return _fail(value, message, expected)


def duplicate_score(value: Value) -> float:
    """The cosine of ``duplicates:<cosine>``, from the floor the build keeps pairs at to 1."""
    try:
        score = float(value.text)
    except ValueError:
        score = float("nan")
    if not DUPLICATE_FLOOR <= score <= 1.0:
        raise _fail(
            value,
            f"expected a cosine from {DUPLICATE_FLOOR} to 1 after duplicates:",
            f"a number from {DUPLICATE_FLOOR} to 1",
        )
    return score


def _no_operator(node: Compare, field: Field, allowed: str) -> QueryError:
    return QueryError(
        f"'{node.op}' does not apply to {field.name}; use {allowed}",
        column=node.key.column,
        expected=allowed,
        found=repr(node.op),
    )


def _negated(op: Operator, test: c.Node) -> c.Node:
    return c.Not(test) if op == "!=" else test


class _Checker:
    def __init__(self) -> None:
        self.similar: list[c.SimilarTo] = []
        self.duplicates: list[c.Duplicates] = []
        self.words: list[c.FreeText] = []
        self.texts: list[c.ClipText] = []
        self.negated = 0  # inside a `not`: its words do not rank
        self.terms = 0

    def query(self, query: Query) -> c.CheckedQuery:
        checked = None if query.filter is None else self.node(normal_form(query.filter))
        order, by_similarity = self.order(query.order)
        if self.similar and query.order is None:
            by_similarity = True
        by_groups = bool(self.duplicates) and not self.similar and query.order is None
        words = tuple(dict.fromkeys(self.words))
        by_text = bool(self.texts) and query.order is None and not self.similar and not by_groups
        if words and query.order is None and not self.similar and not by_groups and not by_text:
            order = c.Order("relevance", True)
        return c.CheckedQuery(
            checked,
            order,
            tuple(self.similar),
            by_similarity,
            tuple(self.duplicates),
            by_groups,
            words,
            tuple(self.texts),
            by_text,
        )

    # --- boolean structure -----------------------------------------------------------

    def node(self, node: Node) -> c.Node:
        self.terms += 1
        if self.terms > MAX_TERMS:
            raise QueryError(
                f"the query has more than {MAX_TERMS} terms",
                column=_column(node),
                expected="a shorter query",
            )
        check: Callable[[_Checker, Any], c.Node] = _CHECKS[type(node)]
        return check(self, node)

    def all_of(self, node: And) -> c.Node:
        return c.And(tuple(self.node(operand) for operand in node.operands))

    def any_of(self, node: Or) -> c.Node:
        return c.Or(tuple(self.node(operand) for operand in node.operands))

    def negation(self, node: Not) -> c.Node:  # only ever around a single term
        self.negated += 1
        try:
            return c.Not(self.node(node.operand))
        finally:
            self.negated -= 1

    def field(self, key: Value, words: Iterable[str] = ()) -> Field:
        """The field ``key`` names; ``words``: what else could stand there, for a
        suggestion (``exists gps``, ``order by random``)."""
        found = lookup(key.text)
        if found is None:
            raise _unknown(key, "key", f"a key such as {known_keys()}", [*key_names(), *words])
        return found

    # --- terms -----------------------------------------------------------------------

    def text(self, node: Text) -> c.Node:
        word = fold(node.value.text)
        if not node.value.quoted and word in RATIO_WORDS:
            return c.Shape(word)
        if not node.value.quoted and word in DUPLICATE_WORDS:
            return self.near_duplicates(DEFAULT_DUPLICATE_SCORE)
        if not node.value.quoted and word in FACE_WORDS:
            return c.NumberTest("face_count", ">", 0)
        if not word:
            return c.Everything()
        if "\x00" in word:  # the separator of the text cache's parts: never inside one
            return c.Nothing()
        found = c.FreeText(
            word,
            classes_matching(word, whole=False),
            class_weights(word),
            classes_matching(word, whole=False, kind="object"),
            class_weights(word, kind="object"),
        )
        if not self.negated:
            self.words.append(found)
        return found

    def compare(self, node: Compare) -> c.Node:
        field = self.field(node.key)
        allowed, listed = field.operators or OPERATORS[field.kind]
        if node.op not in allowed:
            raise _no_operator(node, field, listed)
        return _COMPARES[field.kind](self, node, field)

    def number(self, node: Compare, field: Field) -> c.Node:
        number = values.number(node.value, field.name)
        return c.NumberTest(field.column, _COMPARISON[node.op], number)

    def count_of(self, node: Compare, field: Field) -> c.Node:
        """``faces:3``, ``previews > 2``: keys that are only counted."""
        number = values.number(node.value, field.name)
        return c.NumberTest(field.count, _COMPARISON[node.op], number)

    def date(self, node: Compare, field: Field) -> c.Node:
        prefix = values.date_prefix(node.value)
        if node.op == "!=":
            return c.Not(c.DateTest("=", prefix, field.column))
        return c.DateTest(_DATE_COMPARISON[node.op], prefix, field.column)

    def text_of(self, node: Compare, field: Field) -> c.Node:
        columns = field.parts or (field.column,)
        test = c.TextTest(columns, fold(node.value.text), contains=node.op in (":", "~"))
        return _negated(node.op, test)

    def values_of(self, node: Compare, field: Field) -> c.Node:
        if field.column == "label":  # stored by class id, found by the classes' words
            text = fold(node.value.text)
            classes = classes_matching(text, whole=node.op != "~")
            return _negated(node.op, c.LabelIn(classes))
        test = c.ValueTest(field.column, fold(node.value.text), contains=node.op == "~")
        return _negated(node.op, test)

    def files(self, node: Compare, field: Field) -> c.Node:
        if field.column == "folder":
            return _negated(node.op, c.FolderTest(*values.folder(node.value)))
        text = fold(node.value.text)
        if field.whole:
            text = text.removeprefix(".")
        contains = node.op in (":", "~") and not field.whole
        return _negated(node.op, c.FileTest(field.column, text, contains))

    def media_id(self, node: Compare, field: Field) -> c.Node:
        test = c.IdTest(fold(node.value.text), contains=node.op == "~")
        return _negated(node.op, test)

    def type_of(self, node: Compare, field: Field) -> c.Node:
        name = TYPE_WORDS.get(fold(node.value.text))
        if name is None:
            raise _unknown(node.value, "type", TYPE_NAMES, TYPE_WORDS)
        return _negated(node.op, c.TypeIs(name))

    def ratio(self, node: Compare, field: Field) -> c.Node:
        word = fold(node.value.text)
        if word in RATIO_WORDS and node.op in (":", "=", "!="):
            return _negated(node.op, c.Shape(word))
        try:
            number = values.number(node.value, "ratio")
        except QueryError:
            message = f"expected a number or one of {', '.join(sorted(RATIO_WORDS))}"
            suggestion = closest(word, RATIO_WORDS)
            if suggestion is not None:
                message += f"; did you mean `{suggestion}`?"
            raise _fail(
                node.value, message, "landscape, portrait, square, panorama or a number"
            ) from None
        return c.NumberTest(field.column, _COMPARISON[node.op], number)

    def flag(self, node: Compare, field: Field) -> c.Node:
        wanted = values.boolean(node.value)
        return c.FlagIs(field.column, wanted if node.op != "!=" else not wanted)

    def similar_to(self, node: Compare, field: Field) -> c.Node:
        media_id = fold(node.value.text.strip())
        if not media_id or any(char not in _HEX for char in media_id):
            raise _fail(node.value, "expected a media id (hex) after similar:", "a media id")
        term = c.SimilarTo(media_id, node.value.column)
        self.similar.append(term)
        return term

    def clip_text(self, node: Compare, field: Field) -> c.Node:
        text = node.value.text.strip()
        if not text:
            raise _fail(node.value, 'expected a text after text: (text:"a dog")', "a text")
        term = c.ClipText(text, node.value.column)
        self.texts.append(term)
        return term

    def duplicates_of(self, node: Compare, field: Field) -> c.Node:
        return self.near_duplicates(duplicate_score(node.value))

    def near_duplicates(self, min_score: float) -> c.Node:
        term = c.Duplicates(min_score)
        self.duplicates.append(term)
        return term

    # --- lists and ranges ---------------------------------------------------------------

    def in_list(self, node: InList) -> c.Node:
        field = self.field(node.key)
        many = field.kind in ("values", "files")
        if node.every and not many:
            raise _fail(
                node.key,
                f"'all in' needs a key with many values (tags, objects, labels, files), not {field.name}",
                "tags, objects, labels or files",
            )
        if field.kind in ("number", "count"):
            column = field.count if field.kind == "count" else field.column
            numbers = tuple(values.number(value, field.name) for value in node.values)
            return c.NumberIn(column, numbers)
        # Each value as its own comparison: equality for tags and plain text, the
        # key's own `:` (a file name contains it, a date starts with it) otherwise.
        op: Operator = "=" if field.kind in ("values", "text", "type") else ":"
        tests = tuple(self.compare(Compare(node.key, op, value)) for value in node.values)
        return c.And(tests) if node.every else c.Or(tests)

    def in_range(self, node: InRange) -> c.Node:
        field = self.field(node.key)
        if field.kind == "date":
            low, high = values.date_prefix(node.low), values.date_prefix(node.high)
            column = field.column
            return c.And((c.DateTest(">=", low, column), c.DateTest("<=", high, column)))
        if field.kind in ("number", "count", "ratio"):
            name = "ratio" if field.kind == "ratio" else field.name
            column = field.count if field.kind == "count" else field.column
            low_number = values.number(node.low, name)
            return c.NumberRange(column, low_number, values.number(node.high, name))
        raise _fail(
            node.key,
            f"a range '[low:high]' needs a number or date key, not {field.name}",
            "a number or date key such as year, date or latitude",
        )

    # --- functions -------------------------------------------------------------------------

    def count(self, node: Count) -> c.Node:
        field = self.field(node.key)
        if not field.count:
            raise _fail(
                node.key,
                f"count() needs a key with many values (tags, objects, labels, faces, files, previews), not {field.name}",
                "tags, objects, labels, faces, files or previews",
            )
        if node.op == "~":
            raise QueryError(
                "'~' does not apply to a count; use =, <, >",
                column=node.key.column,
                expected="=, !=, <, <=, > or >=",
                found="'~'",
            )
        number = values.number(node.value, "count")
        return c.NumberTest(field.count, _COMPARISON[node.op], number)

    def exists(self, node: Exists) -> c.Node:
        key = fold(node.key.text)
        if key in GEO_WORDS:
            return c.And((c.NumberKnown("latitude"), c.NumberKnown("longitude")))
        if key in VECTOR_WORDS:
            return c.FlagIs("has_vector", True)
        field = self.field(node.key, (*GEO_WORDS, *VECTOR_WORDS))
        if field.count:
            return c.NumberTest(field.count, ">", 0)
        if field.kind == "text":
            return c.TextKnown(field.parts or (field.column,))
        if field.kind == "date":
            return c.DateKnown(field.column)
        if field.kind == "bool":
            return c.FlagIs(field.column, True)
        if field.kind == "duplicates":
            return self.near_duplicates(DEFAULT_DUPLICATE_SCORE)
        if field.kind in ("id", "type"):
            return c.Everything()
        if field.kind == "clip":  # a CLIP vector, whatever the text
            return c.ClipText("", node.key.column)
        return c.NumberKnown(field.column)

    # --- order by ----------------------------------------------------------------------------

    def order(self, order: OrderBy | None) -> tuple[c.Order | None, bool]:
        if order is None:
            return None, False
        key, written = order.key, order.descending
        if order.count:
            return self.count_order(key, written), False
        if fold(key.text) in SIMILARITY_ORDER_WORDS:
            if not self.similar:
                raise _fail(key, "'order by similar' needs a similar:<id> term", "similar:<id>")
            return None, True
        if fold(key.text) in RANDOM_ORDER_WORDS:
            return c.Order("random", bool(written)), False
        if fold(key.text) in RELEVANCE_ORDER_WORDS:
            if not self.words:
                raise _fail(key, "'order by relevance' needs a word to rank by", "a word")
            return c.Order("relevance", written is not False), False
        return self.key_order(key, written), False

    def count_order(self, key: Value, written: bool | None) -> c.Order:
        """``order by count(tags)``: most first unless ``asc``."""
        field = self.field(key)
        if not field.count:
            raise _fail(
                key,
                f"cannot count {field.name}",
                "tags, objects, labels, faces, files or previews",
            )
        return c.Order("count", written is not False, field.count)

    def key_order(self, key: Value, written: bool | None) -> c.Order:
        """``order by <key>``: in the key's own direction unless one is written."""
        field = self.field(
            key, (*SIMILARITY_ORDER_WORDS, *RANDOM_ORDER_WORDS, *RELEVANCE_ORDER_WORDS)
        )
        descending = field.descending if written is None else written
        if not field.orderable:
            raise _fail(
                key,
                f"cannot order by {field.name}",
                "a key with one value such as date, year, width",
            )
        if field.kind == "id":
            return c.Order("id", descending)
        if field.kind == "date":
            return c.Order("date", descending, field.column)
        if field.kind in ("text", "type"):
            return c.Order("text", descending, field.column)
        return c.Order("number", descending, field.column)


_CHECKS: dict[type, Callable[[_Checker, Any], c.Node]] = {
    And: _Checker.all_of,
    Or: _Checker.any_of,
    Not: _Checker.negation,
    Text: _Checker.text,
    Compare: _Checker.compare,
    InList: _Checker.in_list,
    InRange: _Checker.in_range,
    Count: _Checker.count,
    Exists: _Checker.exists,
}
_COMPARES: dict[str, Callable[[_Checker, Compare, Field], c.Node]] = {
    "number": _Checker.number,
    "count": _Checker.count_of,
    "date": _Checker.date,
    "text": _Checker.text_of,
    "values": _Checker.values_of,
    "files": _Checker.files,
    "id": _Checker.media_id,
    "type": _Checker.type_of,
    "ratio": _Checker.ratio,
    "bool": _Checker.flag,
    "similar": _Checker.similar_to,
    "duplicates": _Checker.duplicates_of,
    "clip": _Checker.clip_text,
}


def normal_form(node: Node, negate: bool = False) -> Node:
    """Negations pushed down to single terms, nested ANDs and ORs flattened.

    Exact, since every test is two-valued (a missing value makes a test false, and
    its negation true), so De Morgan holds.
    """
    if isinstance(node, Not):
        return normal_form(node.operand, not negate)
    if isinstance(node, (And, Or)):
        joined: type[And] | type[Or] = (
            (Or if isinstance(node, And) else And) if negate else type(node)
        )
        operands: list[Node] = []
        for operand in node.operands:
            normal = normal_form(operand, negate)
            if isinstance(normal, joined):
                operands.extend(normal.operands)
            else:
                operands.append(normal)
        return joined(tuple(operands))
    return Not(node) if negate else node


def _column(node: Node) -> int:
    if isinstance(node, (And, Or)):
        return _column(node.operands[0])
    if isinstance(node, Not):
        return _column(node.operand)
    if isinstance(node, Text):
        return node.value.column
    return node.key.column
