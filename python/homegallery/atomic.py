"""Atomic file writes: a crash leaves either the old file or the new one, never half.

Every writer in the project goes through here so the rule holds everywhere: write to a
temporary name in the same folder, flush to disk, then rename over the target.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yields a temporary path beside ``target``; renames it into place on success.

    For writers that insist on a file name (pyvips, ffmpeg). The temporary name keeps
    the suffix so those tools pick the right format, and starts with a dot and ends in
    ``.part`` before the suffix so a listing never mistakes it for a finished file.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.stem}.", suffix=f".part{target.suffix}"
    )
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        with temporary.open("rb+") as handle:
            os.fsync(handle.fileno())
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_open(target: Path, mode: str = "wb") -> Iterator[IO[bytes]]:
    with atomic_path(target) as temporary, temporary.open(mode) as handle:
        yield handle


def write_bytes(target: Path, data: bytes) -> None:
    with atomic_open(target) as handle:
        handle.write(data)


def write_text(target: Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))
