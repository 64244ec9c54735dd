"""Server-sent events: each open page hears when the catalog changed."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import ServerSentEvent

from homegallery.server.access import Viewer
from homegallery.server.services import Services


@get("/api/live", summary="Catalog changes as server-sent events")
async def live(
    services: NamedDependency[Services], viewer: NamedDependency[Viewer]
) -> ServerSentEvent:
    return ServerSentEvent(services.watcher.messages(), headers={"cache-control": "no-store"})


ROUTES = [live]
