"""Entries: pages of a query's matches, and one entry by id."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import msgspec
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, Parameter

from homegallery.catalog.entry import Entry
from homegallery.catalog.rows import updated_times
from homegallery.catalog.search import Match
from homegallery.server.access import Viewer
from homegallery.server.answers import ANSWER_HEADERS, COMPRESSED_HERE, Answer, respond
from homegallery.server.entry_json import (
    EncodedEntry,
    catalog_state,
    encoded_entry,
    join_entries,
)
from homegallery.server.problems import entry_problem
from homegallery.server.schemas import ApiEntry, Count, EntryPage, JoinedEntryPage, api_entry
from homegallery.server.services import AnyRequest, Services, run_query, scoped_or_400
from homegallery.storage import Storage

MAX_PAGE = 1000
# Whose downloads an entry's stored JSON is made for (``downloadable`` is then left
# out for a viewer without originals).
ANY_ORIGINALS = Viewer(username=None, filter="", can_edit=False, originals=True)


def downloadable_sources(services: Services, viewer: Viewer) -> frozenset[str]:
    """Sources whose originals this viewer may download (none through a share link
    that does not allow originals)."""
    if not viewer.originals:
        return frozenset()
    return frozenset(source.dir for source in services.config.sources if source.downloadable)


def _problems_and_times(
    services: Services, entries: list[Entry]
) -> tuple[list[str], dict[str, str]]:
    """Each entry's ``problem`` and every entry's ``updated`` time (by id)."""
    storage = Storage(services.config.storage.path)
    # where a cause may name a path on the server: the sources and the storage
    folders = (*(source.dir for source in services.config.sources), services.config.storage.dir)
    times = updated_times(services.gallery.reader(), [entry.id for entry in entries])
    return [entry_problem(storage, entry, folders) for entry in entries], times


def to_api(services: Services, viewer: Viewer, entries: list[Entry]) -> list[ApiEntry]:
    sources = downloadable_sources(services, viewer)
    problems, times = _problems_and_times(services, entries)
    return [
        api_entry(entry, sources, problem, times.get(entry.id, ""))
        for entry, problem in zip(entries, problems, strict=True)
    ]


def encode_entries(services: Services, ids: list[str]) -> dict[str, EncodedEntry]:
    """The API JSON of the entries of ``ids`` that exist, for any viewer (see
    :mod:`~homegallery.server.entry_json`)."""
    entries = services.gallery.entries(ids)
    sources = downloadable_sources(services, ANY_ORIGINALS)
    problems, times = _problems_and_times(services, entries)
    return {
        entry.id: encoded_entry(entry, sources, problem, times.get(entry.id, ""))
        for entry, problem in zip(entries, problems, strict=True)
    }


def page_json(services: Services, viewer: Viewer, generation: int, ids: list[str]) -> bytes:
    """A JSON array of the entries of ``ids`` as this viewer gets them, joined from
    entries encoded once per generation."""
    encoded = services.entry_json.entries(
        generation,
        ids,
        lambda missing: encode_entries(services, missing),
        lambda after: catalog_state(services.gallery.reader(), after),
    )
    return join_entries(encoded, viewer.originals)


def page_of(services: Services, text: str, limit: int, offset: int) -> list[Entry]:
    """A page of entries in the query's order, read from one catalog state."""
    return services.gallery.search(text, limit=limit, offset=offset)


def all_matches(services: Services, viewer: Viewer, generation: int, q: str) -> Match:
    """Every match of the viewer's query, in order, evaluated once per generation
    (see :mod:`~homegallery.server.matches`)."""
    scoped = scoped_or_400(services, viewer, q)
    return run_query(
        scoped,
        lambda text: services.matches.match(generation, text, services.gallery.match),
    )


async def cached_answer(
    services: Services,
    viewer: Viewer,
    request: AnyRequest,
    request_key: Hashable,
    make: Callable[[int], bytes],
) -> Response[Any]:
    """The encoded answer for this viewer and request, made at most once per catalog
    generation (see :mod:`~homegallery.server.answers`); ``make`` is given the
    generation it makes the answer for."""

    def work() -> Answer:
        generation = services.gallery.generation()  # before the data make() reads
        return services.answers.answer(generation, viewer, request_key, lambda: make(generation))

    made = await services.on_reader(work)
    headers = request.headers
    return respond(made, headers.get("if-none-match"), headers.get("accept-encoding", ""))


@get(
    "/api/entries",
    summary="A page of the entries a query matches",
    opt={COMPRESSED_HERE: True},
    response_headers=ANSWER_HEADERS,
)
async def entries(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    request: AnyRequest,
    q: FromQuery[str] = "",
    offset: int = Parameter(default=0, ge=0),
    limit: int = Parameter(default=100, ge=1, le=MAX_PAGE),
) -> Response[EntryPage]:
    def make(generation: int) -> bytes:
        matched = all_matches(services, viewer, generation, q)
        joined = page_json(services, viewer, generation, matched.page(limit, offset))
        answer = JoinedEntryPage(
            query=q, total=matched.count, offset=offset, entries=msgspec.Raw(joined)
        )
        return msgspec.json.encode(answer)

    return await cached_answer(services, viewer, request, ("entries", q, offset, limit), make)


@get(
    "/api/count",
    summary="How many entries a query matches",
    opt={COMPRESSED_HERE: True},
    response_headers=ANSWER_HEADERS,
)
async def count(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    request: AnyRequest,
    q: FromQuery[str] = "",
) -> Response[Count]:
    def make(generation: int) -> bytes:
        total = all_matches(services, viewer, generation, q).count
        return msgspec.json.encode(Count(query=q, total=total))

    return await cached_answer(services, viewer, request, ("count", q), make)


@get("/api/entries/{media_id:str}", summary="One entry")
async def entry(
    services: NamedDependency[Services], viewer: NamedDependency[Viewer], media_id: FromPath[str]
) -> ApiEntry:
    def work() -> ApiEntry:
        found = services.access.visible_entry(viewer, media_id, services.watcher.version)
        if found is None:
            raise NotFoundException(detail=f"no entry {media_id}")
        return to_api(services, viewer, [found])[0]

    return await services.on_reader(work)


@get("/api/entries/{media_id:str}/similar", summary="Entries like this one")
async def similar(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    media_id: FromPath[str],
    limit: int = Parameter(default=24, ge=1, le=200),
) -> list[ApiEntry]:
    def work() -> list[ApiEntry]:
        found = services.access.visible_entry(viewer, media_id, services.watcher.version)
        if found is None:
            raise NotFoundException(detail=f"no entry {media_id}")
        if not found.has_vector:
            return []
        scoped = scoped_or_400(services, viewer, f"similar:{found.id}")
        page = run_query(scoped, lambda text: page_of(services, text, limit + 1, 0))
        return to_api(services, viewer, [item for item in page if item.id != found.id][:limit])

    return await services.on_reader(work)


ROUTES = [entries, count, entry, similar]
