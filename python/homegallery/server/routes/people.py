"""People: the list, one person, a photo's faces, face crops, "same face", and changes.

A viewer with a filter sees people through it: a person is counted over the photos
the viewer may see, its cover is one of those, and a person none of whose photos the
viewer may see does not exist for them (404, as an unknown one). Changing people
(naming, merging, moving or removing a face, hiding) regroups the whole gallery, so
only a login that may edit and sees the whole gallery may do it.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable

import msgspec
from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException, ValidationException
from litestar.params import FromPath, JSONBody, Parameter

from homegallery.catalog import people
from homegallery.catalog.events import EventError
from homegallery.server.access import Viewer, is_media_id
from homegallery.server.routes.entries import to_api
from homegallery.server.routes.files import IMMUTABLE
from homegallery.server.schemas import ApiEntry
from homegallery.server.scope import scope_query
from homegallery.server.services import Services
from homegallery.storage import Storage

CROP_SIZE = 128  # pixels of a face crop's side
CROP_MARGIN = 0.25  # of the face's size, around it
MAX_INDEX = 10_000


class NameChange(msgspec.Struct, forbid_unknown_fields=True):
    name: str


class MergeChange(msgspec.Struct, forbid_unknown_fields=True):
    into: str


class HideChange(msgspec.Struct, forbid_unknown_fields=True):
    hidden: bool = True


class FaceChange(msgspec.Struct, forbid_unknown_fields=True):
    person: str


class PeopleList(msgspec.Struct):
    people: list[people.Person]


def _allowed(services: Services, viewer: Viewer) -> set[str] | None:
    """The media ids the viewer may see, or None for everything."""
    if not viewer.filter.strip():
        return None
    return set(services.gallery.search_ids(scope_query(viewer.filter, "").text))


def _visible_person(services: Services, viewer: Viewer, key: str) -> people.Person:
    allowed = _allowed(services, viewer)
    for person in people.list_people(services.gallery.reader(), hidden=True, allowed=allowed):
        if person.key == key:
            return person
    raise NotFoundException(detail=f"no person {key[:80]!r}")


def _face_key(services: Services, viewer: Viewer, media_id: str, number: str) -> str:
    """The face ``<media id>:<index>`` if the viewer may see it; 404 otherwise."""
    if not is_media_id(media_id) or not number.isdigit() or len(number) > len(str(MAX_INDEX)):
        raise NotFoundException(detail="no such face")
    index = int(number)
    entry = services.access.visible_entry(viewer, media_id, services.watcher.version)
    if entry is None:
        raise NotFoundException(detail=f"no entry {media_id[:80]}")
    key = people.face_key(entry.id, index)
    if not any(face.key == key for face in people.entry_faces(services.gallery.reader(), entry.id)):
        raise NotFoundException(detail=f"entry {entry.id} has no face {index}")
    return key


@get("/api/people", summary="The people, named ones first")
async def list_people(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    hidden: bool = Parameter(default=False),
) -> PeopleList:
    def work() -> PeopleList:
        allowed = _allowed(services, viewer)
        found = people.list_people(
            services.gallery.reader(), hidden=hidden and viewer.can_edit, allowed=allowed
        )
        return PeopleList(people=found)

    return await services.on_reader(work)


@get("/api/people/{key:str}", summary="One person")
async def one_person(
    services: NamedDependency[Services], viewer: NamedDependency[Viewer], key: FromPath[str]
) -> people.Person:
    return await services.on_reader(lambda: _visible_person(services, viewer, key))


@get("/api/entries/{media_id:str}/faces", summary="The faces of an entry with their people")
async def entry_faces(
    services: NamedDependency[Services], viewer: NamedDependency[Viewer], media_id: FromPath[str]
) -> list[people.FaceInfo]:
    def work() -> list[people.FaceInfo]:
        entry = services.access.visible_entry(viewer, media_id, services.watcher.version)
        if entry is None:
            raise NotFoundException(detail=f"no entry {media_id[:80]}")
        return people.entry_faces(services.gallery.reader(), entry.id)

    return await services.on_reader(work)


_PREVIEW = re.compile(r"-image-preview-(\d+)\.jpg$")


def _preview_for(previews: list[str], box: tuple[float, float, float, float]) -> str | None:
    """The smallest preview in which the face and its margin span the crop's pixels (a
    small face of a group shot comes from a large preview), else the largest there is."""
    sized = sorted(
        (int(match.group(1)), path) for path in previews if (match := _PREVIEW.search(path))
    )
    if not sized:
        return None
    span = max(box[2], box[3]) * (1 + 2 * CROP_MARGIN)
    return next((path for size, path in sized if size * span >= CROP_SIZE), sized[-1][1])


@functools.lru_cache(maxsize=512)
def _crop(path: str, box: tuple[float, float, float, float]) -> bytes:
    from PIL import Image  # lazy: only face crops need Pillow here

    x, y, width, height = box
    side = max(width, height) * (1 + 2 * CROP_MARGIN)
    with Image.open(path) as image:
        picture = image.convert("RGB")
    centre_x, centre_y = (x + width / 2) * picture.width, (y + height / 2) * picture.height
    half = side * max(picture.width, picture.height) / 2
    # A square around the face, in pixels of the longer side (boxes are relative).
    half = max(half, 4.0)
    area = (
        round(centre_x - half), round(centre_y - half),
        round(centre_x + half), round(centre_y + half),
    )  # fmt: skip
    crop = picture.crop(area).resize((CROP_SIZE, CROP_SIZE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=85)
    return out.getvalue()


@get("/api/faces/{media_id:str}/{index:str}", summary="A face, cut from its photo's preview")
async def face_crop(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    media_id: FromPath[str],
    index: FromPath[str],
) -> Response[bytes]:
    def work() -> Response[bytes]:
        key = _face_key(services, viewer, media_id, index)
        entry = services.access.visible_entry(viewer, media_id, services.watcher.version)
        assert entry is not None
        face = next(
            f for f in people.entry_faces(services.gallery.reader(), entry.id) if f.key == key
        )
        chosen = _preview_for(entry.previews, face.box)
        if chosen is None:
            raise NotFoundException(detail=f"entry {entry.id} has no preview to cut faces from")
        try:
            path = Storage(services.config.storage.path).resolve_relative(chosen)
            data = _crop(str(path), face.box)
        except (OSError, ValueError):
            raise NotFoundException(detail="the preview is not readable") from None
        return Response(data, media_type="image/jpeg", headers={"cache-control": IMMUTABLE})

    return await services.on_reader(work)


@get("/api/faces/{media_id:str}/{index:str}/same", summary="Entries with this face")
async def same_face(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    media_id: FromPath[str],
    index: FromPath[str],
    limit: int = Parameter(default=100, ge=1, le=1000),
) -> list[ApiEntry]:
    def work() -> list[ApiEntry]:
        key = _face_key(services, viewer, media_id, index)
        threshold = services.config.extractor.models.person_threshold
        found = people.same_face(services.gallery.reader(), key, threshold)
        allowed = _allowed(services, viewer)
        ids = [m for m, _ in found if allowed is None or m in allowed][:limit]
        entries = [services.gallery.entry(m) for m in ids]
        return to_api(services, viewer, [e for e in entries if e is not None])

    return await services.on_reader(work)


def _may_change(viewer: Viewer) -> None:
    if not viewer.can_edit:
        detail = (
            "your login may not change people" if viewer.username else "log in to change people"
        )
        raise PermissionDeniedException(detail=detail)
    if viewer.filter.strip():
        raise PermissionDeniedException(
            detail="only users who see the whole gallery may change people"
        )


async def _change(services: Services, viewer: Viewer, act: Callable[[str], None]) -> PeopleList:
    _may_change(viewer)
    user = viewer.username or "web"

    def write() -> None:
        try:
            act(user)
        except people.PersonNotFoundError as error:
            raise NotFoundException(detail=str(error)) from None
        except EventError as error:
            raise ValidationException(detail=str(error)) from None

    await services.on_writer(write)
    services.watcher.check()
    return await services.on_reader(
        lambda: PeopleList(people=people.list_people(services.gallery.reader()))
    )


@post("/api/people/{key:str}/name", summary="Name or rename a person", status_code=200)
async def name_person(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    key: FromPath[str],
    data: JSONBody[NameChange],
) -> PeopleList:
    return await _change(
        services, viewer, lambda user: services.gallery.name_person(key, data.name, user=user)
    )


@post("/api/people/{key:str}/merge", summary="Merge a person into another", status_code=200)
async def merge_people(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    key: FromPath[str],
    data: JSONBody[MergeChange],
) -> PeopleList:
    return await _change(
        services, viewer, lambda user: services.gallery.merge_people(key, data.into, user=user)
    )


@post("/api/people/{key:str}/hide", summary="Hide or show a person", status_code=200)
async def hide_person(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    key: FromPath[str],
    data: JSONBody[HideChange],
) -> PeopleList:
    return await _change(
        services, viewer, lambda user: services.gallery.hide_person(key, data.hidden, user=user)
    )


@post("/api/faces/{media_id:str}/{index:str}/move", summary="Move a face", status_code=200)
async def move_face(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    media_id: FromPath[str],
    index: FromPath[str],
    data: JSONBody[FaceChange],
) -> PeopleList:
    key = await services.on_reader(lambda: _face_key(services, viewer, media_id, index))
    return await _change(
        services, viewer, lambda user: services.gallery.move_face(key, data.person, user=user)
    )


@post("/api/faces/{media_id:str}/{index:str}/remove", summary="Take a face out of a person",
      status_code=200)  # fmt: skip
async def remove_face(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    media_id: FromPath[str],
    index: FromPath[str],
    data: JSONBody[FaceChange],
) -> PeopleList:
    key = await services.on_reader(lambda: _face_key(services, viewer, media_id, index))
    return await _change(
        services, viewer, lambda user: services.gallery.remove_face(key, data.person, user=user)
    )


READ_ROUTES = [list_people, one_person, entry_faces, face_crop, same_face]
ROUTES = [name_person, merge_people, hide_person, move_face, remove_face]
