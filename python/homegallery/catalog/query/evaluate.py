"""Query tree → a boolean mask over an in-memory :class:`Columns` snapshot.

The same language and the same meaning as the SQL compiler (the query table runs
every case through both); queries are compiled to SQL first, which checks every key,
operator and value, so both paths raise the same :class:`QueryError`.

NULL semantics follow the SQL: a comparison with a missing value is false, its
negation true; ``!=`` is true for a missing value (SQL ``IS NOT``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from homegallery.catalog.columns import Columns, FloatArray, IntArray, TextColumn
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
    Text,
    Value,
)
from homegallery.catalog.query.compiler import duplicate_score
from homegallery.catalog.query.fields import (
    DEFAULT_DUPLICATE_SCORE,
    DUPLICATE_WORDS,
    GEO_WORDS,
    RATIO_WORDS,
    Field,
    lookup,
)
from homegallery.catalog.query.labels import classes_matching

Mask = np.ndarray[Any, np.dtype[np.bool_]]
# similar:<id> terms, resolved by the search: media id → rows of the similar entries
SimilarRows = Callable[[Value], IntArray]
# duplicates terms, resolved by the search: cosine → rows of entries with a near-duplicate
DuplicateRows = Callable[[float], IntArray]

_TYPES = {"image": "image", "images": "image", "photo": "image", "photos": "image",
          "raw": "rawImage", "rawimage": "rawImage", "video": "video", "videos": "video"}  # fmt: skip
_TEXT_PARTS = (
    "type_folded", "country", "state", "county", "city", "road", "make", "model", "lens",
    "title", "description",
)  # fmt: skip
_COMPOSITE = {
    "camera": ("make", "model"),
    "place": ("country", "state", "county", "city", "road"),
}


def _bool(value: Any) -> Mask:
    """numpy comparisons are typed loosely; this states what they give."""
    result: Mask = value
    return result


def _column_name(sql: str) -> str:
    return sql.removeprefix("e.")


def _no_duplicates(min_score: float) -> IntArray:
    return np.zeros(0, np.int64)


class Evaluator:
    def __init__(
        self,
        columns: Columns,
        similar_rows: SimilarRows,
        duplicate_rows: DuplicateRows = _no_duplicates,
    ) -> None:
        self.columns = columns
        self.similar_rows = similar_rows
        self.duplicate_rows = duplicate_rows
        self.size = columns.size

    # --- helpers ----------------------------------------------------------------------

    def empty(self) -> Mask:
        return np.zeros(self.size, dtype=bool)

    def full(self) -> Mask:
        return np.ones(self.size, dtype=bool)

    def rows_mask(self, rows: IntArray) -> Mask:
        mask = self.empty()
        mask[rows] = True
        return mask

    def number(self, name: str) -> FloatArray:
        return self.columns.number(name)

    def text_column(self, field: Field) -> TextColumn:
        if field.name in _COMPOSITE:
            return self.columns.composite(field.name, _COMPOSITE[field.name])
        return self.columns.text(_column_name(field.sql))

    @staticmethod
    def compare_numbers(column: FloatArray, op: Operator, number: float) -> Mask:
        with np.errstate(invalid="ignore"):
            if op in (":", "="):
                return _bool(column == number)
            if op == "!=":
                return _bool(column != number)  # NaN != x is True, as SQL's IS NOT
            if op == "<":
                return column < number
            if op == "<=":
                return column <= number
            if op == ">":
                return column > number
            return column >= number

    # --- tree ---------------------------------------------------------------------------

    def node(self, node: Node) -> Mask:
        if isinstance(node, And):
            mask = self.node(node.operands[0])
            for operand in node.operands[1:]:
                mask &= self.node(operand)
            return mask
        if isinstance(node, Or):
            mask = self.node(node.operands[0])
            for operand in node.operands[1:]:
                mask |= self.node(operand)
            return mask
        if isinstance(node, Not):
            return ~self.node(node.operand)
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

    def field(self, key: Value) -> Field:
        found = lookup(key.text)
        assert found is not None, "checked by the compiler"
        return found

    def text(self, value: Value) -> Mask:
        word = value.text.casefold()
        if not value.quoted and word in RATIO_WORDS:
            return self.ratio_word(word)
        if not value.quoted and word in DUPLICATE_WORDS:
            return self.rows_mask(self.duplicate_rows(DEFAULT_DUPLICATE_SCORE))
        if not word:
            return self.full()
        if "\x00" in word:
            return self.empty()
        columns = self.columns
        mask = self.empty()
        # The parts of the text cache (see text_cache in rust/entry_rows.rs), each
        # searched where it is cheapest: distinct values for tags, places and cameras.
        for name in _TEXT_PARTS:
            mask[columns.text(name).rows_containing(word)] = True
        for key in ("tag", "object"):
            for part, rows in columns.values(key).items():
                if word in part:
                    mask[rows] = True
        mask |= self.label_mask(classes_matching(word, whole=False))
        mask[columns.days().rows_containing(word)] = True
        mask[columns.file_rows()[columns.file_column("path").rows_containing(word)]] = True
        mask[columns.rows_with_id_prefix(word)] = True
        return mask

    def ratio_word(self, word: str) -> Mask:
        ratio = self.number("ratio")
        with np.errstate(invalid="ignore"):
            if word == "landscape":
                return ratio > 1.0
            if word == "portrait":
                return ratio < 1.0
            if word == "square":
                return np.abs(ratio - 1.0) < 0.01
            return (ratio >= 2.0) | (ratio <= 0.5)

    def compare(self, node: Compare) -> Mask:
        field = self.field(node.key)
        op, value = node.op, node.value
        kind = field.kind
        if kind == "number":
            column = self.number(_column_name(field.sql))
            return self.compare_numbers(column, op, values.number(value, field.name))
        if kind == "date":
            return self.compare_date(op, values.date_prefix(value))
        if kind == "text":
            text = value.text.casefold()
            texts = self.text_column(field)
            if op in (":", "~"):
                return self.rows_mask(texts.rows_containing(text))
            mask = self.rows_mask(texts.rows_equal(text))
            return ~mask if op == "!=" else mask
        if kind == "id":
            text = value.text.casefold()
            if op == "~":
                return self.rows_mask(
                    np.array([row for row, i in enumerate(self.columns.ids) if text in i], np.int64)
                )
            mask = self.rows_mask(self.columns.rows_with_id_prefix(text))
            return ~mask if op == "!=" else mask
        if kind == "type":
            type_name = _TYPES[value.text.casefold()]
            mask = self.rows_mask(self.columns.text("type").rows_equal(type_name))
            return ~mask if op == "!=" else mask
        if kind == "list":
            return self.list_compare(field, op, value.text.casefold())
        if kind == "files" and field.sql == "folder":
            return self.folder_compare(op, value)
        if kind == "files":
            return self.files_compare(field, op, value.text.casefold())
        if kind == "ratio":
            word = value.text.casefold()
            if word in RATIO_WORDS:
                mask = self.ratio_word(word)
                return ~mask if op == "!=" else mask
            return self.compare_numbers(self.number("ratio"), op, values.number(value, "ratio"))
        if kind == "bool":
            wanted = values.boolean(value)
            if op == "!=":
                wanted = not wanted
            return _bool(self.number(_column_name(field.sql)) == (1.0 if wanted else 0.0))
        if kind == "similar":
            return self.rows_mask(self.similar_rows(value))
        if kind == "duplicates":
            return self.rows_mask(self.duplicate_rows(duplicate_score(value)))
        column = self.number(_column_name(field.count_column))
        return self.compare_numbers(column, op, values.number(value, field.name))

    def compare_date(self, op: Operator, prefix: str) -> Mask:
        dates = self.columns.dates
        known = dates != b""
        wanted = prefix.encode()
        if op == "~":
            return _bool(known & np.char.find(dates, wanted).__ge__(0))
        cut = dates.astype(f"S{len(wanted)}")
        if op in (":", "="):
            return _bool(known & (cut == wanted))
        if op == "!=":
            return _bool(~(known & (cut == wanted)))
        if op == "<":
            return _bool(known & (cut < wanted))
        if op == "<=":
            return _bool(known & (cut <= wanted))
        if op == ">":
            return _bool(known & (cut > wanted))
        return _bool(known & (cut >= wanted))

    def label_mask(self, classes: tuple[str, ...]) -> Mask:
        """Entries with a label of one of ``classes`` (labels are stored by class id)."""
        found = self.columns.values("label")
        rows = [found[wnid] for wnid in classes if wnid in found]
        return self.rows_mask(np.concatenate(rows)) if rows else self.empty()

    def list_compare(self, field: Field, op: Operator, text: str) -> Mask:
        if field.sql == "label":
            mask = self.label_mask(classes_matching(text, whole=op != "~"))
            return ~mask if op == "!=" else mask
        found = self.columns.values(field.sql)
        if op == "~":
            rows = [r for value, r in found.items() if text in value]
            return self.rows_mask(np.concatenate(rows)) if rows else self.empty()
        mask = self.rows_mask(found.get(text, np.zeros(0, np.int64)))
        return ~mask if op == "!=" else mask

    def files_compare(self, field: Field, op: Operator, text: str) -> Mask:
        name = field.sql
        if name == "ext":
            text = text.removeprefix(".")
        column = self.columns.file_column(name)
        if op in (":", "~") and name != "ext":
            files = column.rows_containing(text)
        else:
            files = column.rows_equal(text)
        mask = self.rows_mask(self.columns.file_rows()[files])
        return ~mask if op == "!=" else mask

    def folder_compare(self, op: Operator, value: Value) -> Mask:
        source, prefix = values.folder(value)
        files = self.columns.file_column("source").rows_equal(source)
        if prefix and len(files):
            paths = self.columns.file_column("path").values
            inside = np.fromiter(
                ((paths[file] or "").startswith(prefix) for file in files.tolist()),
                bool,
                len(files),
            )
            files = files[inside]
        mask = self.rows_mask(self.columns.file_rows()[files])
        return ~mask if op == "!=" else mask

    def in_list(self, node: InList) -> Mask:
        field = self.field(node.key)
        if field.kind in ("list", "files"):
            op: Operator = "=" if field.kind == "list" else ":"
            masks = [self.compare(Compare(node.key, op, value)) for value in node.values]
            mask = masks[0]
            for other in masks[1:]:
                if node.every:
                    mask &= other
                else:
                    mask |= other
            return mask
        if field.kind in ("number", "count"):
            name = _column_name(field.count_column if field.kind == "count" else field.sql)
            wanted = [values.number(value, field.name) for value in node.values]
            return np.isin(self.number(name), np.array(wanted, np.float64))
        if field.kind in ("text", "type"):
            mask = self.empty()
            for value in node.values:
                mask |= self.compare(Compare(node.key, "=", value))
            return mask
        mask = self.empty()
        for value in node.values:
            mask |= self.compare(Compare(node.key, ":", value))
        return mask

    def in_range(self, node: InRange) -> Mask:
        field = self.field(node.key)
        if field.kind == "date":
            low = values.date_prefix(node.low)
            high = values.date_prefix(node.high)
            return self.compare_date(">=", low) & self.compare_date("<=", high)
        if field.kind == "ratio":
            name = "ratio"
        elif field.kind == "count":
            name = _column_name(field.count_column)
        else:
            name = _column_name(field.sql)
        low_number = values.number(node.low, field.name if field.kind != "ratio" else "ratio")
        high_number = values.number(node.high, field.name if field.kind != "ratio" else "ratio")
        column = self.number(name)
        with np.errstate(invalid="ignore"):
            return (column >= low_number) & (column <= high_number)

    def count(self, node: Count) -> Mask:
        field = self.field(node.key)
        column = self.number(_column_name(field.count_column))
        return self.compare_numbers(column, node.op, values.number(node.value, "count"))

    def exists(self, node: Exists) -> Mask:
        key = node.key.text.casefold()
        if key in GEO_WORDS:
            return ~np.isnan(self.number("latitude")) & ~np.isnan(self.number("longitude"))
        if key in ("similar", "similarity", "vector", "vectors"):
            return _bool(self.number("has_vector") == 1.0)
        field = self.field(node.key)
        if field.count_column:
            return self.number(_column_name(field.count_column)) > 0
        if field.kind == "text":
            return self.text_column(field).present()
        if field.kind == "date":
            return _bool(self.columns.dates != b"")
        if field.kind == "bool":
            return _bool(self.number(_column_name(field.sql)) == 1.0)
        if field.kind == "similar":
            return _bool(self.number("has_vector") == 1.0)
        if field.kind == "duplicates":
            return self.rows_mask(self.duplicate_rows(DEFAULT_DUPLICATE_SCORE))
        if field.kind in ("id", "type"):
            return self.full()
        return ~np.isnan(self.number(_column_name(field.sql)))

    # --- order ----------------------------------------------------------------------------

    def order(self, rows: IntArray, order: OrderBy | None) -> IntArray:
        """``rows`` (ascending = timeline order) in the query's order."""
        if order is None or order.key.text.casefold() in ("similar", "similarity"):
            return rows
        field = self.field(order.key)
        descending = order.descending
        if order.count:
            counts = self.number(_column_name(field.count_column))[rows]
            keys = -counts if descending else counts
            return rows[np.lexsort((rows, keys))]
        ids = self.columns.id_rank[rows]
        id_keys = -ids if descending else ids
        if field.kind in ("number", "ratio", "bool"):
            name = "ratio" if field.kind == "ratio" else _column_name(field.sql)
            numbers = self.number(name)[rows]
            missing = np.isnan(numbers)
            keys = np.where(missing, 0.0, -numbers if descending else numbers)
            return rows[np.lexsort((id_keys, keys, missing))]
        if field.kind == "id":
            return rows[np.argsort(id_keys, kind="stable")]
        if field.kind == "date":
            # Rows are in date-descending order already, missing dates last.
            if descending:
                return rows
            known = self.columns.dates[rows] != b""
            return np.concatenate((rows[known][::-1], rows[~known][::-1]))
        ranks = self.text_column(field).ranks()[rows]
        missing = ranks < 0
        text_keys = -ranks if descending else ranks
        return rows[np.lexsort((id_keys, text_keys, missing))]
