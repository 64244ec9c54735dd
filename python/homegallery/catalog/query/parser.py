"""Tokens → :class:`~homegallery.catalog.query.ast.Query` (recursive descent).

Grammar (keywords in any case)::

    query   := [or] ["order" "by" order] END
    or      := and ("or" and)*
    and     := unary (["and"] unary)*        -- terms side by side are AND-ed
    unary   := "not" unary | primary
    primary := "(" or ")"
             | "count" "(" KEY ")" OP value
             | "exists" "(" KEY ")" | "exists" KEY
             | KEY (":" | OP) value | KEY ":" list
             | KEY ["all" | "not"] "in" (list | range)
             | WORD | TEXT                  -- free text
    list    := "(" value ([","] value)* ")"
    range   := "[" value ":" value "]"
    order   := ("count" "(" KEY ")" | KEY) ["asc" | "desc"]

Keywords lose their meaning where it would not fit (``count`` not followed by ``(``
is just a word), so free text rarely trips over them; ``and``, ``or`` and ``not`` are
always operators.
"""

from __future__ import annotations

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
from homegallery.catalog.query.lexer import Token, tokenize

MAX_DEPTH = 16  # nesting of parentheses; deeper input is refused
# A server joins a viewer's filter and their query as `(filter) and (query)`: one level
# more than either. The catalog runs such texts, so it accepts that much; a query as
# written is held to MAX_DEPTH wherever it comes in, filter or not.
JOINED_DEPTH = MAX_DEPTH + 1
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=", "~")
_OPERATORS_TEXT = "':', '=', '!=', '<', '<=', '>', '>=' or '~'"


def parse(query: str, *, max_depth: int = MAX_DEPTH) -> Query:
    """Parses ``query``; raises :class:`QueryError` with the column on any mistake."""
    return _Parser(tokenize(query), max_depth).parse_query()


class _Parser:
    def __init__(self, tokens: list[Token], max_depth: int) -> None:
        self.tokens = tokens
        self.position = 0
        self.depth = 0
        self.max_depth = max_depth

    # --- token helpers --------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        index = min(self.position + ahead, len(self.tokens) - 1)
        return self.tokens[index]

    def advance(self) -> Token:
        token = self.peek()
        if token.kind != "end":
            self.position += 1
        return token

    def fail(self, expected: str, token: Token | None = None) -> QueryError:
        token = token or self.peek()
        found = token.describe()
        return QueryError(
            f"expected {expected}, found {found}",
            column=token.column,
            expected=expected,
            found=found,
        )

    def expect_punct(self, value: str) -> Token:
        token = self.peek()
        if not token.is_punct(value):
            raise self.fail(f"'{value}'")
        return self.advance()

    def at_order_by(self) -> bool:
        return self.peek().keyword == "order" and self.peek(1).keyword == "by"

    def starts_term(self) -> bool:
        token = self.peek()
        if token.kind == "end" or token.is_punct(")") or self.at_order_by():
            return False
        return token.keyword not in ("or", "and")

    # --- grammar --------------------------------------------------------------------

    def parse_query(self) -> Query:
        node: Node | None = None
        if self.peek().kind != "end" and not self.at_order_by():
            node = self.parse_or()
        order = None
        if self.at_order_by():
            self.position += 2
            order = self.parse_order()
        token = self.peek()
        if token.kind != "end":
            if token.is_punct(")"):
                raise QueryError(
                    "unbalanced ')' (no '(' to close)",
                    column=token.column,
                    expected="a term or the end of the query",
                    found="')'",
                )
            raise self.fail("a term or the end of the query")
        return Query(node, order)

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.peek().keyword == "or":
            self.advance()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_unary()]
        while True:
            if self.peek().keyword == "and":
                self.advance()
                operands.append(self.parse_unary())
            elif self.starts_term():
                operands.append(self.parse_unary())
            else:
                break
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_unary(self) -> Node:
        negations = 0
        while self.peek().keyword == "not":  # a loop: `not not … x` must not recurse
            self.advance()
            negations += 1
        node = self.parse_primary()
        return Not(node) if negations % 2 else node

    def parse_primary(self) -> Node:
        token = self.peek()
        if token.is_punct("("):
            self.advance()
            with _Nesting(self, token):
                if self.peek().is_punct(")"):
                    raise self.fail("a term inside '( )'")
                node = self.parse_or()
            self.expect_punct(")")
            return node
        if token.keyword == "count" and self.peek(1).is_punct("("):
            self.advance()
            key = self.parse_call_key()
            op = self.parse_operator(allow_colon=True)
            return Count(key, op, self.parse_value())
        if token.keyword == "exists" and (
            self.peek(1).is_punct("(") or self.peek(1).kind == "word"
        ):
            self.advance()
            if self.peek().is_punct("("):
                return Exists(self.parse_call_key())
            return Exists(self.parse_key())
        if token.kind == "text":
            self.advance()
            return Text(Value(token.value, token.column, quoted=True))
        if token.kind == "word" and token.keyword not in ("and", "or", "not"):
            return self.parse_word_term()
        if token.kind == "end":
            raise self.fail("a term")
        raise self.fail("a term (a word, quoted text, key:value or '(')")

    def parse_word_term(self) -> Node:
        word = self.advance()
        key = Value(word.value, word.column)
        following = self.peek()
        if following.is_punct(":"):
            self.advance()
            if self.peek().is_punct("("):
                return InList(key, self.parse_list())
            return Compare(key, ":", self.parse_value())
        if following.kind == "punct" and following.value in _COMPARISONS:
            op = self.parse_operator(allow_colon=False)
            return Compare(key, op, self.parse_value())
        if following.keyword == "in":
            self.advance()
            return self.parse_membership(key, every=False)
        if following.keyword in ("all", "not") and self.peek(1).keyword == "in":
            self.advance()
            self.advance()
            if following.keyword == "not":
                return Not(self.parse_membership(key, every=False))
            return self.parse_membership(key, every=True)
        return Text(key)

    def parse_membership(self, key: Value, every: bool) -> Node:
        token = self.peek()
        if token.is_punct("("):
            return InList(key, self.parse_list(), every=every)
        if token.is_punct("["):
            if every:
                raise self.fail("a list '(a, b)' after 'all in'")
            return self.parse_range(key)
        raise self.fail("a list '(a, b)' or a range '[low:high]'")

    def parse_call_key(self) -> Value:
        self.expect_punct("(")
        key = self.parse_key()
        self.expect_punct(")")
        return key

    def parse_key(self) -> Value:
        token = self.peek()
        if token.kind != "word":
            raise self.fail("a key such as tags, faces or latitude")
        self.advance()
        return Value(token.value, token.column)

    def parse_operator(self, allow_colon: bool) -> Operator:
        token = self.peek()
        valid = _COMPARISONS + ((":",) if allow_colon else ())
        if token.kind != "punct" or token.value not in valid:
            raise self.fail(f"a comparison ({_OPERATORS_TEXT})")
        self.advance()
        op: Operator = token.value  # type: ignore[assignment]
        return op

    def parse_value(self) -> Value:
        """A word or quoted text; touching ``word:word`` runs join (``1:30``, ``12:00``)."""
        token = self.peek()
        if token.kind == "text":
            self.advance()
            return Value(token.value, token.column, quoted=True)
        if token.kind != "word":
            raise self.fail("a value")
        self.advance()
        text = token.value
        while (
            self.peek().is_punct(":")
            and not self.peek().spaced
            and self.peek(1).kind == "word"
            and not self.peek(1).spaced
        ):
            self.advance()
            text += ":" + self.advance().value
        return Value(text, token.column)

    def parse_list(self) -> tuple[Value, ...]:
        self.expect_punct("(")
        values: list[Value] = []
        while True:
            token = self.peek()
            if token.is_punct(")"):
                if not values:
                    raise self.fail("a value in the list")
                self.advance()
                return tuple(values)
            if token.is_punct(",") and values:
                self.advance()
                if self.peek().is_punct(")"):
                    raise self.fail("a value after ','")
                continue
            if token.kind not in ("word", "text"):
                raise self.fail("a value or ')'" if values else "a value in the list")
            values.append(self.parse_value())

    def parse_range(self, key: Value) -> Node:
        self.expect_punct("[")
        low = self.parse_bare_value()
        self.expect_punct(":")
        high = self.parse_bare_value()
        self.expect_punct("]")
        return InRange(key, low, high)

    def parse_bare_value(self) -> Value:
        token = self.peek()
        if token.kind not in ("word", "text"):
            raise self.fail("a value")
        self.advance()
        return Value(token.value, token.column, quoted=token.kind == "text")

    def parse_order(self) -> OrderBy:
        count = False
        if self.peek().keyword == "count" and self.peek(1).is_punct("("):
            self.advance()
            key = self.parse_call_key()
            count = True
        else:
            key = self.parse_key()
        direction = self.peek().keyword
        if direction in ("asc", "desc"):
            self.advance()
            return OrderBy(key, count, descending=direction == "desc")
        return OrderBy(key, count)


class _Nesting:
    """Counts nesting so hostile input ends in a QueryError, not a RecursionError.

    The checker and the engine recurse once per level, so the bound keeps them far
    from Python's recursion limit; no query a person writes nests half as deep.
    """

    def __init__(self, parser: _Parser, token: Token) -> None:
        self.parser = parser
        self.token = token

    def __enter__(self) -> None:
        self.parser.depth += 1
        if self.parser.depth > self.parser.max_depth:
            raise QueryError(
                f"the query is nested too deeply (more than {self.parser.max_depth} levels)",
                column=self.token.column,
                expected="fewer '('",
                found=self.token.describe(),
            )

    def __exit__(self, *exc: object) -> None:
        self.parser.depth -= 1
