"""Add-limits: take a big archive in growing chunks so the first photos show early.

An empty index takes ``initial`` new files; an index of n entries may grow to
``max(n + offset, n * factor)``, by at most ``maximum`` files per run. With the
defaults 200,500,1.25,8000 the index grows 200, 700, 1200, 1700, 2200, 2750, 3437 …
"""

from __future__ import annotations

import math

import msgspec


class AddLimits(msgspec.Struct, frozen=True):
    initial: int = 200
    offset: int = 500
    factor: float = 1.25
    maximum: int = 8000

    @classmethod
    def parse(cls, text: str) -> AddLimits:
        """From ``initial,offset,factor,max``; missing trailing values take the defaults."""
        parts = [part.strip() for part in text.split(",")]
        if not 1 <= len(parts) <= 4 or any(not part for part in parts):
            raise ValueError(f"add limits {text!r}: expected initial,offset,factor,max")
        defaults = cls()
        try:
            initial = int(parts[0])
            offset = int(parts[1]) if len(parts) > 1 else defaults.offset
            factor = float(parts[2]) if len(parts) > 2 else defaults.factor
            maximum = int(parts[3]) if len(parts) > 3 else defaults.maximum
        except ValueError:
            raise ValueError(
                f"add limits {text!r}: expected numbers as initial,offset,factor,max"
            ) from None
        if initial < 1 or offset < 0 or factor < 1 or maximum < 1:
            raise ValueError(
                f"add limits {text!r}: need initial >= 1, offset >= 0, factor >= 1, max >= 1"
            )
        return cls(initial, offset, factor, maximum)

    def allowed_new(self, entries: int) -> int:
        """How many new files an index of ``entries`` files may take in this run."""
        if entries == 0:
            return self.initial
        target = max(entries + self.offset, math.floor(entries * self.factor))
        return max(0, min(target - entries, self.maximum))
