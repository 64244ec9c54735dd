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

from homegallery import _core
from homegallery.catalog.columns import Columns, FloatArray, IntArray, TextColumn
from homegallery.catalog.query import checked as c
from homegallery.catalog.query.fields import (
    MATCH_PART,
    MATCH_WHOLE,
    MATCH_WORD,
    OTHER_PLACES,
    PANORAMA_RATIO,
    SQUARE_TOLERANCE,
    WORD_SOURCES,
    WordSource,
)

Mask = np.ndarray[Any, np.dtype[np.bool_]]
# similar:<id> terms, resolved by the search: the rows of the entries similar to it
SimilarRows = Callable[[c.SimilarTo], IntArray]
# duplicates terms, resolved by the search: cosine → rows of entries with a near-duplicate
DuplicateRows = Callable[[float], IntArray]
# text: terms, resolved by the search (it runs the CLIP text model): the rows they match
TextRows = Callable[[c.ClipText], IntArray]


def _bool(value: Any) -> Mask:
    """numpy comparisons are typed loosely; this states what they give."""
    result: Mask = value
    return result


def _random_seed() -> int:
    """`order by random`: one shuffle per day (UTC), so every page of it agrees."""
    return int(time.time()) // 86400


def _no_duplicates(min_score: float) -> IntArray:
    return np.zeros(0, np.int64)


def _no_texts(term: c.ClipText) -> IntArray:
    return np.zeros(0, np.int64)


class Evaluator:
    def __init__(
        self,
        columns: Columns,
        similar_rows: SimilarRows,
        duplicate_rows: DuplicateRows = _no_duplicates,
        text_rows: TextRows = _no_texts,
        rank_words: bool = True,
    ) -> None:
        self.columns = columns
        # False: bare words only select (the query is not ordered by relevance), so how
        # well a word matches is not graded, which saves two of the three text passes
        self.rank_words = rank_words
        self.similar_rows = similar_rows
        self.duplicate_rows = duplicate_rows
        self.text_rows = text_rows
        self.size = columns.size
        self.word_scores: dict[c.FreeText, FloatArray] = {}

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
        return _bool(self.word_score(node) > 0)

    # --- word scores ----------------------------------------------------------------------

    def word_score(self, node: c.FreeText) -> FloatArray:
        """How well each entry matches a bare word (0: not at all), see ``WORD_SOURCES``:
        the best place's score and ``OTHER_PLACES`` of every other one's."""
        found = self.word_scores.get(node)
        if found is None:
            best = np.zeros(self.size)
            total = np.zeros(self.size)
            for source in WORD_SOURCES:
                score = _PLACES[source.place](self, source, node)
                if score is not None:  # None: the word is not there
                    np.maximum(best, score, out=best)
                    total += score
            found = self.word_scores[node] = best + OTHER_PLACES * (total - best)
        return found

    def relevance(self, words: tuple[c.FreeText, ...]) -> FloatArray:
        """The query's words' scores added up (each evaluated already, or now)."""
        total = np.zeros(self.size)
        for word in words:
            total += self.word_score(word)
        return total

    def _graded(
        self, weight: float, text: TextColumn, word: str, rows: IntArray | None = None
    ) -> FloatArray | None:
        """``weight`` × how well ``word`` matches in ``text``; ``rows``: each value's entry
        row (``text`` holds one value per row when None)."""
        contained = text.rows_containing(word)
        if not len(contained):
            return None
        score = np.zeros(self.size)
        grades = (
            ((MATCH_PART, contained),
             (MATCH_WORD, text.rows_with_word(word, contained)),
             (MATCH_WHOLE, text.rows_equal(word, contained)))
            if self.rank_words
            else ((MATCH_PART, contained),)
        )  # fmt: skip
        for quality, found in grades:
            if len(found):
                target = found if rows is None else rows[found]
                score[target] = np.maximum(score[target], weight * quality)
        return score

    def _column_score(self, source: WordSource, node: c.FreeText) -> FloatArray | None:
        return self._graded(source.weight, self.columns.text(source.name), node.word)

    def _values_score(self, source: WordSource, node: c.FreeText) -> FloatArray | None:
        score = None
        word = node.word
        items: list[tuple[str, IntArray, FloatArray | None]]
        if source.scored:
            scored = self.columns.value_scores(source.name)
            items = [(value, rows, scores) for value, (rows, scores) in scored.items()]
        else:
            items = [
                (value, rows, None) for value, rows in self.columns.values(source.name).items()
            ]
        for value, rows, scores in items:
            if word not in value:
                continue
            if value == word:
                quality = MATCH_WHOLE
            elif not self.rank_words:
                quality = MATCH_PART
            else:
                quality = MATCH_WORD if _core.has_word(value, word) else MATCH_PART
            score = np.zeros(self.size) if score is None else score
            score[rows] = np.maximum(score[rows], _sure(scores) * (source.weight * quality))
        return score

    def _label_score(self, source: WordSource, node: c.FreeText) -> FloatArray | None:
        """A label counts by its probability and by how well the word names its class."""
        return self._class_score(source, node.labels, node.label_weights)

    def _object_score(self, source: WordSource, node: c.FreeText) -> FloatArray | None:
        """An object counts by its detection score and by how well the word names its
        class (``animal`` a horse less than ``horse`` does)."""
        return self._class_score(source, node.objects, node.object_weights)

    def _class_score(
        self, source: WordSource, classes: tuple[str, ...], weights: tuple[float, ...]
    ) -> FloatArray | None:
        score = None
        scored = self.columns.value_scores(source.name)
        for wnid, weight in zip(classes, weights, strict=True):
            if wnid in scored:
                rows, scores = scored[wnid]
                score = np.zeros(self.size) if score is None else score
                score[rows] = np.maximum(score[rows], _sure(scores) * (source.weight * weight))
        return score

    def _day_score(self, source: WordSource, node: c.FreeText) -> FloatArray | None:
        return self._graded(source.weight, self.columns.days(), node.word)

    def _file_score(self, source: WordSource, node: c.FreeText) -> FloatArray | None:
        paths = self.columns.file_column("path")
        return self._graded(source.weight, paths, node.word, self.columns.file_rows())

    def _id_score(self, source: WordSource, node: c.FreeText) -> FloatArray | None:
        rows = self.columns.rows_with_id_prefix(node.word)
        if not len(rows):
            return None
        score = np.zeros(self.size)
        score[rows] = source.weight
        return score

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
            files = self.columns.file_column("path").rows_starting_with(node.prefix, files)
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

    def clip_text(self, node: c.ClipText) -> Mask:
        return self.rows_mask(self.text_rows(node))

    def duplicates(self, node: c.Duplicates) -> Mask:
        return self.rows_mask(self.duplicate_rows(node.min_score))

    # --- order ----------------------------------------------------------------------------

    def order(
        self, rows: IntArray, order: c.Order | None, words: tuple[c.FreeText, ...] = ()
    ) -> IntArray:
        """``rows`` (ascending = timeline order) in the query's order; ``words``: what
        ``relevance`` ranks by."""
        if order is None:
            return rows
        descending = order.descending
        if order.by == "relevance":
            scores = self.relevance(words)[rows]
            return rows[np.argsort(-scores if descending else scores, kind="stable")]
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


def _sure(scores: FloatArray | None) -> FloatArray | float:
    """A model's scores (see ``Columns.value_scores``); 1 for a source without them."""
    return 1.0 if scores is None else scores


_PLACES: dict[str, Callable[[Evaluator, WordSource, c.FreeText], FloatArray | None]] = {
    "column": Evaluator._column_score,
    "values": Evaluator._values_score,
    "labels": Evaluator._label_score,
    "objects": Evaluator._object_score,
    "day": Evaluator._day_score,
    "files": Evaluator._file_score,
    "id": Evaluator._id_score,
}

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
    c.ClipText: Evaluator.clip_text,
}
