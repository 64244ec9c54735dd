"""Conditional and partial responses for files: ETag, If-None-Match, Range, If-Range.

Video seeking needs ``Range``: a browser asks for ``bytes=<start>-`` whenever the user
jumps, and a server that answers 200 with the whole file makes every jump download it
again. Previews never change under a name (content-addressed storage), so their ETag
from size and modification time is stable and a revisit costs a 304 at most.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import BinaryIO

import anyio

from homegallery.errors import HomeGalleryError

CHUNK = 256 * 1024
_RANGE = re.compile(r"^[ \t]*bytes[ \t]*=[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*$")
_DIGITS = 18  # positions with more digits lie beyond any file
_BEYOND = 10**_DIGITS


class RangeNotSatisfiableError(HomeGalleryError):
    """A range that starts beyond the end of the file."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def _position(digits: str) -> int:
    """A byte position; a number too long to be one (thousands of digits, which
    ``int`` refuses to read) counts as lying beyond the end of any file."""
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= _DIGITS else _BEYOND


def etag_of(stat: os.stat_result) -> str:
    return f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range a ``Range`` header asks for; None: send the whole file.

    Several ranges, other units or a malformed header give None (the whole file is
    a valid answer to any of them); a start past the end raises
    :class:`RangeNotSatisfiableError`.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = _position(last)
        if length == 0:
            raise RangeNotSatisfiableError
        return ByteRange(max(0, size - length), size - 1) if size else None
    start = _position(first)
    end = _position(last) if last else size - 1
    if start >= size:
        raise RangeNotSatisfiableError
    if end < start:
        return None
    return ByteRange(start, min(end, size - 1))


def etag_matches(header: str | None, etag: str) -> bool:
    """``If-None-Match``: a list of tags (weak ones compare by value) or ``*``."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = [tag.strip().removeprefix("W/") for tag in header.split(",")]
    return etag in tags


class FileShrankError(OSError):
    """A file ended before the bytes its answer had announced were sent."""


async def read_chunks(opened: BinaryIO, start: int, length: int) -> AsyncIterator[bytes]:
    """The bytes ``start … start+length`` of an open file, a chunk at a time, off the
    event loop; closes the file at the end. (Opened by the caller, which checks what it
    opened.)"""
    async with anyio.wrap_file(opened) as handle:
        await handle.seek(start)
        remaining = length
        while remaining > 0:
            data = await handle.read(min(CHUNK, remaining))
            if not data:
                # The length is promised in the headers already: the answer cannot be
                # completed, and the failure must be logged rather than sent short.
                raise FileShrankError(f"the file shrank by {remaining} bytes while it was sent")
            remaining -= len(data)
            yield data
