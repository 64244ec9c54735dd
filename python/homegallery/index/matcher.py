"""Change detection without reading: when is a file's old checksum still valid?

``size-ctime-inode`` (the default) trusts a file whose size, ctime and inode are as
recorded; ``size-ctime`` drops the inode for file systems that renumber them (some
network shares); ``size`` trusts size alone, for copies whose times were not kept.
"""

from __future__ import annotations

from collections.abc import Callable

from homegallery.index.records import IndexEntry

Walked = tuple[str, int, int, int, int, int]
"""(path, size, mtime_ns, ctime_ns, inode, device) as the walk returns it."""

Matcher = Callable[[IndexEntry, Walked], bool]


def _size_ctime_inode(old: IndexEntry, new: Walked) -> bool:
    return old.size == new[1] and old.ctime_ns == new[3] and old.inode == new[4]


def _size_ctime(old: IndexEntry, new: Walked) -> bool:
    return old.size == new[1] and old.ctime_ns == new[3]


def _size(old: IndexEntry, new: Walked) -> bool:
    return old.size == new[1]


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
