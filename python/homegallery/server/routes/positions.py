"""Where an entry stands in a result, so a photo opened from a link (or after a
reload) steps through the result it was opened in."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from homegallery.server.access import Viewer
from homegallery.server.schemas import Position
from homegallery.server.services import Services, run_query, scoped_or_400


@get("/api/entries/{media_id:str}/position", summary="An entry's place in a query's result")
async def position(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    media_id: FromPath[str],
    q: FromQuery[str] = "",
) -> Position:
    def work() -> Position:
        found = services.access.visible_entry(viewer, media_id, services.watcher.version)
        if found is None:
            raise NotFoundException(detail=f"no entry {media_id[:80]}")
        scoped = scoped_or_400(services, viewer, q)
        ids = run_query(scoped, services.gallery.search_ids)
        try:
            index = ids.index(found.id)
        except ValueError:
            index = -1
        return Position(id=found.id, index=index, total=len(ids))

    return await services.on_reader(work)


ROUTES = [position]
