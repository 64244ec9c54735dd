"""The one error a query can raise, with the place it went wrong.

Every problem with a user's query text, from the lexer to the compiler, is a
``QueryError``: callers (the search box, the CLI, the HTTP API) catch one type and can
point at the column, instead of guessing from a traceback.
"""

from __future__ import annotations

from homegallery.errors import HomeGalleryError


class QueryError(HomeGalleryError, ValueError):
    """A query that cannot be understood.

    ``column`` is 1-based in the query text; ``expected`` says what would have been
    valid there (``"a value"``, ``"')'"``, ``"a number"`` …) and ``found`` what was there.
    """

    def __init__(self, message: str, *, column: int, expected: str = "", found: str = "") -> None:
        super().__init__(f"column {column}: {message}")
        self.message = message
        self.column = column
        self.expected = expected
        self.found = found
