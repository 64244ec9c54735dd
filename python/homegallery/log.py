"""Logging set-up shared by every command.

Plain ``LEVEL message`` lines when output is not a terminal (cron, systemd, CI logs),
and compact lines when it is. ``-v`` and ``-q`` move the level one step each. Every
library logs through the same handler (so ``run server`` shows one format), and the
chatty ones only their warnings unless ``-v``.
"""

from __future__ import annotations

import logging
import sys

_LEVELS = [logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG]
# Libraries whose info and debug lines are about themselves, not the gallery (libvips
# alone logs hundreds during a benchmark): only their warnings, unless -v.
QUIET_LIBRARIES = (
    "pyvips", "PIL", "uvicorn", "asyncio", "watchfiles", "urllib3", "httpx", "httpcore",
    "onnx", "onnxruntime", "litestar", "multipart", "distributed",
)  # fmt: skip


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
    for name in QUIET_LIBRARIES:
        library = logging.getLogger(name)
        library.setLevel(logging.NOTSET if verbosity > 0 else max(level, logging.WARNING))
        # one format for every line: the library's own handlers (uvicorn's) give way
        for existing in list(library.handlers):
            library.removeHandler(existing)
        library.propagate = True


_warned: set[tuple[str, str]] = set()  # what this process already told the user


def warn_once(logger: logging.Logger, message: str) -> None:
    """A warning said once per process: an import runs a step in every chunk, and a
    missing model is worth one line, not one a chunk."""
    if (logger.name, message) not in _warned:
        _warned.add((logger.name, message))
        logger.warning("%s", message)
