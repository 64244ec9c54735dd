"""Tag changes, recorded through the catalog's event log with the user's name.

A change is checked in time linear in its size, against limits on its ids, its tags
and their length, on a reader thread; it is then written on the writer thread, so
reads never wait behind a write (the catalog's WAL lets them read meanwhile).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import msgspec
from litestar import get, post
from litestar.di import NamedDependency
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.params import JSONBody, Parameter
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE

from homegallery.catalog import EventError
from homegallery.catalog.events import Event, make_event, new_event, read_events
from homegallery.server.access import Viewer, is_media_id
from homegallery.server.schemas import EventPage, TagChange, TagChangeResult
from homegallery.server.scope import scope_query
from homegallery.server.services import Services

MAX_IDS = 10_000
MAX_TAGS = 100  # added and removed together
# Up to this many ids, each is looked up on its own (cached per catalog version);
# above it, the viewer's whole result is read once, which costs the same for any count.
ONE_BY_ONE = 100
ANONYMOUS_EDITOR = "web"  # the user name of changes made on a gallery without logins
_UID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9:._-]{7,127}$")
MAX_EVENT_PAGE = 5000


class TooLarge(HTTPException):
    status_code = HTTP_413_REQUEST_ENTITY_TOO_LARGE


def _check_sizes(data: TagChange) -> None:
    if not data.ids:
        raise ValidationException(detail="no entries given (ids is empty)")
    if len(data.ids) > MAX_IDS:
        raise TooLarge(detail=f"at most {MAX_IDS} entries per change, got {len(data.ids)}")
    tags = len(data.add) + len(data.remove)
    if tags > MAX_TAGS:
        raise TooLarge(detail=f"at most {MAX_TAGS} tags (add and remove) per change, got {tags}")


def _visible_ids(services: Services, viewer: Viewer, ids: list[str]) -> list[str]:
    """The full ids, each once; 404 for any the viewer cannot see (or that is unknown)."""
    for media_id in ids:
        if not is_media_id(media_id):
            raise ValidationException(detail=f"not a media id: {media_id[:80]!r}")
    unique = list(dict.fromkeys(ids))
    if len(unique) <= ONE_BY_ONE:
        full_ids = []
        for media_id in unique:
            entry = services.access.visible_entry(viewer, media_id, services.watcher.version)
            if entry is None:
                raise NotFoundException(detail=f"no entry {media_id}")
            full_ids.append(entry.id)
        return full_ids
    visible = set(services.gallery.search_ids(scope_query(viewer.filter, "").text))
    missing = next((media_id for media_id in unique if media_id not in visible), None)
    if missing is not None:
        raise NotFoundException(detail=f"no entry {missing}")
    return unique


@post("/api/events/tags", summary="Add and remove tags of entries")
async def change_tags(
    services: NamedDependency[Services], viewer: NamedDependency[Viewer], data: JSONBody[TagChange]
) -> TagChangeResult:
    if not viewer.can_edit:
        detail = "your login may not change tags" if viewer.username else "log in to change tags"
        raise PermissionDeniedException(detail=detail)
    _check_sizes(data)
    user = viewer.username or ANONYMOUS_EDITOR

    def prepare() -> Event:
        """The change checked and cleaned, naming the full ids (a read: on a reader)."""
        try:
            if data.uid is None:
                event = new_event(data.ids, user=user, add_tags=data.add, remove_tags=data.remove)
            else:
                if not _UID.match(data.uid):
                    raise EventError(f"not an event id: {data.uid[:80]!r}")
                event = make_event(
                    data.ids,
                    uid=data.uid,
                    time=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
                    user=user,
                    add_tags=data.add,
                    remove_tags=data.remove,
                )
        except EventError as error:
            raise ValidationException(detail=str(error)) from None
        refused = services.access.rights.refused_tag(
            viewer.filter, [*event.add_tags, *event.remove_tags]
        )
        if refused is not None:
            raise PermissionDeniedException(
                detail=f"only users who see the whole gallery may add or remove the tag "
                f"{refused!r}: it decides what someone may see"
            )
        event.ids = _visible_ids(services, viewer, event.ids)
        return event

    def write(event: Event) -> int:
        try:
            return services.gallery.record(event)
        except EventError as error:
            raise ValidationException(detail=str(error)) from None

    event = await services.on_reader(prepare)
    changed = await services.on_writer(lambda: write(event))
    services.watcher.check()
    return TagChangeResult(changed=changed)


@get("/api/events", summary="User changes after a sequence number, oldest first")
async def events_after(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    after: int = Parameter(default=0, ge=0),
    limit: int = Parameter(default=1000, ge=1, le=MAX_EVENT_PAGE),
) -> EventPage:
    """What another gallery needs to carry the changes over (``homegallery fetch``).

    A viewer with a filter gets the changes of the entries it may see only, each
    naming those entries only: a change never shows what lies outside a filter.
    """

    def work() -> EventPage:
        found = read_events(services.gallery.reader(), after, limit)
        last = found[-1][0] if found else after
        events = [event for _, event in found]
        if viewer.filter.strip():
            visible = set(services.gallery.search_ids(scope_query(viewer.filter, "").text))
            events = [
                msgspec.structs.replace(event, ids=[i for i in event.ids if i in visible])
                for event in events
            ]
            events = [event for event in events if event.ids]
        return EventPage(events=events, last=last)

    return await services.on_reader(work)


ROUTES = [change_tags, events_after]
