"""The web app: its page, its ES modules and CSS, and the map libraries.

The page is the package's ``web/index.html`` with the mount point filled in; modules
and styles are served as they are in the package (no build step). Leaflet and its
marker clusters come from the folders of their xstatic Python packages.
"""

from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path

import xstatic.pkg.leaflet as leaflet_package
import xstatic.pkg.leaflet_markercluster as markercluster_package
from litestar import Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.static_files import create_static_files_router

from homegallery.server.services import Services

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
LEAFLET_DIR = Path(leaflet_package.BASE_DIR)
MARKERCLUSTER_DIR = Path(markercluster_package.BASE_DIR)


@cache
def _page_template() -> str:
    return (WEB_DIR / "index.html").read_text(encoding="utf-8")


@get("/", sync_to_thread=False, include_in_schema=False)
def page(services: NamedDependency[Services]) -> Response[str]:
    base = escape(services.prefix + "/", quote=True)
    html = _page_template().replace("{{base}}", base)
    return Response(html, media_type="text/html", headers={"cache-control": "no-cache"})


def static_routers() -> list[Router]:
    # The app's files change with the package version: browsers revalidate each time.
    revalidate = CacheControlHeader(no_cache=True)
    day = CacheControlHeader(max_age=86400)
    return [
        create_static_files_router(
            path="/app", directories=[WEB_DIR], cache_control=revalidate, name="app"
        ),
        create_static_files_router(
            path="/vendor/leaflet", directories=[LEAFLET_DIR], cache_control=day, name="leaflet"
        ),
        create_static_files_router(
            path="/vendor/markercluster",
            directories=[MARKERCLUSTER_DIR],
            cache_control=day,
            name="markercluster",
        ),
    ]


ROUTES = [page]
