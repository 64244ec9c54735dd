"""Every match of a query, in order, kept per catalog generation for its next pages.

Scrolling the grid asks for page after page of one query, and the search box and
the grid ask for its count and its first page together. Evaluating a query over
100k entries takes milliseconds when a bare word is searched in every text (the
page itself then takes a fraction of a millisecond), so a query's ordered match
(rows of the column snapshot) is kept: its next page, its count, and the same query
from another request are slices of it.

The key is the scoped text, the query joined to the viewer's filter exactly as it
is searched: two viewers share matches only when they search the same text, which
gives the same ids. ``order by random`` shuffles once a day, so the day is part of
the key too.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from homegallery.catalog.search import Match
from homegallery.server.generational import GenerationalCache

# Bytes of matches kept over all queries (4 bytes a match: rows of the column
# snapshot, which the matches keep until the next generation); the least recently used
# query goes first. At a million entries this keeps a dozen queries matching most of
# the catalog, so paging through any of them does not evaluate it again.
DEFAULT_BUDGET = 48 << 20
_SMALLEST = 512  # what a query with few matches counts for


def _day() -> int:
    return int(time.time()) // 86400


class MatchCache:
    """Ordered matches of recent queries of the newest catalog generation; thread-safe."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self._kept: GenerationalCache[Match] = GenerationalCache(budget, _weight)

    @property
    def evaluated(self) -> int:
        """Queries evaluated (the rest were found here)."""
        return self._kept.misses

    def match(self, generation: int, text: str, evaluate: Callable[[str], Match]) -> Match:
        """Every match of ``text`` at ``generation``, in order; ``evaluate`` runs the
        search when it is not kept. Read the generation before ``evaluate`` reads."""
        key = (text, _day())
        found = self._kept.get(generation, key)
        if found is None:
            found = evaluate(text)
            self._kept.put(generation, key, found)
        return found


def _weight(match: Match) -> int:
    return max(_SMALLEST, match.nbytes)
