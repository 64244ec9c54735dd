"""Summaries of a whole result: timeline layout, map points, tag counts."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter

from homegallery.server.access import Viewer
from homegallery.server.schemas import Places, TagCount, Tags, Timeline
from homegallery.server.scope import ScopedQuery, scope_query
from homegallery.server.services import Services, run_query, scoped_or_400


def _ratio(width: int | None, height: int | None) -> float:
    if not width or not height:
        return 1.0
    return round(width / height, 3)


@get("/api/timeline", sync_to_thread=True, summary="Aspect ratios and months of every match")
def timeline(
    services: NamedDependency[Services], viewer: NamedDependency[Viewer], q: FromQuery[str] = ""
) -> Timeline:
    scoped = scoped_or_400(services, viewer, q)
    version = services.watcher.version
    rows = run_query(
        scoped, lambda text: services.view.rows(text, ("width", "height", "year", "month"))
    )
    ratios: list[float] = []
    groups: list[tuple[int, int, int]] = []
    current: tuple[int, int] | None = None
    count = 0
    for width, height, year, month in rows:
        ratios.append(_ratio(width, height))
        key = (year or 0, month or 0)
        if key != current:
            if current is not None:
                groups.append((*current, count))
            current, count = key, 0
        count += 1
    if current is not None:
        groups.append((*current, count))
    return Timeline(query=q, total=len(ratios), version=version, ratios=ratios, groups=groups)


@get("/api/places", sync_to_thread=True, summary="Where the matches were taken")
def places(
    services: NamedDependency[Services], viewer: NamedDependency[Viewer], q: FromQuery[str] = ""
) -> Places:
    scoped = scoped_or_400(services, viewer, q)
    with_place = ScopedQuery(scope_query("exists geo", scoped.text).text, scoped.offset)
    rows = run_query(
        with_place, lambda text: services.view.rows(text, ("latitude", "longitude", "id"))
    )
    return Places(points=[(round(lat, 5), round(lon, 5), media_id) for lat, lon, media_id in rows])


@get("/api/tags", sync_to_thread=True, summary="The most used tags among the matches")
def tags(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    q: FromQuery[str] = "",
    limit: int = Parameter(default=200, ge=1, le=5000),
) -> Tags:
    scoped = scoped_or_400(services, viewer, q)
    counts = run_query(scoped, lambda text: services.view.tag_counts(text, limit))
    return Tags(tags=[TagCount(tag=tag, count=count) for tag, count in counts])


ROUTES = [timeline, places, tags]
