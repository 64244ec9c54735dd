"""Change detection without reading: when is a file's old checksum still valid?

``size-ctime-inode`` (the default) trusts a file whose size, ctime and inode are as
recorded; ``size-ctime`` drops the inode for file systems that renumber them (some
network shares); ``size`` trusts size alone, for copies whose times were not kept.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from homegallery.index.records import IndexEntry


class Walked(NamedTuple):
    """One file as the walk (``_core.walk_source``) lists it."""

    path: str  # relative to the source folder, ``/``-separated
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int


Matcher = Callable[[IndexEntry, Walked], bool]


def _size_ctime_inode(old: IndexEntry, new: Walked) -> bool:
    return old.size == new.size and old.ctime_ns == new.ctime_ns and old.inode == new.inode


def _size_ctime(old: IndexEntry, new: Walked) -> bool:
    return old.size == new.size and old.ctime_ns == new.ctime_ns


def _size(old: IndexEntry, new: Walked) -> bool:
    return old.size == new.size


MATCHERS: dict[str, Matcher] = {
    "size-ctime-inode": _size_ctime_inode,
    "size-ctime": _size_ctime,
    "size": _size,
}


def matcher_for(name: str) -> Matcher:
    try:
        return MATCHERS[name]
    except KeyError:
        raise ValueError(f"unknown matcher {name!r}; use one of {', '.join(MATCHERS)}") from None
