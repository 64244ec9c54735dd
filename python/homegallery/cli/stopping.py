"""SIGTERM and SIGINT stop a long command at once and cleanly, and say so.

Python turns SIGINT into KeyboardInterrupt but lets SIGTERM (what ``kill``, systemd
and container runtimes send) end the process without unwinding: no worker is stopped,
no transaction rolled back. Here both raise :class:`StopRequested` in the main thread,
so every ``finally`` runs (extract workers are killed, the catalog build rolls back),
and the command reports the stop instead of a traceback. Every stage writes
atomically, so the next run continues where this one stopped.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType


class StopRequested(KeyboardInterrupt):
    """A signal asked the command to stop."""


@dataclass
class Stop:
    """The signal that stopped the command, if one did."""

    signal_number: int | None = None

    @property
    def exit_status(self) -> int:
        """The shell's convention: 128 + the signal number."""
        return 128 + (self.signal_number or 0)

    def describe(self) -> str:
        name = signal.Signals(self.signal_number).name if self.signal_number else "?"
        return (
            f"stopped by {name}; everything finished so far is kept, and the next run "
            "continues from there"
        )


@contextmanager
def stop_on_signals() -> Iterator[Stop]:
    """Within the block, SIGTERM and SIGINT raise StopRequested (once: a second
    signal during the clean-up does not cut the clean-up short)."""
    stop = Stop()

    def handle(number: int, frame: FrameType | None) -> None:
        if stop.signal_number is None:
            stop.signal_number = number
            raise StopRequested(signal.Signals(number).name)

    wanted = (signal.SIGTERM, signal.SIGINT)
    previous = {number: signal.signal(number, handle) for number in wanted}
    try:
        yield stop
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
