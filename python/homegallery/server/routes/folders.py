"""The folder tree, one level per request, counted among what the viewer sees."""

from __future__ import annotations

from pathlib import Path

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, Parameter

from homegallery.server.access import Viewer
from homegallery.server.folders import FolderIndex, FolderIndexes, IntArray, Kept, display_name
from homegallery.server.routes.entries import to_api
from homegallery.server.schemas import FolderItem, FolderLevel
from homegallery.server.scope import scope_query
from homegallery.server.services import Services

MAX_PATH = 4096
_INDEXES = FolderIndexes()
# The viewers' orders of the latest catalog versions: opening folder after folder
# asks for the same one each time.
_RANKS: Kept[tuple[str, int, str], tuple[list[str], IntArray]] = Kept(8)


def _ranks(services: Services, viewer: Viewer, index: FolderIndex) -> tuple[list[str], IntArray]:
    order, _ = services.gallery.numbers(scope_query(viewer.filter, "").text, ())
    ids: list[str] = order.tolist()
    return ids, index.ranks(ids)


def folder_parts(path: str) -> tuple[str, ...]:
    """``<source>/<a>/<b>`` as its casefolded parts; () for the top."""
    text = path.strip().strip("/")
    if len(text) > MAX_PATH or any(ord(char) < 32 for char in text):
        raise ValidationException(
            detail=f"a folder path has at most {MAX_PATH} characters, no control characters"
        )
    return tuple(part for part in text.casefold().split("/") if part)


@get("/api/folders", summary="The folders directly below a folder, with counts and covers")
async def folders(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    path: FromQuery[str] = "",
    offset: int = Parameter(default=0, ge=0),
    limit: int = Parameter(default=200, ge=1, le=1000),
) -> FolderLevel:
    parts = folder_parts(path)
    shown = "/".join(part for part in path.strip().split("/") if part)

    def work() -> FolderLevel:
        version = services.watcher.version
        index = _INDEXES.get(services.gallery, services.gallery.reader())
        ids, rank = _RANKS.get(
            (str(services.gallery.catalog_path), version, viewer.filter),
            lambda: _ranks(services, viewer, index),
        )
        rows = index.level(parts, ids, rank)
        page = rows[offset : offset + limit]
        sources = {Path(s.dir).name.casefold(): Path(s.dir).name for s in services.config.sources}
        items = []
        for row in page:
            cover = services.gallery.entry(row.cover)
            name = display_name(cover, row, parts) if parts else sources.get(row.key, row.key)
            items.append(
                FolderItem(
                    path=f"{shown}/{name}" if shown else name,
                    name=name,
                    count=row.count,
                    has_folders=row.has_folders,
                    cover=to_api(services, viewer, [cover])[0] if cover else None,
                )
            )
        return FolderLevel(path=shown, total=len(rows), offset=offset, folders=items)

    return await services.on_reader(work)


ROUTES = [folders]
