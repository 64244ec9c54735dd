"""The app's settings for this viewer, and logging in and out."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import (
    NotAuthorizedException,
    TooManyRequestsException,
    ValidationException,
)
from litestar.params import JSONBody

from homegallery.server.logins import LoginRefusedError
from homegallery.server.schemas import AppSettings, Login
from homegallery.server.services import AnyRequest, Services
from homegallery.server.sessions import COOKIE_NAME


def _settings(services: Services, token: str | None) -> AppSettings:
    viewer = services.access.viewer(token)
    return AppSettings(
        user=viewer.username if viewer else None,
        login_enabled=services.access.login_enabled,
        login_required=viewer is None,
        can_edit=bool(viewer and viewer.can_edit),
        can_share=bool(viewer and viewer.can_share),
        can_change_people=bool(viewer and viewer.can_edit and not viewer.filter.strip()),
        tile_url=services.config.server.tile_url,
        version=services.watcher.version,
    )


@get("/api/settings", sync_to_thread=False, summary="Who is logged in and what the app may show")
def settings(request: AnyRequest, services: NamedDependency[Services]) -> AppSettings:
    return _settings(services, request.cookies.get(COOKIE_NAME))


def _cookie(services: Services, request: AnyRequest, value: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE_NAME,
        value=value,
        max_age=max_age,
        path=services.prefix or "/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


MAX_CREDENTIAL_LENGTH = 1024  # characters of a user name or a password


@post(
    "/api/login",
    status_code=200,
    request_max_body_size=16 * 1024,
    summary="Log in; sets the session cookie",
)
async def login(
    request: AnyRequest, services: NamedDependency[Services], data: JSONBody[Login]
) -> Response[AppSettings]:
    if max(len(data.username), len(data.password)) > MAX_CREDENTIAL_LENGTH:
        raise ValidationException(
            detail=f"a user name or password has at most {MAX_CREDENTIAL_LENGTH} characters"
        )
    address = request.client.host if request.client else ""
    try:
        token = await services.access.login(data.username, data.password, address)
    except LoginRefusedError as refused:
        raise TooManyRequestsException(
            detail=refused.message, headers={"Retry-After": str(refused.retry_after)}
        ) from None
    if token is None:
        raise NotAuthorizedException(detail="wrong user name or password")
    cookie = _cookie(services, request, token, services.sessions.max_age)
    return Response(_settings(services, token), cookies=[cookie])


@post("/api/logout", status_code=200, summary="Log out; ends the session")
async def logout(request: AnyRequest, services: NamedDependency[Services]) -> Response[AppSettings]:
    token = request.cookies.get(COOKIE_NAME)
    if token:
        await services.on_writer(lambda: services.access.logout(token))
    return Response(_settings(services, None), cookies=[_cookie(services, request, "", 0)])


ROUTES = [settings, login, logout]
