"""Where the files of a source may really lie, and reads that stay there.

Anyone who can write into a source can put a symbolic link there that leads anywhere:
to ``/etc/passwd``, to the gallery's own config, to another user's photos. A file of
a source is therefore judged by where it really is (links resolved), never by the
path it was listed under: it must lie inside its source or, for a source with
``followSymlinks: true``, inside another configured source. The walk (Rust core)
leaves other links out; the checksum step, the extract workers and the server check
again right before they read, because a file can be swapped for a link at any time.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from homegallery.config import Source
from homegallery.errors import HomeGalleryError

Roots = tuple[str, ...]


class OutsideSourcesError(HomeGalleryError, PermissionError):
    """A file resolves to a place outside the folders it may be read from."""


def real_folder(folder: str | os.PathLike[str]) -> str:
    """The folder with every link resolved (how its files' real paths begin)."""
    return os.path.realpath(folder)


def source_roots(sources: Sequence[Source], source: Source) -> Roots:
    """Real folders the files of ``source`` may lie in: its own first, then (when it
    follows links) every other configured source."""
    own = real_folder(source.dir)
    if not source.follow_symlinks:
        return (own,)
    others = (real_folder(other.dir) for other in sources if other is not source)
    return (own, *dict.fromkeys(folder for folder in others if folder != own))


def is_within(real: str, roots: Roots) -> bool:
    """Whether ``real`` (a path without links) is one of ``roots`` or lies below one."""
    for root in roots:
        if real == root or real.startswith(root if root.endswith(os.sep) else root + os.sep):
            return True
    return False


def resolve_within(path: str | os.PathLike[str], roots: Roots) -> Path:
    """The real path of ``path``; raises OutsideSourcesError when it leaves ``roots``.

    Readers that can only take a path (libvips, exiv2, ffmpeg) get the resolved path,
    so they follow no link themselves.
    """
    real = os.path.realpath(path)
    if not is_within(real, roots):
        raise OutsideSourcesError(
            f"{os.fspath(path)}: leads outside the sources (symbolic link); not read"
        )
    return Path(real)


def _real_path_of(descriptor: int, path: str | os.PathLike[str]) -> str:
    """Where an open file really is; Linux names it, elsewhere the path is resolved."""
    try:
        named = str(Path(f"/proc/self/fd/{descriptor}").readlink())
    except OSError:
        return os.path.realpath(path)
    return named if named.startswith("/") else os.path.realpath(path)


def open_within(path: str | os.PathLike[str], roots: Roots | None) -> BinaryIO:
    """Opens a regular file for reading, refusing one that lies outside ``roots``.

    The check is made on the file that was opened, not on the path before opening, so
    a file swapped for a link at any moment is still refused. The open never blocks
    (a FIFO in place of a photo would wait for a writer forever); FIFOs, devices and
    folders raise FileNotFoundError like a missing file. ``roots`` None skips the
    check (for files the gallery wrote itself).
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise FileNotFoundError(f"{os.fspath(path)}: not a regular file")
        if roots is not None and not is_within(_real_path_of(descriptor, path), roots):
            raise OutsideSourcesError(
                f"{os.fspath(path)}: leads outside the sources (symbolic link); not read"
            )
        os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise
