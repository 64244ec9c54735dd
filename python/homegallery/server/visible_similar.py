"""``similar:<id>`` for a viewer with a filter: the id is looked up among what they see.

The catalog reads the id of a ``similar:`` term as a prefix of any entry's id, so its
answers for a filtered viewer would tell hidden entries apart from made-up ids: "no
entry with id …" for one, "has no similarity vector" or "matches more than one
entry" for the other. Here each such id is first looked up among the entries the
viewer's filter allows: none gives the catalog's own answer for an id nobody has,
and one is written into the query as the full id, so the catalog never resolves a
prefix over hidden entries. Error columns still point into the query as written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from homegallery.catalog.query import QueryError, compile_query
from homegallery.catalog.query.compiler import SimilarTerm
from homegallery.catalog.query.lexer import tokenize
from homegallery.server.scope import ScopedQuery

_EXPECTED = "a media id with a vector"


@dataclass(frozen=True)
class _Replacement:
    column: int  # 1-based, in the query as written
    length: int  # characters replaced there
    text: str


class ResolvedQuery:
    """A query with its ``similar:`` ids written out in full, and the way back to the
    columns of the query as the viewer wrote it."""

    def __init__(self, original: str, replacements: list[_Replacement]) -> None:
        self.replacements = sorted(replacements, key=lambda item: item.column)
        text = original
        for item in reversed(self.replacements):
            start = item.column - 1
            text = text[:start] + item.text + text[start + item.length :]
        self.text = text

    def original_column(self, column: int) -> int:
        """The column in the query as written of ``column`` in :attr:`text`."""
        shift = 0
        for item in self.replacements:
            start = item.column + shift
            if column < start:
                break
            if column < start + len(item.text):
                return item.column
            shift += len(item.text) - item.length
        return max(1, column - shift)

    def error(self, error: QueryError) -> QueryError:
        return QueryError(
            error.message,
            column=self.original_column(error.column),
            expected=error.expected,
            found=error.found,
        )

    def scoped(self, scoped: ScopedQuery) -> ScopedQuery:
        return _ResolvedScope(scoped, self)


class _ResolvedScope(ScopedQuery):
    def __init__(self, scoped: ScopedQuery, resolved: ResolvedQuery) -> None:
        super().__init__(scoped.text, scoped.offset)
        self.resolved = resolved

    def user_error(self, error: QueryError) -> QueryError:
        return self.resolved.error(super().user_error(error))


def resolve_similar(query: str, visible_ids: Callable[[str], list[str]]) -> ResolvedQuery:
    """``query`` with each ``similar:`` id replaced by the one visible entry it names.

    ``visible_ids(prefix)`` gives (at most two of) the ids the viewer may see that
    start with ``prefix``. Raises :class:`QueryError`, columns in ``query``, for a
    query that does not compile or an id that names no visible entry or several.
    """
    terms = [term for term in compile_query(query).similar if isinstance(term, SimilarTerm)]
    if not terms:
        return ResolvedQuery(query, [])
    tokens = {token.column: token for token in tokenize(query)}
    replacements = []
    for term in terms:
        found = visible_ids(term.media_id)
        if term.media_id in found:
            full_id = term.media_id
        elif len(found) == 1:
            full_id = found[0]
        elif not found:
            raise QueryError(
                f"no entry with id {term.media_id}", column=term.column, expected=_EXPECTED
            )
        else:
            raise QueryError(
                f"id prefix {term.media_id} matches more than one entry; give more of it",
                column=term.column,
                expected=_EXPECTED,
            )
        token = tokens[term.column]
        length = len(token.value) + (2 if token.kind == "text" else 0)
        if token.kind == "text" or token.value != full_id:
            replacements.append(_Replacement(term.column, length, full_id))
    return ResolvedQuery(query, replacements)
