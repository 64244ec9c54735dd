"""The query engine: a checked query → a boolean mask over a :class:`Columns` snapshot.

Runs what :mod:`.check` made and nothing else: every key, operator and value was
resolved there, so nothing here raises :class:`QueryError` except the lookup of a
``similar:`` id, which needs the catalog.

Missing values are NaN in number columns and empty in text ones: a test of a missing
value is false, its negation (``~mask``) true, as :mod:`.checked` says.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from homegallery.catalog.columns import Columns, FloatArray, IntArray, TextColumn
from homegallery.catalog.query import checked as c
from homegallery.catalog.query.fields import (
    FREE_TEXT_COLUMNS,
    FREE_TEXT_VALUES,
    PANORAMA_RATIO,
    SQUARE_TOLERANCE,
)

Mask = np.ndarray[Any, np.dtype[np.bool_]]
# similar:<id> terms, resolved by the search: the rows of the entries similar to it
SimilarRows = Callable[[c.SimilarTo], IntArray]
# duplicates terms, resolved by the search: cosine → rows of entries with a near-duplicate
DuplicateRows = Callable[[float], IntArray]


def _bool(value: Any) -> Mask:
    """numpy comparisons are typed loosely; this states what they give."""
    result: Mask = value
    return result


def _random_seed() -> int:
    """`order by random`: one shuffle per day (UTC), so every page of it agrees."""
    return int(time.time()) // 86400


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

    def text_column(self, columns: tuple[str, ...]) -> TextColumn:
        if len(columns) > 1:
            return self.columns.composite(columns)
        return self.columns.text(columns[0])

    @staticmethod
    def compare_numbers(column: FloatArray, op: c.Comparison, number: float) -> Mask:
        with np.errstate(invalid="ignore"):
            if op == "=":
                return _bool(column == number)
            if op == "!=":
                return _bool(column != number)  # NaN != x: a missing value is not x
            if op == "<":
                return column < number
            if op == "<=":
                return column <= number
            if op == ">":
                return column > number
            return column >= number

    # --- tree ---------------------------------------------------------------------------

    def node(self, node: c.Node) -> Mask:
        run: Callable[[Evaluator, Any], Mask] = _RUNS[type(node)]
        return run(self, node)

    def all_of(self, node: c.And) -> Mask:
        mask = self.node(node.operands[0])
        for operand in node.operands[1:]:
            mask &= self.node(operand)
        return mask

    def any_of(self, node: c.Or) -> Mask:
        mask = self.node(node.operands[0])
        for operand in node.operands[1:]:
            mask |= self.node(operand)
        return mask

    def negation(self, node: c.Not) -> Mask:
        return ~self.node(node.operand)

    def everything(self, node: c.Everything) -> Mask:
        return self.full()

    def nothing(self, node: c.Nothing) -> Mask:
        return self.empty()

    def free_text(self, node: c.FreeText) -> Mask:
        word, columns = node.word, self.columns
        mask = self.empty()
        for name in FREE_TEXT_COLUMNS:
            mask[columns.text(name).rows_containing(word)] = True
        for key in FREE_TEXT_VALUES:
            for part, rows in columns.values(key).items():
                if word in part:
                    mask[rows] = True
        mask |= self.label_mask(node.labels)
        mask[columns.days().rows_containing(word)] = True
        mask[columns.file_rows()[columns.file_column("path").rows_containing(word)]] = True
        mask[columns.rows_with_id_prefix(word)] = True
        return mask

    def shape(self, node: c.Shape) -> Mask:
        ratio = self.number("ratio")
        with np.errstate(invalid="ignore"):
            if node.word == "landscape":
                return ratio > 1.0
            if node.word == "portrait":
                return ratio < 1.0
            if node.word == "square":
                return np.abs(ratio - 1.0) < SQUARE_TOLERANCE
            return (ratio >= PANORAMA_RATIO) | (ratio <= 1 / PANORAMA_RATIO)

    def number_test(self, node: c.NumberTest) -> Mask:
        return self.compare_numbers(self.number(node.column), node.op, node.number)

    def number_in(self, node: c.NumberIn) -> Mask:
        return np.isin(self.number(node.column), np.array(node.numbers, np.float64))

    def number_range(self, node: c.NumberRange) -> Mask:
        column = self.number(node.column)
        with np.errstate(invalid="ignore"):
            return (column >= node.low) & (column <= node.high)

    def number_known(self, node: c.NumberKnown) -> Mask:
        return ~np.isnan(self.number(node.column))

    def date_test(self, node: c.DateTest) -> Mask:
        dates = self.columns.date_values(node.column)
        known = dates != b""
        wanted = node.prefix.encode()
        if node.op == "~":
            return _bool(known & np.char.find(dates, wanted).__ge__(0))
        cut = dates.astype(f"S{len(wanted)}")
        if node.op == "=":
            return _bool(known & (cut == wanted))
        if node.op == "<":
            return _bool(known & (cut < wanted))
        if node.op == "<=":
            return _bool(known & (cut <= wanted))
        if node.op == ">":
            return _bool(known & (cut > wanted))
        return _bool(known & (cut >= wanted))

    def date_known(self, node: c.DateKnown) -> Mask:
        return _bool(self.columns.date_values(node.column) != b"")

    def text_test(self, node: c.TextTest) -> Mask:
        texts = self.text_column(node.columns)
        search = texts.rows_containing if node.contains else texts.rows_equal
        return self.rows_mask(search(node.text))

    def text_known(self, node: c.TextKnown) -> Mask:
        return self.text_column(node.columns).present()

    def label_in(self, node: c.LabelIn) -> Mask:
        return self.label_mask(node.classes)

    def label_mask(self, classes: tuple[str, ...]) -> Mask:
        """Entries with a label of one of ``classes`` (labels are stored by class id)."""
        found = self.columns.values("label")
        rows = [found[wnid] for wnid in classes if wnid in found]
        return self.rows_mask(np.concatenate(rows)) if rows else self.empty()

    def value_test(self, node: c.ValueTest) -> Mask:
        found = self.columns.values(node.key)
        if node.contains:
            rows = [r for value, r in found.items() if node.text in value]
            return self.rows_mask(np.concatenate(rows)) if rows else self.empty()
        return self.rows_mask(found.get(node.text, np.zeros(0, np.int64)))

    def file_test(self, node: c.FileTest) -> Mask:
        column = self.columns.file_column(node.column)
        search = column.rows_containing if node.contains else column.rows_equal
        return self.rows_mask(self.columns.file_rows()[search(node.text)])

    def folder_test(self, node: c.FolderTest) -> Mask:
        files = self.columns.file_column("folder").rows_equal(node.source)
        if node.prefix and len(files):
            paths = self.columns.file_column("path").values
            inside = np.fromiter(
                ((paths[file] or "").startswith(node.prefix) for file in files.tolist()),
                bool,
                len(files),
            )
            files = files[inside]
        return self.rows_mask(self.columns.file_rows()[files])

    def id_test(self, node: c.IdTest) -> Mask:
        if node.contains:
            ids = self.columns.ids
            return self.rows_mask(
                np.array([row for row, i in enumerate(ids) if node.text in i], np.int64)
            )
        return self.rows_mask(self.columns.rows_with_id_prefix(node.text))

    def type_is(self, node: c.TypeIs) -> Mask:
        return self.rows_mask(self.columns.text("type").rows_equal(node.type))

    def flag_is(self, node: c.FlagIs) -> Mask:
        return _bool(self.number(node.column) == (1.0 if node.value else 0.0))

    def similar_to(self, node: c.SimilarTo) -> Mask:
        return self.rows_mask(self.similar_rows(node))

    def duplicates(self, node: c.Duplicates) -> Mask:
        return self.rows_mask(self.duplicate_rows(node.min_score))

    # --- order ----------------------------------------------------------------------------

    def order(self, rows: IntArray, order: c.Order | None) -> IntArray:
        """``rows`` (ascending = timeline order) in the query's order."""
        if order is None:
            return rows
        descending = order.descending
        if order.by == "count":
            counts = self.number(order.column)[rows]
            keys = -counts if descending else counts
            return rows[np.lexsort((rows, keys))]
        if order.by == "random":
            shuffle = self.columns.random_keys(_random_seed())[rows]
            return rows[np.argsort(~shuffle if descending else shuffle, kind="stable")]
        if order.by == "date" and order.column in ("", "date"):
            # Rows are in date-descending order already, missing dates last.
            if descending:
                return rows
            known = self.columns.dates[rows] != b""
            return np.concatenate((rows[known][::-1], rows[~known][::-1]))
        if order.by == "date":  # another time (updated): ties in timeline order
            times = self.columns.date_values(order.column)[rows]
            missing = times == b""
            ranks = np.unique(times, return_inverse=True)[1].reshape(-1)
            time_keys = -ranks if descending else ranks
            return rows[np.lexsort((rows, time_keys, missing))]
        ids = self.columns.id_rank[rows]
        id_keys = -ids if descending else ids
        if order.by == "id":
            return rows[np.argsort(id_keys, kind="stable")]
        if order.by == "number":
            numbers = self.number(order.column)[rows]
            missing = np.isnan(numbers)
            keys = np.where(missing, 0.0, -numbers if descending else numbers)
            return rows[np.lexsort((id_keys, keys, missing))]
        ranks = self.columns.text(order.column).ranks()[rows]
        text_keys = -ranks if descending else ranks
        return rows[np.lexsort((id_keys, text_keys, ranks < 0))]


_RUNS: dict[type, Callable[[Evaluator, Any], Mask]] = {
    c.And: Evaluator.all_of,
    c.Or: Evaluator.any_of,
    c.Not: Evaluator.negation,
    c.Everything: Evaluator.everything,
    c.Nothing: Evaluator.nothing,
    c.FreeText: Evaluator.free_text,
    c.Shape: Evaluator.shape,
    c.NumberTest: Evaluator.number_test,
    c.NumberIn: Evaluator.number_in,
    c.NumberRange: Evaluator.number_range,
    c.NumberKnown: Evaluator.number_known,
    c.DateTest: Evaluator.date_test,
    c.DateKnown: Evaluator.date_known,
    c.TextTest: Evaluator.text_test,
    c.TextKnown: Evaluator.text_known,
    c.ValueTest: Evaluator.value_test,
    c.LabelIn: Evaluator.label_in,
    c.FileTest: Evaluator.file_test,
    c.FolderTest: Evaluator.folder_test,
    c.IdTest: Evaluator.id_test,
    c.TypeIs: Evaluator.type_is,
    c.FlagIs: Evaluator.flag_is,
    c.SimilarTo: Evaluator.similar_to,
    c.Duplicates: Evaluator.duplicates,
}
