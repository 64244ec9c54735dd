"""A viewer's filter joined to what they ask for, so that no query can see past it.

The filter and the query are parsed on their own, then joined as text
``(filter) and (query) order by …`` for the catalog's search. Joining text alone
could be escaped (a query such as ``x) or (y`` would reopen the parentheses), so the
joined text is parsed again and must give exactly ``And(filter, query)`` with the
query's ordering; anything else is refused. The catalog checks and runs the result
as every other query.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from homegallery.catalog.query import QueryError, parse
from homegallery.catalog.query.ast import And, Query
from homegallery.catalog.query.lexer import tokenize
from homegallery.catalog.query.parser import JOINED_DEPTH


def _shape(node: Any) -> Any:
    """The tree with every column set to 0: what a query means, not where it was written."""
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        changes = {
            field.name: 0 if field.name == "column" else _shape(getattr(node, field.name))
            for field in dataclasses.fields(node)
        }
        return dataclasses.replace(node, **changes)
    if isinstance(node, tuple):
        return tuple(_shape(item) for item in node)
    return node


def split_order(query: str) -> tuple[str, str]:
    """``query`` as (filter part, ``order by …`` part); order by is only valid at the top."""
    depth = 0
    tokens = tokenize(query)
    for index, token in enumerate(tokens):
        if token.is_punct("(", "["):
            depth += 1
        elif token.is_punct(")", "]"):
            depth -= 1
        elif (
            depth == 0
            and token.keyword == "order"
            and index + 1 < len(tokens)
            and tokens[index + 1].keyword == "by"
        ):
            cut = token.column - 1
            return query[:cut], query[cut:]
    return query, ""


class ScopedQuery:
    """The query text to search with, and where the user's own text starts in it."""

    def __init__(self, text: str, offset: int) -> None:
        self.text = text
        self.offset = offset  # columns to subtract to point into the user's query

    def user_error(self, error: QueryError) -> QueryError:
        """An error of the joined text, with the column moved into the user's query."""
        column = max(1, error.column - self.offset)
        return QueryError(error.message, column=column, expected=error.expected, found=error.found)


def scope_query(filter_text: str, query: str) -> ScopedQuery:
    """The text that finds what ``query`` finds among the entries ``filter_text`` allows.

    Raises :class:`QueryError` (columns in ``query``) when the query is invalid.
    """
    asked = parse(query)
    if not filter_text.strip():
        return ScopedQuery(query, 0)
    allowed = parse(filter_text)
    if allowed.filter is None:
        return ScopedQuery(query, 0)
    body, order = split_order(query)
    if asked.filter is None:
        text = f"({filter_text}) {order}".rstrip()
        expected = Query(allowed.filter, asked.order)
        offset = len(filter_text) + 3 - len(body)  # the order clause starts after `(…) `
    else:
        prefix = f"({filter_text}) and ("
        text = f"{prefix}{body}) {order}".rstrip()
        expected = Query(And((allowed.filter, asked.filter)), asked.order)
        offset = len(prefix)
    joined = parse(text, max_depth=JOINED_DEPTH)
    if _shape(joined) != _shape(expected):
        raise QueryError(
            "the query cannot be combined with your access filter",
            column=1,
            expected="a query of terms, parentheses and order by",
        )
    return ScopedQuery(text, offset)
