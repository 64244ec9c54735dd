"""Query tree → parameterised SQL over the catalog tables.

The result is a WHERE expression over ``entries e`` and an ORDER BY clause; every
value the user typed goes into ``params``, never into the SQL text, which is built
only from the fixed fragments in this module and :mod:`fields`.

Three-valued logic: a comparison with a missing value (no GPS, no year) is NULL in
SQL, and ``NOT NULL`` is NULL again, so ``not year:2021`` would lose the entries
without a year. Every negation therefore wraps its operand in ``coalesce(…, 0)``,
which for the AND/OR trees below it gives exactly "NULL counts as false".

``similar:<id>`` cannot be answered by SQL alone: the compiler leaves a
:class:`SimilarTerm` placeholder in ``params`` that the search fills with the ids
the similarity index returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

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
    GEO_WORDS,
    RATIO_WORDS,
    Field,
    known_keys,
    lookup,
)
from homegallery.catalog.query.labels import classes_matching
from homegallery.catalog.query.parser import MAX_DEPTH, parse

# Beyond every character of a text key: `id >= prefix AND id < prefix + _TOP` is a prefix.
_TOP = "\U0010ffff"
_TYPES = {
    "image": "image",
    "images": "image",
    "photo": "image",
    "photos": "image",
    "raw": "rawImage",
    "rawimage": "rawImage",
    "video": "video",
    "videos": "video",
}
_RATIO_SQL = {
    "landscape": "e.ratio > 1.0",
    "portrait": "e.ratio < 1.0",
    "square": "abs(e.ratio - 1.0) < 0.01",
    "panorama": "(e.ratio >= 2.0 OR e.ratio <= 0.5)",
}
_SQL_OPS = {":": "=", "=": "=", "!=": "IS NOT", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
DEFAULT_ORDER = "e.date DESC NULLS LAST, e.id DESC"
# `index:` matches a file's source by the folder's name, as entries show it, never by
# its path on the server: a query must not be a way to probe the server's folders.
_FILE_SQL = {"source": "substr(source, length(rtrim(source, replace(source, '/', ''))) + 1)"}
MAX_TERMS = 500  # a bigger query is refused rather than sent to SQLite's expression limit


@dataclass(frozen=True)
class SimilarTerm:
    """``similar:<id>``: resolved by the search into the ids of similar entries."""

    media_id: str
    column: int


@dataclass(frozen=True)
class DuplicatesTerm:
    """``duplicates`` (``duplicates:0.95``): resolved by the search into the ids of every
    entry with a near-duplicate at least that alike (cosine)."""

    min_score: float
    column: int


@dataclass
class CompiledQuery:
    where: str  # SQL boolean over `entries e`; "1" matches everything
    params: list[object]  # values, and SimilarTerm / DuplicatesTerm placeholders
    order: str  # ORDER BY clause (without the words), over `e`
    order_by_similarity: bool = False  # rank by the similar: term's score
    # the terms the search resolves into lists of ids (similar:, duplicates)
    similar: list[SimilarTerm | DuplicatesTerm] = field(default_factory=list)
    order_by_groups: bool = False  # near-duplicates one group after another


def compile_query(text: str, *, max_depth: int = MAX_DEPTH) -> CompiledQuery:
    """Parses and compiles ``text``; raises :class:`QueryError` on any mistake."""
    return _Compiler().compile(parse(text, max_depth=max_depth))


def _fail(value: Value, message: str, expected: str) -> QueryError:
    return QueryError(message, column=value.column, expected=expected, found=repr(value.text))


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


class _Compiler:
    def __init__(self) -> None:
        self.params: list[object] = []
        self.similar: list[SimilarTerm | DuplicatesTerm] = []
        self.terms = 0

    def compile(self, query: Query) -> CompiledQuery:
        where = "1" if query.filter is None else self.node(normal_form(query.filter))
        order, by_similarity = self.order(query.order)
        similar = any(isinstance(term, SimilarTerm) for term in self.similar)
        if similar and query.order is None:
            by_similarity = True
        by_groups = bool(self.similar) and not similar and query.order is None
        return CompiledQuery(where, self.params, order, by_similarity, self.similar, by_groups)

    # --- boolean structure -----------------------------------------------------------

    def node(self, node: Node) -> str:
        self.terms += 1
        if self.terms > MAX_TERMS:
            column = _column(node)
            raise QueryError(
                f"the query has more than {MAX_TERMS} terms",
                column=column,
                expected="a shorter query",
            )
        if isinstance(node, And):
            return "(" + " AND ".join(self.node(operand) for operand in node.operands) + ")"
        if isinstance(node, Or):
            return "(" + " OR ".join(self.node(operand) for operand in node.operands) + ")"
        if isinstance(node, Not):  # only ever around a single term (see normal_form)
            return f"NOT coalesce({self.node(node.operand)}, 0)"
        if isinstance(node, Text):
            return self.text(node.value)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, InList):
            return self.in_list(node)
        if isinstance(node, InRange):
            return self.in_range(node)
        if isinstance(node, Count):
            return self.count(node)
        return self.exists(node)

    def param(self, value: object) -> str:
        self.params.append(value)
        return "?"

    def field(self, key: Value) -> Field:
        found = lookup(key.text)
        if found is None:
            raise _fail(key, f"unknown key {key.text!r}", f"a key such as {known_keys()}")
        return found

    # --- free text -----------------------------------------------------------------

    def text(self, value: Value) -> str:
        word = value.text.casefold()
        if not value.quoted and word in RATIO_WORDS:
            return f"({_RATIO_SQL[word]})"
        if not value.quoted and word in DUPLICATE_WORDS:
            return self.duplicates(DEFAULT_DUPLICATE_SCORE, value.column)
        if not word:
            return "1"
        if "\x00" in word:  # the separator of the text cache's parts: never inside one
            return "0"
        # Parameters are numbered in the order they are made: the SQL is built in order.
        sql = (
            f"(instr(e.text, {self.param(word)}) > 0 OR "
            f"(e.id >= {self.param(word)} AND e.id < {self.param(word + _TOP)})"
        )
        labels = classes_matching(word, whole=False)
        if labels:
            sql += f" OR {self.label_rows(labels)}"
        return sql + ")"

    def label_rows(self, classes: tuple[str, ...]) -> str:
        """Entries with a label of one of ``classes`` (one parameter, a JSON list)."""
        return (
            "e.rowid IN (SELECT entry FROM entry_values WHERE key = 'label' AND value IN "
            f"(SELECT value FROM json_each({self.param(json.dumps(classes))})))"
        )

    # --- key:value and key <op> value ----------------------------------------------------

    def compare(self, node: Compare) -> str:
        field = self.field(node.key)
        op, value = node.op, node.value
        kind = field.kind
        if kind == "number":
            if op == "~":
                raise self.no_operator(node, field, "=, !=, <, <=, > or >=")
            number = values.number(value, field.name)
            return f"({field.sql} {_SQL_OPS[op]} {self.param(number)})"
        if kind == "date":
            prefix = values.date_prefix(value)
            if op == "~":
                return f"(instr({field.sql}, {self.param(prefix)}) > 0)"
            cut = f"substr({field.sql}, 1, {len(prefix)})"
            return f"({cut} {_SQL_OPS[op]} {self.param(prefix)})"
        if kind == "text":
            text = value.text.casefold()
            if op in (":", "~"):
                return f"(instr({field.sql}, {self.param(text)}) > 0)"
            if op in ("=", "!="):
                return f"({field.sql} {_SQL_OPS[op]} {self.param(text)})"
            raise self.no_operator(node, field, ":, ~, = or !=")
        if kind == "id":
            text = value.text.casefold()
            if op == "~":
                return f"(instr(e.id, {self.param(text)}) > 0)"
            if op in (":", "="):
                return self.id_prefix(text)
            if op == "!=":
                return f"(NOT {self.id_prefix(text)})"
            raise self.no_operator(node, field, ":, =, != or ~")
        if kind == "type":
            if op not in (":", "=", "!="):
                raise self.no_operator(node, field, ":, = or !=")
            return f"(e.type {_SQL_OPS[op]} {self.param(self.type_name(value))})"
        if kind == "list":
            return self.list_compare(node, field)
        if kind == "files":
            return self.files_compare(node, field)
        if kind == "ratio":
            word = value.text.casefold()
            if word in RATIO_WORDS and op in (":", "=", "!="):
                sql = f"({_RATIO_SQL[word]})"
                return sql if op != "!=" else f"(NOT coalesce({sql}, 0))"
            if op == "~":
                raise self.no_operator(node, field, "=, <, >, or a word such as panorama")
            try:
                number = values.number(value, "ratio")
            except QueryError:
                raise _fail(
                    value,
                    f"expected a number or one of {', '.join(sorted(RATIO_WORDS))}",
                    "landscape, portrait, square, panorama or a number",
                ) from None
            return f"(e.ratio {_SQL_OPS[op]} {self.param(number)})"
        if kind == "bool":
            if op not in (":", "=", "!="):
                raise self.no_operator(node, field, ": or =")
            wanted = values.boolean(value)
            if op == "!=":
                wanted = not wanted
            return f"({field.sql} = {self.param(1 if wanted else 0)})"
        if kind == "similar":
            if op not in (":", "="):
                raise self.no_operator(node, field, ":")
            return self.similar_to(value)
        if kind == "duplicates":
            if op not in (":", "=", ">="):
                raise self.no_operator(node, field, ": (duplicates:0.95)")
            score = duplicate_score(value)
            return self.duplicates(score, value.column)
        # count-only keys (faces, previews): `faces:3` and `faces > 2` compare the count
        if op == "~":
            raise self.no_operator(node, field, "=, <, >")
        number = values.number(value, field.name)
        return f"({field.count_column} {_SQL_OPS[op]} {self.param(number)})"

    def no_operator(self, node: Compare, field: Field, allowed: str) -> QueryError:
        return QueryError(
            f"'{node.op}' does not apply to {field.name}; use {allowed}",
            column=node.key.column,
            expected=allowed,
            found=repr(node.op),
        )

    def id_prefix(self, prefix: str) -> str:
        return f"(e.id >= {self.param(prefix)} AND e.id < {self.param(prefix + _TOP)})"

    def type_name(self, value: Value) -> str:
        name = _TYPES.get(value.text.casefold())
        if name is None:
            raise _fail(value, f"unknown type {value.text!r}", "image, rawImage or video")
        return name

    def similar_to(self, value: Value) -> str:
        media_id = value.text.strip().casefold()
        if not media_id or any(char not in "0123456789abcdef" for char in media_id):
            raise _fail(value, "expected a media id (hex) after similar:", "a media id")
        term = SimilarTerm(media_id, value.column)
        self.similar.append(term)
        return f"(e.id IN (SELECT value FROM json_each({self.param(term)})))"

    def duplicates(self, min_score: float, column: int) -> str:
        term = DuplicatesTerm(min_score, column)
        self.similar.append(term)
        return f"(e.id IN (SELECT value FROM json_each({self.param(term)})))"

    def list_compare(self, node: Compare, field: Field) -> str:
        text = node.value.text.casefold()
        if field.sql == "label":
            if node.op not in (":", "=", "~", "!="):
                raise self.no_operator(node, field, ":, =, != or ~ (or count(...) for numbers)")
            found = self.label_rows(classes_matching(text, whole=node.op != "~"))
            return f"(NOT {found})" if node.op == "!=" else f"({found})"
        key = self.param(field.sql)
        if node.op in (":", "="):
            return (
                "(e.rowid IN (SELECT entry FROM entry_values "
                f"WHERE key = {key} AND value = {self.param(text)}))"
            )
        if node.op == "~":
            return (
                "(e.rowid IN (SELECT entry FROM entry_values "
                f"WHERE key = {key} AND instr(value, {self.param(text)}) > 0))"
            )
        if node.op == "!=":
            return (
                "(e.rowid NOT IN (SELECT entry FROM entry_values "
                f"WHERE key = {key} AND value = {self.param(text)}))"
            )
        raise self.no_operator(node, field, ":, =, != or ~ (or count(...) for numbers)")

    def files_compare(self, node: Compare, field: Field) -> str:
        if field.sql == "folder":
            return self.folder_compare(node, field)
        column = _FILE_SQL.get(field.sql, field.sql)
        text = node.value.text.casefold()
        if column == "ext":
            text = text.removeprefix(".")
        if node.op in (":", "~") and column != "ext":
            condition = f"instr({column}, {self.param(text)}) > 0"
        elif node.op in (":", "=", "!="):
            condition = f"{column} = {self.param(text)}"
        else:
            raise self.no_operator(node, field, ":, ~, = or !=")
        negate = "NOT " if node.op == "!=" else ""
        return f"(e.rowid {negate}IN (SELECT entry FROM entry_files WHERE {condition}))"

    def folder_compare(self, node: Compare, field: Field) -> str:
        if node.op not in (":", "=", "!="):
            raise self.no_operator(node, field, ":, = or !=")
        source, prefix = values.folder(node.value)
        condition = f"{_FILE_SQL['source']} = {self.param(source)}"
        if prefix:
            condition += f" AND substr(path, 1, {self.param(len(prefix))}) = {self.param(prefix)}"
        negate = "NOT " if node.op == "!=" else ""
        return f"(e.rowid {negate}IN (SELECT entry FROM entry_files WHERE {condition}))"

    # --- lists and ranges ---------------------------------------------------------------

    def in_list(self, node: InList) -> str:
        field = self.field(node.key)
        if node.every and field.kind not in ("list", "files"):
            raise _fail(
                node.key,
                f"'all in' needs a key with many values (tags, objects, labels, files), not {field.name}",
                "tags, objects, labels or files",
            )
        if field.kind in ("list", "files"):
            parts = [
                self.compare(Compare(node.key, "=" if field.kind == "list" else ":", value))
                for value in node.values
            ]
            joiner = " AND " if node.every else " OR "
            return "(" + joiner.join(parts) + ")"
        if field.kind in ("number", "text", "type", "count"):
            items = [self.list_item(field, value) for value in node.values]
            column = field.count_column if field.kind == "count" else field.sql
            marks = ", ".join(self.param(item) for item in items)
            return f"({column} IN ({marks}))"
        parts = [self.compare(Compare(node.key, ":", value)) for value in node.values]
        return "(" + " OR ".join(parts) + ")"

    def list_item(self, field: Field, value: Value) -> object:
        if field.kind in ("number", "count"):
            return values.number(value, field.name)
        if field.kind == "type":
            return self.type_name(value)
        return value.text.casefold()

    def in_range(self, node: InRange) -> str:
        field = self.field(node.key)
        if field.kind == "number" or field.kind == "count":
            low = values.number(node.low, field.name)
            high = values.number(node.high, field.name)
            column = field.count_column if field.kind == "count" else field.sql
            return f"({column} BETWEEN {self.param(low)} AND {self.param(high)})"
        if field.kind == "date":
            low_text = values.date_prefix(node.low)
            high_text = values.date_prefix(node.high)
            return (
                f"(substr(e.date, 1, {len(low_text)}) >= {self.param(low_text)} AND "
                f"substr(e.date, 1, {len(high_text)}) <= {self.param(high_text)})"
            )
        if field.kind == "ratio":
            low = values.number(node.low, "ratio")
            high = values.number(node.high, "ratio")
            return f"(e.ratio BETWEEN {self.param(low)} AND {self.param(high)})"
        raise _fail(
            node.key,
            f"a range '[low:high]' needs a number or date key, not {field.name}",
            "a number or date key such as year, date or latitude",
        )

    # --- functions -------------------------------------------------------------------------

    def count(self, node: Count) -> str:
        field = self.field(node.key)
        if not field.count_column:
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
        return f"({field.count_column} {_SQL_OPS[node.op]} {self.param(number)})"

    def exists(self, node: Exists) -> str:
        key = node.key.text.casefold()
        if key in GEO_WORDS:
            return "(e.latitude IS NOT NULL AND e.longitude IS NOT NULL)"
        if key in ("similar", "similarity", "vector", "vectors"):
            return "(e.has_vector = 1)"
        field = self.field(node.key)
        if field.count_column:
            return f"({field.count_column} > 0)"
        if field.kind in ("text", "date"):
            return f"(trim(coalesce({field.sql}, '')) != '')"
        if field.kind == "bool":
            return f"({field.sql} = 1)"
        if field.kind in ("similar",):
            return "(e.has_vector = 1)"
        if field.kind == "duplicates":
            return self.duplicates(DEFAULT_DUPLICATE_SCORE, node.key.column)
        return f"({field.sql} IS NOT NULL)"

    # --- order by ----------------------------------------------------------------------------

    def order(self, order: OrderBy | None) -> tuple[str, bool]:
        if order is None:
            return DEFAULT_ORDER, False
        key = order.key
        direction = "DESC" if order.descending else "ASC"
        if order.count:
            field = self.field(key)
            if not field.count_column:
                raise _fail(
                    key,
                    f"cannot count {field.name}",
                    "tags, objects, labels, faces, files or previews",
                )
            return f"{field.count_column} {direction}, e.date DESC NULLS LAST, e.id DESC", False
        if key.text.casefold() in ("similar", "similarity"):
            if not any(isinstance(term, SimilarTerm) for term in self.similar):
                raise _fail(key, "'order by similar' needs a similar:<id> term", "similar:<id>")
            return DEFAULT_ORDER, True
        field = self.field(key)
        if not field.orderable:
            raise _fail(
                key,
                f"cannot order by {field.name}",
                "a key with one value such as date, year, width",
            )
        return f"{field.sql} {direction} NULLS LAST, e.id {direction}", False


def normal_form(node: Node, negate: bool = False) -> Node:
    """Negations pushed down to single terms, nested ANDs and ORs flattened.

    Keeps the SQL shallow (SQLite's parser refuses deeply nested expressions) and is
    exact: with every negated term made two-valued by ``coalesce``, De Morgan holds.
    """
    if isinstance(node, Not):
        return normal_form(node.operand, not negate)
    if isinstance(node, (And, Or)):
        flip = negate
        joined: type[And] | type[Or] = (
            (Or if isinstance(node, And) else And) if flip else type(node)
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
