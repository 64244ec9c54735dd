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

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from homegallery.catalog.search import Match

# Matches kept over all queries (8 bytes each: rows of the column snapshot, which the
# matches keep until the next generation); the least recently used query goes first.
DEFAULT_BUDGET = 2_000_000
_SMALLEST = 64  # what a query with few matches counts for


def _day() -> int:
    return int(time.time()) // 86400


class MatchCache:
    """Ordered matches of recent queries of the newest catalog generation; thread-safe."""

    def __init__(self, budget: int = DEFAULT_BUDGET) -> None:
        self._budget = budget
        self._lock = threading.Lock()
        self._kept: OrderedDict[tuple[str, int], Match] = OrderedDict()
        self._generation = -1
        self._size = 0
        self.evaluated = 0  # queries evaluated (the rest were found here)

    def match(self, generation: int, text: str, evaluate: Callable[[str], Match]) -> Match:
        """Every match of ``text`` at ``generation``, in order; ``evaluate`` runs the
        search when it is not kept. Read the generation before ``evaluate`` reads."""
        key = (text, _day())
        with self._lock:
            if generation > self._generation:
                # Let go of the old matches first: they hold the old column snapshot,
                # which the reader frees before it loads the new one.
                self._kept.clear()
                self._size = 0
                self._generation = generation
            elif generation == self._generation and (found := self._kept.get(key)) is not None:
                self._kept.move_to_end(key)
                return found
        made = evaluate(text)
        self._keep(generation, key, made)
        return made

    def _keep(self, generation: int, key: tuple[str, int], made: Match) -> None:
        with self._lock:
            self.evaluated += 1
            if generation < self._generation:
                return  # made from an older catalog while a newer one was read
            if generation > self._generation:
                self._kept.clear()
                self._size = 0
                self._generation = generation
            old = self._kept.pop(key, None)
            self._size += _weight(made) - (_weight(old) if old is not None else 0)
            self._kept[key] = made
            while self._size > self._budget and self._kept:
                _, dropped = self._kept.popitem(last=False)
                self._size -= _weight(dropped)


def _weight(match: Match) -> int:
    return max(_SMALLEST, match.count)
