"""The parsed form of a query: a small tree of frozen dataclasses.

The parser builds it without knowing any field; the checker (:mod:`.check`) gives it
meaning. Every node keeps the column it came from so that the checker's errors (an
unknown key, a value that is not a number) point at the right place too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Operator = Literal[":", "=", "!=", "<", "<=", ">", ">=", "~"]


@dataclass(frozen=True)
class Value:
    text: str
    column: int
    quoted: bool = False


@dataclass(frozen=True)
class Text:
    """A bare word or quoted text: matched against the entry's text (and id prefix)."""

    value: Value


@dataclass(frozen=True)
class Compare:
    """``key:value`` and ``key <op> value``."""

    key: Value
    op: Operator
    value: Value


@dataclass(frozen=True)
class InList:
    """``key in (a, b)`` (any) and ``key all in (a, b)`` (every one)."""

    key: Value
    values: tuple[Value, ...]
    every: bool = False


@dataclass(frozen=True)
class InRange:
    """``key in [low:high]``, both ends included."""

    key: Value
    low: Value
    high: Value


@dataclass(frozen=True)
class Count:
    """``count(key) <op> number``."""

    key: Value
    op: Operator
    value: Value


@dataclass(frozen=True)
class Exists:
    """``exists(key)`` or ``exists key``."""

    key: Value


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Node, ...]


Node = Text | Compare | InList | InRange | Count | Exists | Not | And | Or


@dataclass(frozen=True)
class OrderBy:
    """``order by <key>`` or ``order by count(<key>)``, with its direction (None: none
    written, so the key's own: newest or largest first for dates, sizes, counts)."""

    key: Value
    count: bool = False
    descending: bool | None = None


@dataclass(frozen=True)
class Query:
    """A whole query: an optional filter (None matches everything) and ordering."""

    filter: Node | None
    order: OrderBy | None = None
