"""Progress of long work, honest and cheap: done/total, rate and ETA.

On a terminal it redraws one line at most ten times a second; otherwise (cron,
systemd, CI) it writes a plain log line every ``interval`` seconds, so logs show that
work goes on without drowning in updates. ``quiet`` silences it. Every stage uses
this one class so their progress looks and behaves alike.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

log = logging.getLogger("homegallery.progress")


def counted(count: int, word: str, plural: str = "") -> str:
    """``1 chunk``, ``2 chunks``, ``1,234 files``: a count and its word, in number."""
    return f"{count:,} {word if count == 1 else plural or word + 's'}"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


class Progress:
    plain_only = False
    """Set by ``--plain``: log lines even on a terminal (for `script` or tmux logs)."""

    def __init__(
        self,
        label: str,
        total: int | None = None,
        quiet: bool = False,
        stream: TextIO | None = None,
        interval: float = 10.0,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.nbytes = 0
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() and not Progress.plain_only
        self.interval = 0.1 if self.interactive else interval
        self.started = time.monotonic()
        self._last_shown = 0.0
        self._closed = False
        self.detail = ""  # said after the figures (a cluster run: tasks per worker)

    def set_total(self, total: int) -> None:
        self.total = total

    def advance(self, n: int = 1, nbytes: int = 0) -> None:
        self.done += n
        self.nbytes += nbytes
        now = time.monotonic()
        if now - self._last_shown >= self.interval:
            self._last_shown = now
            self._show(now)

    def line(self, now: float | None = None) -> str:
        """The progress text, e.g. ``index 1,200/5,000 24% 310/s 45.1 MB/s ETA 0:12``."""
        elapsed = max(1e-9, (now or time.monotonic()) - self.started)
        rate = self.done / elapsed
        parts = [self.label]
        if self.total:
            parts.append(f"{self.done:,}/{self.total:,} {100 * self.done / self.total:.0f}%")
        else:
            parts.append(f"{self.done:,}")
        parts.append(f"{rate:,.0f}/s" if rate >= 10 else f"{rate:.1f}/s")
        if self.nbytes:
            parts.append(f"{_bytes(self.nbytes / elapsed)}/s")
        if self.total and rate > 0 and self.done < self.total:
            parts.append(f"ETA {_duration((self.total - self.done) / rate)}")
        if self.detail:
            parts.append(f"[{self.detail}]")
        return " ".join(parts)

    def _show(self, now: float) -> None:
        if self.quiet:
            return
        if self.interactive:
            self.stream.write("\r\033[K" + self.line(now))
            self.stream.flush()
        else:
            log.info(self.line(now))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if not self.quiet and self.interactive and self._last_shown:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
