"""The map's places grouped into clusters at a zoom level, so that a million placed
photos cost the browser a few hundred markers instead of a million.

Cells are squares of Web Mercator, the projection of the map's tiles: at zoom ``z``
the world is ``256 * 2**z`` pixels wide and a cell is :data:`CELL_PIXELS` of them, so
a cluster stands for what would overlap on the screen. Each cluster is placed at the
mean of its points and named by its first point in the result's order (the newest,
by default), whose thumbnail the map shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from homegallery.catalog.columns import FloatArray

CELL_PIXELS = 64
MAX_ZOOM = 19  # the map's own limit; beyond it every point is its own cell anyway
MAX_LATITUDE = 85.05112878  # where Web Mercator ends


@dataclass(frozen=True)
class Bounds:
    """A box of the map (degrees); ``west > east`` crosses the antimeridian."""

    south: float
    west: float
    north: float
    east: float

    @staticmethod
    def parse(text: str) -> Bounds:
        """``south,west,north,east``; ValueError says what is wrong."""
        parts = text.split(",")
        if len(parts) != 4:
            raise ValueError("bounds are south,west,north,east in degrees")
        try:
            south, west, north, east = (float(part) for part in parts)
        except ValueError:
            raise ValueError("bounds are four numbers: south,west,north,east") from None
        if not all(np.isfinite((south, west, north, east))):
            raise ValueError("bounds are finite numbers")
        if not -90 <= south <= north <= 90:
            raise ValueError("bounds need -90 <= south <= north <= 90")
        if east - west >= 360:  # the whole world, however often the map wraps
            west, east = -180.0, 180.0
        return Bounds(south, _wrap(west), north, _wrap(east))

    def holds(self, latitude: FloatArray, longitude: FloatArray) -> np.ndarray[Any, Any]:
        inside = (latitude >= self.south) & (latitude <= self.north)
        if self.west <= self.east:
            return inside & (longitude >= self.west) & (longitude <= self.east)
        return inside & ((longitude >= self.west) | (longitude <= self.east))


def _wrap(longitude: float) -> float:
    return 180.0 if longitude == 180.0 else (longitude + 180.0) % 360.0 - 180.0


@dataclass(frozen=True)
class Clusters:
    latitude: list[float]
    longitude: list[float]
    count: list[int]
    first: list[int]  # the index (in the points given) of each cluster's first point


def cluster(latitude: FloatArray, longitude: FloatArray, zoom: int) -> Clusters:
    """Points (in the result's order, none NaN) grouped by cell at ``zoom``; clusters
    in the order of their first point."""
    if not len(latitude):
        return Clusters([], [], [], [])
    side = 2 ** (min(max(zoom, 0), MAX_ZOOM) + 8) // CELL_PIXELS or 1
    x = (longitude + 180.0) / 360.0
    sine = np.sin(np.radians(np.clip(latitude, -MAX_LATITUDE, MAX_LATITUDE)))
    y = 0.5 - np.log((1 + sine) / (1 - sine)) / (4 * np.pi)
    column = np.clip((x * side).astype(np.int64), 0, side - 1)
    row = np.clip((y * side).astype(np.int64), 0, side - 1)
    keys = row * side + column
    _, first, inverse, counts = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    order = np.argsort(first, kind="stable")
    mean_latitude = np.bincount(inverse, weights=latitude) / counts
    mean_longitude = np.bincount(inverse, weights=longitude) / counts
    return Clusters(
        np.round(mean_latitude[order], 5).tolist(),
        np.round(mean_longitude[order], 5).tolist(),
        counts[order].tolist(),
        first[order].tolist(),
    )
