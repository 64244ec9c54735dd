"""The objects every route shares, and the two dependencies routes ask for."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeAlias, TypeVar

from litestar import Request
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.status_codes import HTTP_400_BAD_REQUEST

from homegallery.catalog import QueryError
from homegallery.config import Config
from homegallery.gallery import Gallery
from homegallery.server.access import Access, Viewer
from homegallery.server.albums import AlbumStore
from homegallery.server.answers import AnswerCache
from homegallery.server.entry_json import EntryJsonCache
from homegallery.server.live import CatalogWatcher
from homegallery.server.matches import MatchCache
from homegallery.server.scope import ScopedQuery
from homegallery.server.sessions import COOKIE_NAME, Sessions
from homegallery.server.shares import ShareStore
from homegallery.server.visible_similar import resolve_similar

T = TypeVar("T")
AnyRequest: TypeAlias = Request[Any, Any, Any]


@dataclass
class Services:
    config: Config
    gallery: Gallery
    access: Access
    sessions: Sessions
    watcher: CatalogWatcher
    shares: ShareStore
    albums: AlbumStore
    prefix: str  # "" or "/photos": where the app is mounted
    # Catalog work runs on these threads only. Each reader thread keeps its own
    # connection (the column snapshot is the gallery's, shared by them), so a fixed,
    # small pool bounds the connections and the work at once.
    readers: ThreadPoolExecutor
    # Writes (tag changes, logouts) run on this one thread: a long write never takes
    # a reader thread, and writes queue behind each other rather than behind reads.
    writer: ThreadPoolExecutor
    # Encoded read answers of the newest catalog generation (see server.answers).
    answers: AnswerCache = field(default_factory=AnswerCache)
    # Each entry's API JSON of the newest catalog generation (see server.entry_json).
    entry_json: EntryJsonCache = field(default_factory=EntryJsonCache)
    # The ordered matches of recent queries (see server.matches).
    matches: MatchCache = field(default_factory=MatchCache)

    async def on_reader(self, work: Callable[[], T]) -> T:
        """Runs ``work`` on a reader thread without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.readers, work)

    async def on_writer(self, work: Callable[[], T]) -> T:
        """Runs ``work`` on the writer thread without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self.writer, work)


class QueryProblem(HTTPException):
    """A query the catalog cannot understand: 400 with the column for the search box."""

    status_code = HTTP_400_BAD_REQUEST

    def __init__(self, error: QueryError) -> None:
        super().__init__(
            detail=error.message,
            extra={"column": error.column, "expected": error.expected, "found": error.found},
        )


def run_query(scoped: ScopedQuery, search: Callable[[str], T]) -> T:
    """Runs a search on the scoped text; errors point into the user's own query.

    A catalog that cannot be read raises ``CatalogError``, answered 503 by
    :mod:`~homegallery.server.errors` without the catalog's path.
    """
    try:
        return search(scoped.text)
    except QueryError as error:
        raise QueryProblem(scoped.user_error(error)) from None


def provide_viewer(request: AnyRequest, services: NamedDependency[Services]) -> Viewer:
    viewer = services.access.viewer(request.cookies.get(COOKIE_NAME))
    if viewer is None:
        raise NotAuthorizedException(detail="log in to see this gallery")
    return viewer


def scoped_or_400(services: Services, viewer: Viewer, query: str) -> ScopedQuery:
    if not viewer.filter.strip():
        try:
            return services.access.scoped(viewer, query)
        except QueryError as error:
            raise QueryProblem(error) from None

    def visible_ids(prefix: str) -> list[str]:
        lookup = services.access.scoped(viewer, f"id:{prefix}")
        return services.gallery.search_ids(lookup.text, limit=2)

    try:
        resolved = resolve_similar(query, visible_ids)
    except QueryError as error:
        raise QueryProblem(error) from None
    try:
        return resolved.scoped(services.access.scoped(viewer, resolved.text))
    except QueryError as error:
        raise QueryProblem(resolved.error(error)) from None
