"""Tag changes, recorded through the catalog's event log with the user's name."""

from __future__ import annotations

from litestar import post
from litestar.di import NamedDependency
from litestar.exceptions import (
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.params import JSONBody

from homegallery.catalog import EventError
from homegallery.server.access import Viewer, is_media_id
from homegallery.server.schemas import TagChange, TagChangeResult
from homegallery.server.services import Services

MAX_IDS = 10_000
ANONYMOUS_EDITOR = "web"  # the user name of changes made on a gallery without logins


@post("/api/events/tags", summary="Add and remove tags of entries")
async def change_tags(
    services: NamedDependency[Services], viewer: NamedDependency[Viewer], data: JSONBody[TagChange]
) -> TagChangeResult:
    def work() -> TagChangeResult:
        if not viewer.can_edit:
            raise PermissionDeniedException(detail="log in to change tags")
        if not data.ids:
            raise ValidationException(detail="no entries given (ids is empty)")
        if len(data.ids) > MAX_IDS:
            raise ValidationException(detail=f"at most {MAX_IDS} entries per change")
        full_ids = []
        for media_id in data.ids:
            if not is_media_id(media_id):
                raise ValidationException(detail=f"not a media id: {media_id[:80]!r}")
            entry = services.access.visible_entry(viewer, media_id, services.watcher.version)
            if entry is None:
                raise NotFoundException(detail=f"no entry {media_id}")
            full_ids.append(entry.id)
        try:
            changed = services.gallery.tag(
                full_ids, add=data.add, remove=data.remove, user=viewer.username or ANONYMOUS_EDITOR
            )
        except EventError as error:
            raise ValidationException(detail=str(error)) from None
        services.watcher.check()
        return TagChangeResult(changed=changed)

    return await services.on_reader(work)


ROUTES = [change_tags]
