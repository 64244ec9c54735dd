"""The Litestar application: ``create_app(config)`` gives an ASGI app ready to serve."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from litestar import Litestar, Response, Router, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.response import Redirect
from litestar.status_codes import HTTP_403_FORBIDDEN
from litestar.types import ControllerRouterHandler

from homegallery import __version__
from homegallery.config import Config
from homegallery.gallery import Gallery
from homegallery.server.access import Access
from homegallery.server.albums import AlbumStore
from homegallery.server.answers import COMPRESSED_HERE
from homegallery.server.bodies import MAX_BODY_BYTES, BoundedRequest
from homegallery.server.errors import exception_handlers
from homegallery.server.front import guard_entry
from homegallery.server.headers import security_headers_hook
from homegallery.server.live import POLL_SECONDS, CatalogWatcher
from homegallery.server.revocations import Revocations
from homegallery.server.routes import (
    albums,
    entries,
    events,
    files,
    folders,
    live,
    pages,
    people,
    positions,
    session,
    shares,
    summaries,
    web,
)
from homegallery.server.rules import Rule, address_allowed, compile_rules
from homegallery.server.services import AnyRequest, Services, provide_viewer
from homegallery.server.sessions import Sessions, load_secret
from homegallery.server.shares import ShareStore
from homegallery.server.warming import ColumnWarmer

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def mount_prefix(prefix: str) -> str:
    """``""`` for the root, else ``/name`` without a trailing slash."""
    cleaned = "/" + prefix.strip().strip("/")
    return "" if cleaned == "/" else cleaned


def _to_prefix(prefix: str) -> list[ControllerRouterHandler]:
    """Under a prefix, the server's root sends the browser there (a bookmark of the
    bare host, or the address ``homegallery serve`` printed before the prefix was set)."""
    if not prefix:
        return []

    @get("/", sync_to_thread=False, include_in_schema=False)
    def root() -> Redirect:
        return Redirect(prefix + "/")

    return [root]


def _guard_requests(
    rules: Sequence[Rule],
) -> Callable[[AnyRequest], Awaitable[Response[dict[str, str]] | None]]:
    """Refuses clients the address rules deny, and cross-site writes.

    A write must be JSON (a cross-site form cannot send that without the browser
    asking first) and, when the browser names its origin, come from this host.
    """

    async def check(request: AnyRequest) -> Response[dict[str, str]] | None:
        host = request.client.host if request.client else None
        if not address_allowed(rules, host):
            return Response(
                {"detail": "your address may not use this gallery"}, status_code=HTTP_403_FORBIDDEN
            )
        if request.method not in _SAFE_METHODS:
            content_type = request.headers.get("content-type", "")
            origin = request.headers.get("origin")
            host_header = request.headers.get("host", "")
            if not content_type.startswith("application/json"):
                return Response({"detail": "send JSON"}, status_code=HTTP_403_FORBIDDEN)
            if origin and origin.split("://", 1)[-1] != host_header:
                return Response(
                    {"detail": "cross-site request refused"}, status_code=HTTP_403_FORBIDDEN
                )
        return None

    return check


def reader_threads() -> int:
    """Threads for catalog work: the cores, at least 2 (one slow query must not stall
    every page), at most 4 (SQLite and numpy release the GIL, Python does not)."""
    return max(2, min(4, os.cpu_count() or 1))


def create_app(
    config: Config, *, gallery: Gallery | None = None, poll_seconds: float = POLL_SECONDS
) -> Litestar:
    gallery = gallery or Gallery(config)
    prefix = mount_prefix(config.server.prefix)
    data_folder = config.database.path.parent
    sessions = Sessions(
        load_secret(data_folder / "server-secret"),
        config.server.auth.session_days,
        Revocations(data_folder / "server-sessions.db"),
    )
    watcher = CatalogWatcher(config.database.path, poll_seconds)
    warmer = ColumnWarmer(gallery)
    watcher.listeners.append(warmer.schedule)  # a build or a tag: read the new columns
    share_store = ShareStore(data_folder / "server-shares.db")
    album_store = AlbumStore(data_folder / "server-albums.db")
    services = Services(
        config=config,
        gallery=gallery,
        access=Access(config.server.auth, sessions, gallery, share_store.filters),
        sessions=sessions,
        watcher=watcher,
        shares=share_store,
        albums=album_store,
        prefix=prefix,
        readers=ThreadPoolExecutor(reader_threads(), thread_name_prefix="catalog-reader"),
        writer=ThreadPoolExecutor(1, thread_name_prefix="catalog-writer"),
    )

    def provide_services() -> Services:
        return services

    # What a visitor with a share link reaches too (with the link as their viewer).
    read_routes: list[ControllerRouterHandler] = [
        *entries.ROUTES,
        *positions.ROUTES,
        *summaries.ROUTES,
        *folders.ROUTES,
        *files.ROUTES,
        *live.ROUTES,
        *pages.ROUTES,
        *people.READ_ROUTES,
    ]
    handlers: list[ControllerRouterHandler] = [
        *read_routes,
        *events.ROUTES,
        *session.ROUTES,
        *shares.ROUTES,
        *albums.ROUTES,
        *people.ROUTES,
        shares.share_router(read_routes),
        *web.static_routers(),
    ]
    router = Router(
        path=prefix or "/",
        route_handlers=handlers,
        dependencies={
            "services": Provide(provide_services, sync_to_thread=False),
            "viewer": Provide(provide_viewer, sync_to_thread=False),
            "page_context": Provide(pages.provide_page_context, sync_to_thread=False),
        },
    )

    async def start() -> None:
        await watcher.start()
        warmer.schedule()

    async def stop() -> None:
        warmer.close()
        await watcher.stop()
        services.readers.shutdown(wait=False, cancel_futures=True)
        services.writer.shutdown(wait=True)  # a write under way finishes
        services.access.close()
        sessions.revocations.close()
        share_store.close()
        album_store.close()

    app = Litestar(
        state=State({"warmer": warmer}),  # for whoever runs the app to see its runs
        route_handlers=[router, *_to_prefix(prefix)],
        before_request=_guard_requests(compile_rules(config.server.auth.rules)),
        before_send=[security_headers_hook(config.server.tile_url)],
        exception_handlers=exception_handlers(config.database.path),
        request_class=BoundedRequest,
        request_max_body_size=MAX_BODY_BYTES,
        # The command's logging stays as it is (Litestar's would replace the root
        # logger's handlers); failures are logged by server.errors.
        logging_config=None,
        on_startup=[start],
        on_shutdown=[stop],
        openapi_config=OpenAPIConfig(
            title="homegallery",
            version=__version__,
            path=f"{prefix}/api/schema",
            render_plugins=[JsonRenderPlugin()],
        ),
        # Level 5, not the default 9: a 100k timeline (520 KB of JSON) compresses in
        # 11 ms instead of 200 ms, and is 57 KB on the wire instead of 45 KB.
        compression_config=CompressionConfig(
            backend="gzip",
            minimum_size=1024,
            gzip_compress_level=5,
            exclude=[r"/files/", r"/api/live"],
            exclude_opt_key=COMPRESSED_HERE,
        ),
    )
    return guard_entry(app, config.server)
