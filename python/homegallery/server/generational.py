"""What the server makes once per catalog generation: bounded, least recently used first.

Answers and query matches are only true of the catalog they were made from, so a
cache holds those of the newest generation it has seen and drops the rest at once
when a newer one arrives (the old ones hold the old column snapshot, which must be
freed before the new one loads). Something made from an older generation while a
newer one was read is not kept. Thread-safe: the server's readers share one cache.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class GenerationalCache(Generic[V]):
    """Values of the newest generation seen, within ``budget`` by ``weight``."""

    def __init__(self, budget: int, weight: Callable[[V], int]) -> None:
        self._budget = budget
        self._weight = weight
        self._lock = threading.Lock()
        self._kept: OrderedDict[Hashable, V] = OrderedDict()
        self._generation = -1
        self._size = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, generation: int, key: Hashable) -> V | None:
        """The value kept for ``key`` at ``generation``; a newer generation drops all."""
        with self._lock:
            if generation > self._generation:
                self._drop_all(generation)
            elif generation == self._generation and (found := self._kept.get(key)) is not None:
                self._kept.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
            return None

    def put(self, generation: int, key: Hashable, value: V) -> None:
        with self._lock:
            if generation < self._generation:
                return  # made from an older catalog while a newer one was read
            if generation > self._generation:
                self._drop_all(generation)
            old = self._kept.pop(key, None)
            self._size += self._weight(value) - (self._weight(old) if old is not None else 0)
            self._kept[key] = value
            while self._size > self._budget and self._kept:
                _, dropped = self._kept.popitem(last=False)
                self._size -= self._weight(dropped)

    def _drop_all(self, generation: int) -> None:
        self._kept.clear()
        self._size = 0
        self._generation = generation
