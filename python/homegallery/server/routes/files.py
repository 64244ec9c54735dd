"""Previews, web videos and (for downloadable sources) originals of visible entries.

URLs name the entry and the kind of file (``/files/<id>/image-preview-320.jpg``), not
a storage path: the server looks the file up in the entry's own preview list, so a
request can reach only files of an entry the viewer may see, and no path a client
writes is ever joined to a folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import quote

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Stream
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_206_PARTIAL_CONTENT,
    HTTP_304_NOT_MODIFIED,
    HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE,
)

from homegallery.index.kinds import media_type as media_type_of
from homegallery.server.access import Viewer
from homegallery.server.ranges import (
    RangeNotSatisfiableError,
    etag_matches,
    etag_of,
    parse_range,
    read_chunks,
)
from homegallery.server.services import AnyRequest, Services
from homegallery.storage import Storage, kind_pattern
from homegallery.within import OutsideSourcesError, Roots, open_within, source_roots

_PREVIEW_KIND = re.compile(
    "^("
    + "|".join(
        (
            kind_pattern("image_preview", r"\d{2,5}"),
            kind_pattern("video_preview", r"\d{3,4}"),
            kind_pattern("video_frame", r"\d+"),
        )
    )
    + ")$"
)
# Content-addressed: a name never gets other bytes, so browsers may keep them a year.
# `private`: with logins, a shared cache must not hand one user's previews to another.
IMMUTABLE = "private, max-age=31536000, immutable"
ORIGINAL = "private, max-age=3600"


def send_file(
    request: AnyRequest,
    handle: BinaryIO,
    name: str,
    cache_control: str,
    download_name: str | None = None,
) -> Response[bytes] | Stream:
    """The open file (named ``name`` for its type) with ETag, conditional GET and single
    byte ranges; the response owns ``handle`` and closes it."""
    try:
        stat = os.fstat(handle.fileno())
    except OSError:
        handle.close()
        raise NotFoundException(detail="the file is not readable") from None
    etag = etag_of(stat)
    media_type = media_type_of(name) or "application/octet-stream"
    headers = {"etag": etag, "cache-control": cache_control, "accept-ranges": "bytes"}
    if download_name is not None:
        headers["content-disposition"] = f"attachment; filename*=UTF-8''{quote(download_name)}"
    if etag_matches(request.headers.get("if-none-match"), etag):
        handle.close()
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    size = stat.st_size
    if_range = request.headers.get("if-range")
    range_header = request.headers.get("range") if if_range in (None, etag) else None
    try:
        wanted = parse_range(range_header, size)
    except RangeNotSatisfiableError:
        handle.close()
        return Response(
            b"",
            status_code=HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE,
            headers={**headers, "content-range": f"bytes */{size}"},
        )
    if wanted is None:
        start, length, status = 0, size, HTTP_200_OK
    else:
        start, length, status = wanted.start, wanted.length, HTTP_206_PARTIAL_CONTENT
        headers["content-range"] = f"bytes {wanted.start}-{wanted.end}/{size}"
    headers["content-length"] = str(length)
    return Stream(
        read_chunks(handle, start, length),
        status_code=status,
        media_type=media_type,
        headers=headers,
    )


@get(
    "/files/{media_id:str}/{kind:str}",
    summary="A preview, web video or poster frame of an entry",
)
async def preview(
    request: AnyRequest,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    media_id: FromPath[str],
    kind: FromPath[str],
) -> Response[bytes] | Stream:
    def work() -> Response[bytes] | Stream:
        if not _PREVIEW_KIND.match(kind):
            raise NotFoundException(detail=f"no file kind {kind[:40]!r}")
        entry = services.access.visible_entry(viewer, media_id, services.watcher.version)
        if entry is None:
            raise NotFoundException(detail=f"no entry {media_id[:80]}")
        relative = next(
            (p for p in entry.previews if p.rsplit("/", 1)[-1].endswith("-" + kind)), None
        )
        if relative is None:
            raise NotFoundException(detail=f"entry {entry.id} has no {kind}")
        try:
            path = Storage(services.config.storage.path).resolve_relative(relative)
        except ValueError:
            raise NotFoundException(detail="the file is outside the storage") from None
        return send_file(request, _open(path, None), path.name, IMMUTABLE)

    return await services.on_reader(work)


def _open(path: Path, roots: Roots | None) -> BinaryIO:
    try:
        return open_within(path, roots)
    except OutsideSourcesError:
        raise NotFoundException(detail="the file is outside its source") from None
    except OSError:
        raise NotFoundException(detail="the file is not there (yet)") from None


def _inside(folder: str, relative: str) -> Path | None:
    """``folder/relative`` unless ``relative`` climbs out (symlinks inside are allowed)."""
    parts = PurePosixPath(relative)
    if parts.is_absolute() or ".." in parts.parts or not parts.parts:
        return None
    return Path(folder, *parts.parts)


@get(
    "/files/{media_id:str}/original/{number:int}",
    summary="An original file, for sources marked downloadable",
)
async def original(
    request: AnyRequest,
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    media_id: FromPath[str],
    number: FromPath[int],
) -> Response[bytes] | Stream:
    def work() -> Response[bytes] | Stream:
        entry = services.access.visible_entry(viewer, media_id, services.watcher.version)
        if entry is None:
            raise NotFoundException(detail=f"no entry {media_id[:80]}")
        if not 0 <= number < len(entry.files):
            raise NotFoundException(detail=f"entry {entry.id} has no file {number}")
        file = entry.files[number]
        source = next((s for s in services.config.sources if s.dir == file.source), None)
        if source is None or not source.downloadable or not viewer.originals:
            raise PermissionDeniedException(
                detail="the originals of this source are not downloadable"
            )
        path = _inside(file.source, file.path)
        if path is None:
            raise NotFoundException(detail="the file is outside its source")
        handle = _open(path, source_roots(services.config.sources, source))
        return send_file(request, handle, path.name, ORIGINAL, download_name=path.name)

    return await services.on_reader(work)


ROUTES = [preview, original]
