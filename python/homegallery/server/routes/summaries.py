"""Summaries of a whole result: timeline layout, map points, tag counts."""

from __future__ import annotations

import base64
from typing import Literal

import numpy as np
from litestar import get
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromQuery, Parameter

from homegallery.catalog.columns import FloatArray
from homegallery.server.access import Viewer
from homegallery.server.place_clusters import MAX_ZOOM, Bounds, cluster
from homegallery.server.schemas import PlaceClusters, Places, TagCount, Tags, Timeline
from homegallery.server.services import Services, run_query, scoped_or_400


def timeline_layout(
    width: FloatArray, height: FloatArray, year: FloatArray, month: FloatArray
) -> tuple[FloatArray, list[tuple[int, int, int]]]:
    """Each match's aspect ratio (1 where unknown) and the runs of equal months."""
    known = (width > 0) & (height > 0)  # NaN compares false
    ratios = np.where(known, np.round(width / np.where(known, height, 1.0), 3), 1.0)
    keys = np.nan_to_num(year, nan=0.0).astype(np.int64) * 100 + np.nan_to_num(
        month, nan=0.0
    ).astype(np.int64)
    if not len(keys):
        return ratios, []
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    counts = np.diff(np.append(starts, len(keys)))
    groups = [
        (key // 100, key % 100, count)
        for key, count in zip(keys[starts].tolist(), counts.tolist(), strict=True)
    ]
    return ratios, groups


def pack_ratios(ratios: FloatArray) -> tuple[list[float], str]:
    """The distinct ratios and each match's index among them, packed (see ``Timeline``)."""
    table, indexes = np.unique(ratios, return_inverse=True)
    width = "u1" if len(table) <= 256 else "<u2"
    packed = base64.b64encode(indexes.astype(width).tobytes()).decode("ascii")
    return table.tolist(), packed


@get("/api/timeline", summary="Aspect ratios and months of every match")
async def timeline(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    q: FromQuery[str] = "",
    form: FromQuery[Literal["list", "packed"]] = "list",
) -> Timeline:
    def work() -> Timeline:
        scoped = scoped_or_400(services, viewer, q)
        version = services.watcher.version
        _, columns = run_query(
            scoped,
            lambda text: services.gallery.numbers(text, ("width", "height", "year", "month")),
        )
        ratios, groups = timeline_layout(*columns)
        if form == "packed":
            table, packed = pack_ratios(ratios)
            return Timeline(query=q, total=len(ratios), version=version, ratios=[],
                            groups=groups, ratio_table=table, packed_ratios=packed)  # fmt: skip
        return Timeline(
            query=q, total=len(ratios), version=version, ratios=ratios.tolist(), groups=groups
        )

    return await services.on_reader(work)


@get("/api/places", summary="Where the matches were taken")
async def places(
    services: NamedDependency[Services], viewer: NamedDependency[Viewer], q: FromQuery[str] = ""
) -> Places:
    def work() -> Places:
        scoped = scoped_or_400(services, viewer, q)
        ids, (latitude, longitude) = run_query(
            scoped, lambda text: services.gallery.numbers(text, ("latitude", "longitude"))
        )
        # The matches with a position. Not by joining `exists geo` to the query: that
        # would nest it one level deeper than every other route allows.
        placed = ~(np.isnan(latitude) | np.isnan(longitude))
        ids, latitude, longitude = ids[placed], latitude[placed], longitude[placed]
        return Places(
            points=list(
                zip(
                    np.round(latitude, 5).tolist(),
                    np.round(longitude, 5).tolist(),
                    ids.tolist(),
                    strict=True,
                )
            )
        )

    return await services.on_reader(work)


@get("/api/places/clusters", summary="Where the matches were taken, grouped at a zoom")
async def place_clusters(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    q: FromQuery[str] = "",
    zoom: int = Parameter(default=2, ge=0, le=MAX_ZOOM),
    bounds: FromQuery[str] = "",
) -> PlaceClusters:
    try:
        box = Bounds.parse(bounds) if bounds else None
    except ValueError as error:
        raise ValidationException(detail=f"bounds: {error}") from None

    def work() -> PlaceClusters:
        scoped = scoped_or_400(services, viewer, q)
        ids, (latitude, longitude) = run_query(
            scoped, lambda text: services.gallery.numbers(text, ("latitude", "longitude"))
        )
        placed = np.flatnonzero(~(np.isnan(latitude) | np.isnan(longitude)))
        latitude, longitude = latitude[placed], longitude[placed]
        extent = (
            [float(latitude.min()), float(longitude.min()),
             float(latitude.max()), float(longitude.max())] if len(placed) else []
        )  # fmt: skip
        shown = placed
        if box is not None:
            inside = box.holds(latitude, longitude)
            shown, latitude, longitude = placed[inside], latitude[inside], longitude[inside]
        found = cluster(latitude, longitude, zoom)
        first_ids = ids[shown[found.first]].tolist() if found.first else []
        return PlaceClusters(
            total=len(placed), zoom=zoom, bounds=extent,
            clusters=list(zip(found.latitude, found.longitude, found.count, first_ids, strict=True)),
        )  # fmt: skip

    return await services.on_reader(work)


@get("/api/tags", summary="The most used tags among the matches")
async def tags(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    q: FromQuery[str] = "",
    limit: int = Parameter(default=200, ge=1, le=5000),
) -> Tags:
    def work() -> Tags:
        scoped = scoped_or_400(services, viewer, q)
        counts = run_query(scoped, lambda text: services.gallery.tag_counts(text, limit))
        return Tags(tags=[TagCount(tag=tag, count=count) for tag, count in counts])

    return await services.on_reader(work)


ROUTES = [timeline, places, place_clusters, tags]
