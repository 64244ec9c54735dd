"""Query text → tokens, each with the column it starts at.

Words run until whitespace or a punctuation character, so ``year:2021`` is three
tokens and ``2018-01-10`` one. ``spaced`` records whether whitespace came before a
token: the parser glues ``1`` ``:`` ``30`` back into the duration ``1:30`` only when
they touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from homegallery.catalog.query.errors import QueryError

TokenKind = Literal["word", "text", "punct", "end"]

KEYWORDS = frozenset(
    {"and", "or", "not", "all", "in", "order", "by", "asc", "desc", "count", "exists"}
)
_PUNCT_TWO = ("!=", "<=", ">=")
_PUNCT_ONE = frozenset("()[]:,=<>~")
_QUOTES = frozenset("'\"")


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    value: str  # the word, the unquoted text, or the punctuation itself
    column: int  # 1-based
    spaced: bool = True  # whitespace (or the start) precedes the token

    @property
    def keyword(self) -> str | None:
        """The keyword this word is (any case), or None; quoted text is never a keyword."""
        if self.kind == "word" and self.value.lower() in KEYWORDS:
            return self.value.lower()
        return None

    def is_punct(self, *values: str) -> bool:
        return self.kind == "punct" and self.value in values

    def describe(self) -> str:
        if self.kind == "end":
            return "the end of the query"
        if self.kind == "text":
            return f"text {self.value!r}"
        return repr(self.value)


def tokenize(query: str) -> list[Token]:
    """All tokens of ``query`` followed by one ``end`` token."""
    tokens: list[Token] = []
    position = 0
    length = len(query)
    spaced = True
    while position < length:
        char = query[position]
        if char.isspace():
            position += 1
            spaced = True
            continue
        column = position + 1
        pair = query[position : position + 2]
        if pair in _PUNCT_TWO:
            tokens.append(Token("punct", pair, column, spaced))
            position += 2
        elif char in _PUNCT_ONE:
            tokens.append(Token("punct", char, column, spaced))
            position += 1
        elif char in _QUOTES:
            end = query.find(char, position + 1)
            if end < 0:
                raise QueryError(
                    f"quoted text is not closed (add a {char} at the end)",
                    column=column,
                    expected=char,
                    found="the end of the query",
                )
            tokens.append(Token("text", query[position + 1 : end], column, spaced))
            position = end + 1
        else:
            end = position
            while end < length:
                current = query[end]
                if current.isspace() or current in _PUNCT_ONE or current in _QUOTES:
                    break
                if query[end : end + 2] in _PUNCT_TWO:
                    break
                end += 1
            tokens.append(Token("word", query[position:end], column, spaced))
            position = end
        spaced = False
    tokens.append(Token("end", "", length + 1, True))
    return tokens
