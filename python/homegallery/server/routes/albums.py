"""Albums: the viewer's saved albums and the hand-picked albums among what they see."""

from __future__ import annotations

from litestar import get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, PermissionDeniedException, ValidationException
from litestar.params import JSONBody

from homegallery.catalog.query import QueryError, check_query
from homegallery.server.access import Viewer
from homegallery.server.albums import (
    MAX_ALBUMS_PER_USER,
    ORDERS,
    AlbumNameError,
    SavedAlbum,
    clean_name,
)
from homegallery.server.routes.entries import page_of, to_api
from homegallery.server.schemas import Album, AlbumDelete, Albums, AlbumSave
from homegallery.server.services import QueryProblem, Services, run_query, scoped_or_400
from homegallery.server.share_access import (
    ALBUM_TAG_PREFIX,
    MAX_QUERY,
    ShareRequestError,
    quote_value,
)

MAX_PICKED = 5000  # hand-picked albums listed (tags with the album prefix)


def album_owner(services: Services, viewer: Viewer) -> str | None:
    """Whose saved albums the viewer has: their own; everyone's alike without users;
    None for visitors who are not logged in (they have none)."""
    if not services.access.login_enabled:
        return ""
    return viewer.username


def _album(services: Services, viewer: Viewer, name: str, kind: str, query: str,
           cover_id: str = "", album_id: int | None = None, order: str = "newest") -> Album:  # fmt: skip
    try:
        scoped = scoped_or_400(services, viewer, query)
        count = run_query(scoped, services.gallery.count)
        cover = None
        if cover_id:
            found = services.access.visible_entry(viewer, cover_id, services.watcher.version)
            cover = to_api(services, viewer, [found])[0] if found else None
        if cover is None:
            first = run_query(scoped, lambda text: page_of(services, text, 1, 0))
            cover = to_api(services, viewer, first)[0] if first else None
    except QueryProblem:  # a saved query the catalog no longer takes: listed, empty
        count, cover = 0, None
    return Album(name=name, kind=kind, query=query, count=count, cover=cover, id=album_id,
                 order=order)  # fmt: skip


@get("/api/albums", summary="The viewer's saved albums and the hand-picked albums they see")
async def albums(services: NamedDependency[Services], viewer: NamedDependency[Viewer]) -> Albums:
    return await services.on_reader(lambda: _albums(services, viewer))


def _albums(services: Services, viewer: Viewer) -> Albums:
    owner = album_owner(services, viewer)
    found: list[Album] = []
    for saved in services.albums.owned_by(owner) if owner is not None else []:
        found.append(_album(services, viewer, saved.name, "saved", saved.full_query(),
                            saved.cover, saved.id, saved.order))  # fmt: skip
    scoped = scoped_or_400(services, viewer, "")
    tags = run_query(
        scoped, lambda text: services.gallery.tag_counts(text, MAX_PICKED, prefix=ALBUM_TAG_PREFIX)
    )
    for tag, _ in tags:
        try:
            query = f"tag:{quote_value(tag)}"
        except ShareRequestError:  # a tag with both kinds of quotes cannot be searched
            continue
        if len(tag) > len(ALBUM_TAG_PREFIX):
            album = _album(services, viewer, "", "picked", query)
            album.name = _as_written(album, tag)[len(ALBUM_TAG_PREFIX) :]
            found.append(album)
    found.sort(key=lambda album: (album.name.casefold(), album.kind))
    return Albums(albums=found, can_save=owner is not None)


def _as_written(album: Album, tag: str) -> str:
    """The album's tag as a user wrote it (the catalog compares tags casefolded)."""
    tags = album.cover.tags if album.cover is not None else []
    return next((written for written in tags if written.casefold() == tag), tag)


@post("/api/albums", summary="Save an album: a name, a query, a cover, an order")
async def save_album(
    services: NamedDependency[Services], viewer: NamedDependency[Viewer], data: JSONBody[AlbumSave]
) -> Album:
    owner = album_owner(services, viewer)
    if owner is None:
        raise PermissionDeniedException(detail="log in to save albums")
    try:
        name = clean_name(data.name)
    except AlbumNameError as error:
        raise ValidationException(detail=str(error)) from None
    query = data.query.strip()
    if len(query) > MAX_QUERY:
        raise ValidationException(detail=f"a query has at most {MAX_QUERY} characters")
    if data.order not in ORDERS:
        raise ValidationException(detail=f"order is one of {', '.join(ORDERS)}")
    try:
        check_query(query)
    except QueryError as error:
        raise ValidationException(detail=f"the query is not valid: {error}") from None
    cover = data.cover.strip()

    def write() -> SavedAlbum:
        if services.albums.count_owned_by(owner) >= MAX_ALBUMS_PER_USER:
            raise PermissionDeniedException(detail=f"at most {MAX_ALBUMS_PER_USER} albums")
        return services.albums.save(owner, name, query, cover, data.order)  # type: ignore[arg-type]

    saved = await services.on_writer(write)
    return await services.on_reader(
        lambda: _album(
            services,
            viewer,
            saved.name,
            "saved",
            saved.full_query(),
            saved.cover,
            saved.id,
            saved.order,
        )
    )


@post("/api/albums/delete", status_code=200, summary="Delete one of the viewer's saved albums")
async def delete_album(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    data: JSONBody[AlbumDelete],
) -> Albums:
    owner = album_owner(services, viewer)
    if owner is None or not await services.on_writer(
        lambda: services.albums.delete(owner, data.id)
    ):
        raise NotFoundException(detail=f"you have no album {data.id}")
    return await services.on_reader(lambda: _albums(services, viewer))


ROUTES = [albums, save_album, delete_album]
