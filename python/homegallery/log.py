"""Logging set-up shared by every command.

Plain ``LEVEL message`` lines when output is not a terminal (cron, systemd, CI logs),
and compact lines when it is. ``-v`` and ``-q`` move the level one step each.
"""

from __future__ import annotations

import logging
import sys

_LEVELS = [logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG]


def setup_logging(verbosity: int = 0) -> None:
    """``verbosity`` 0 is INFO; each -v adds one step, each -q removes one."""
    position = max(0, min(len(_LEVELS) - 1, 2 + verbosity))
    level = _LEVELS[position]
    handler = logging.StreamHandler(sys.stderr)
    if sys.stderr.isatty():
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:
        handler.setFormatter(
            logging.Formatter(
                "%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"
            )
        )
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
