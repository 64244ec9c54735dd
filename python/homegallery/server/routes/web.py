"""The web app's files: its page template, its ES modules and CSS, and the map libraries.

The page is the package's ``web/index.html`` with the app's address filled in (see
:mod:`.pages` for the addresses that answer with it); modules and styles are served
as they are in the package (no build step). Leaflet and its marker clusters come from
the folders of their xstatic Python packages.
"""

from __future__ import annotations

from functools import cache
from html import escape
from pathlib import Path

import xstatic.pkg.leaflet as leaflet_package
import xstatic.pkg.leaflet_markercluster as markercluster_package
from litestar import Response, Router
from litestar.datastructures import CacheControlHeader
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_200_OK

WEB_DIR = Path(__file__).resolve().parents[2] / "web"
LEAFLET_DIR = Path(leaflet_package.BASE_DIR)
MARKERCLUSTER_DIR = Path(markercluster_package.BASE_DIR)


@cache
def _page_template() -> str:
    return (WEB_DIR / "index.html").read_text(encoding="utf-8")


def app_page(prefix: str, base: str, status_code: int = HTTP_200_OK) -> Response[str]:
    """The app's page: its files under ``prefix``, its addresses under ``base``.

    ``base`` is the page's ``<base href>``: the app's views and API calls are relative
    to it, so the same app runs at the server's prefix and inside a share link.
    """
    html = (
        _page_template()
        .replace("{{static}}", escape(prefix + "/", quote=True))
        .replace("{{base}}", escape(base, quote=True))
    )
    return Response(
        html, status_code=status_code, media_type="text/html", headers={"cache-control": "no-cache"}
    )


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
