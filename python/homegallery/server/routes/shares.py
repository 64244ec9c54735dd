"""Share links: making, listing and revoking them, and the link's own address space.

Everything a visitor with a link reaches lives under ``/s/<token>/``: the app's page
and the same read routes a logged-in user has (entries, positions, timeline, places,
tags, previews, videos, originals, live updates), mounted a second time with the
``viewer`` dependency replaced by the link's visitor (:mod:`..share_access`). Routes
that change anything, log in or manage shares are not mounted there at all.
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency, Provide
from litestar.exceptions import (
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.params import FromPath, JSONBody
from litestar.types import ControllerRouterHandler

from homegallery.server.access import Viewer
from homegallery.server.logins import LoginRefusedError
from homegallery.server.passwords import hash_password, verify_password
from homegallery.server.routes.pages import PageContext
from homegallery.server.routes.session import MAX_CREDENTIAL_LENGTH
from homegallery.server.schemas import (
    AppSettings,
    ShareInfo,
    ShareList,
    ShareRequest,
    ShareRevoke,
    ShareVisit,
    Unlock,
)
from homegallery.server.scope import scope_query
from homegallery.server.services import AnyRequest, Services
from homegallery.server.share_access import (
    MAX_SHARES_PER_USER,
    MAX_TITLE,
    UNLOCK_COOKIE,
    ShareRequestError,
    expiry,
    set_filter,
    unlock_token,
    unlocked,
    visitor,
)
from homegallery.server.shares import SHARE_KINDS, Share

SHARE_PATH = "/s/{share_token:str}"


def link_of(share: Share) -> str:
    base = f"s/{share.token}/"
    return f"{base}view/{share.target}" if share.kind == "photo" else base


def _count(services: Services, share: Share) -> int:
    viewer = visitor(services.access, share)
    if viewer is None:
        return -1
    return services.gallery.count(scope_query(viewer.filter, "").text)


def _info(services: Services, share: Share) -> ShareInfo:
    return ShareInfo(
        id=share.id,
        link=link_of(share),
        kind=share.kind,
        target=share.target,
        title=share.title,
        created=share.created,
        expires=share.expires,
        expired=share.expired(),
        password=bool(share.password),
        originals=share.originals,
        count=_count(services, share),
    )


def _sharer(viewer: Viewer) -> str:
    if viewer.username is None:
        raise PermissionDeniedException(detail="log in to make share links")
    if not viewer.can_share:
        raise PermissionDeniedException(detail="your login may not make share links")
    return viewer.username


# --- the user's links -----------------------------------------------------------------------


def _checked_title(data: ShareRequest) -> str:
    """The link's title, once the request's kind, title and password are in bounds."""
    if data.kind not in SHARE_KINDS:
        raise ValidationException(detail=f"kind is one of {', '.join(SHARE_KINDS)}")
    title = data.title.strip()
    if len(title) > MAX_TITLE or any(ord(char) < 32 for char in title):
        raise ValidationException(
            detail=f"a title has at most {MAX_TITLE} characters, no control characters"
        )
    if len(data.password) > MAX_CREDENTIAL_LENGTH:
        raise ValidationException(
            detail=f"a password has at most {MAX_CREDENTIAL_LENGTH} characters"
        )
    return title


@post("/api/shares", summary="Make a share link to a photo, an album or a query's result")
async def create_share(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    data: JSONBody[ShareRequest],
) -> ShareInfo:
    owner = _sharer(viewer)
    title = _checked_title(data)

    def prepare() -> tuple[str, str, int | None]:
        target = data.target.strip()
        if data.kind == "photo":
            entry = services.access.visible_entry(viewer, target, services.watcher.version)
            if entry is None:
                raise NotFoundException(detail=f"no entry {target[:80]}")
            target = entry.id
        try:
            wanted = set_filter(data.kind, target)  # type: ignore[arg-type]
            ends = expiry(data.expires_days)
        except ShareRequestError as error:
            raise ValidationException(detail=str(error)) from None
        if services.shares.count_owned_by(owner) >= MAX_SHARES_PER_USER:
            raise PermissionDeniedException(
                detail=f"at most {MAX_SHARES_PER_USER} share links per user: revoke some first"
            )
        return target, wanted, ends

    target, wanted, ends = await services.on_reader(prepare)
    password = ""
    if data.password:
        try:
            password = await services.access.checks.run(lambda: hash_password(data.password))
        except LoginRefusedError as refused:
            raise TooManyRequestsException(
                detail=refused.message, headers={"Retry-After": str(refused.retry_after)}
            ) from None

    def write() -> Share:
        return services.shares.create(
            owner=owner,
            kind=data.kind,  # type: ignore[arg-type]
            target=target,
            filter=wanted,
            title=title or target,
            password=password,
            originals=data.originals,
            expires=ends,
        )

    share = await services.on_writer(write)
    info = await services.on_reader(lambda: _info(services, share))
    if info.count < 0:  # the set does not join the maker's filter: nothing to show
        await services.on_writer(lambda: services.shares.revoke(owner, share.id))
        raise ValidationException(detail="this cannot be shared within what you may see")
    return info


@get("/api/shares", summary="The share links the logged-in user made")
async def list_shares(
    services: NamedDependency[Services], viewer: NamedDependency[Viewer]
) -> ShareList:
    if viewer.username is None:
        raise PermissionDeniedException(detail="log in to see your share links")
    return await services.on_reader(lambda: _mine(services, viewer.username or ""))


def _mine(services: Services, owner: str) -> ShareList:
    return ShareList(shares=[_info(services, share) for share in services.shares.owned_by(owner)])


@post("/api/shares/revoke", status_code=200, summary="Revoke one of the user's share links")
async def revoke_share(
    services: NamedDependency[Services],
    viewer: NamedDependency[Viewer],
    data: JSONBody[ShareRevoke],
) -> ShareList:
    if viewer.username is None:
        raise PermissionDeniedException(detail="log in to revoke your share links")
    owner = viewer.username
    if not await services.on_writer(lambda: services.shares.revoke(owner, data.id)):
        raise NotFoundException(detail=f"you have no share link {data.id}")
    return await services.on_reader(lambda: _mine(services, owner))


ROUTES = [create_share, list_shares, revoke_share]


# --- a visitor with a link ------------------------------------------------------------------


def provide_share(services: NamedDependency[Services], share_token: FromPath[str]) -> Share:
    share = services.shares.find(share_token)
    if share is None:
        raise NotFoundException(detail="this link does not work (any more)")
    return share


def provide_share_viewer(
    request: AnyRequest, services: NamedDependency[Services], share: NamedDependency[Share]
) -> Viewer:
    viewer = visitor(services.access, share)
    if viewer is None:
        raise NotFoundException(detail="this link does not work (any more)")
    if not unlocked(services.sessions, share, request.cookies.get(UNLOCK_COOKIE)):
        raise NotAuthorizedException(detail="this link needs its password")
    return viewer


def provide_share_page_context(
    request: AnyRequest, services: NamedDependency[Services], share_token: FromPath[str]
) -> PageContext:
    base = f"{services.prefix}/s/{share_token}/"
    share = services.shares.find(share_token)
    viewer = visitor(services.access, share) if share is not None else None
    if share is None or viewer is None:
        return PageContext(base, None, gone=True)
    if not unlocked(services.sessions, share, request.cookies.get(UNLOCK_COOKIE)):
        return PageContext(base, None)
    return PageContext(base, viewer)


def _visit(services: Services, request: AnyRequest, share: Share) -> AppSettings:
    locked = not unlocked(services.sessions, share, request.cookies.get(UNLOCK_COOKIE))
    return AppSettings(
        user=None,
        login_enabled=False,
        login_required=False,
        can_edit=False,
        tile_url=services.config.server.tile_url,
        version=services.watcher.version,
        share=ShareVisit(
            title=share.title,
            kind=share.kind,
            target=share.target,
            originals=share.originals,
            locked=locked,
        ),
    )


@get("/api/settings", sync_to_thread=False, summary="What a visitor with this link is shown")
def share_settings(
    request: AnyRequest, services: NamedDependency[Services], share: NamedDependency[Share]
) -> AppSettings:
    if visitor(services.access, share) is None:
        raise NotFoundException(detail="this link does not work (any more)")
    return _visit(services, request, share)


@post(
    "/api/share/unlock",
    status_code=200,
    request_max_body_size=16 * 1024,
    summary="Give a link's password; sets a cookie for this link",
)
async def unlock(
    request: AnyRequest,
    services: NamedDependency[Services],
    share: NamedDependency[Share],
    data: JSONBody[Unlock],
) -> Response[AppSettings]:
    if len(data.password) > MAX_CREDENTIAL_LENGTH:
        raise ValidationException(
            detail=f"a password has at most {MAX_CREDENTIAL_LENGTH} characters"
        )
    if not share.password or visitor(services.access, share) is None:
        raise NotFoundException(detail="this link has no password")
    address = request.client.host if request.client else ""
    account = f"share:{share.id}"
    access = services.access
    try:
        access.throttle.check(address, account)
        right = await access.checks.run(lambda: verify_password(share.password, data.password))
    except LoginRefusedError as refused:
        raise TooManyRequestsException(
            detail=refused.message, headers={"Retry-After": str(refused.retry_after)}
        ) from None
    if not right:
        access.throttle.failed(address, account)
        raise NotAuthorizedException(detail="wrong password")
    access.throttle.succeeded(address, account)
    cookie = Cookie(
        key=UNLOCK_COOKIE,
        value=unlock_token(services.sessions, share),
        max_age=services.sessions.max_age,
        path=f"{services.prefix}/s/{share.token}/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    settings = _visit(services, request, share)
    settings.share = ShareVisit(
        title=share.title, kind=share.kind, target=share.target, originals=share.originals,
        locked=False,
    )  # fmt: skip
    return Response(settings, cookies=[cookie])


def share_router(read_routes: Sequence[ControllerRouterHandler]) -> Router:
    """The address space of share links: ``read_routes`` with the link's visitor."""
    return Router(
        path=SHARE_PATH,
        route_handlers=[*read_routes, share_settings, unlock],
        dependencies={
            "share": Provide(provide_share, sync_to_thread=False),
            "viewer": Provide(provide_share_viewer, sync_to_thread=False),
            "page_context": Provide(provide_share_page_context, sync_to_thread=False),
        },
    )
