"""Every address of the app's views answers with the app, so each view can be linked,
bookmarked, reloaded and opened in a new tab.

The app reads the view from its own address (``/search/<query>``, ``/view/<id>``, …,
relative to the page's ``<base>``). The server checks what it can without the app: a
photo the viewer may not see is answered 404, exactly as one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.status_codes import HTTP_200_OK, HTTP_404_NOT_FOUND

from homegallery.server.access import Viewer
from homegallery.server.routes.web import app_page
from homegallery.server.services import AnyRequest, Services
from homegallery.server.sessions import COOKIE_NAME

# The views of the app that name no entry (see web/router.js).
VIEW_PATHS = [
    "/",
    "/search/{search_text:path}",
    "/years",
    "/years/{year:str}",
    "/tags",
    "/map",
    "/folders",
    "/folders/{folder:path}",
    "/albums",
    "/albums/{album:path}",
    "/shares",
    "/people",
    "/people/{person:str}",
    "/faces/{media_id:str}/{index:str}",
]
ENTRY_PATHS = ["/view/{media_id:str}", "/similar/{media_id:str}"]


@dataclass(frozen=True)
class PageContext:
    """Where the app's addresses start, and who looks (None: must log in first)."""

    base: str
    viewer: Viewer | None
    gone: bool = False  # a share link that does not work (any more)


def provide_page_context(request: AnyRequest, services: NamedDependency[Services]) -> PageContext:
    viewer = services.access.viewer(request.cookies.get(COOKIE_NAME))
    return PageContext(services.prefix + "/", viewer)


@get(VIEW_PATHS, sync_to_thread=False, include_in_schema=False)
def view_page(
    services: NamedDependency[Services], page_context: NamedDependency[PageContext]
) -> Response[str]:
    status = HTTP_404_NOT_FOUND if page_context.gone else HTTP_200_OK
    return app_page(services.prefix, page_context.base, status_code=status)


@get(ENTRY_PATHS, include_in_schema=False)
async def entry_page(
    services: NamedDependency[Services],
    page_context: NamedDependency[PageContext],
    media_id: FromPath[str],
) -> Response[str]:
    viewer = page_context.viewer
    if page_context.gone:
        return app_page(services.prefix, page_context.base, status_code=HTTP_404_NOT_FOUND)
    if viewer is None:  # the app asks to log in, then shows the photo if it may
        return app_page(services.prefix, page_context.base)

    def visible() -> bool:
        version = services.watcher.version
        return services.access.visible_entry(viewer, media_id, version) is not None

    found = await services.on_reader(visible)
    status = HTTP_200_OK if found else HTTP_404_NOT_FOUND
    return app_page(services.prefix, page_context.base, status_code=status)


ROUTES = [view_page, entry_page]
