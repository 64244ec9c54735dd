"""Failures the server did not expect: logged with a request id, answered without details.

Every request gets a short random id, sent back in the ``X-Request-ID`` header. A
request that fails (a bug, a damaged catalog entry) is logged once with that id, its
method, path and client address and the traceback, and answered with a plain 500
that carries the same id, so a user's report can be matched to the log line. Nothing
from the request's headers, query string or body is logged: cookies, passwords and
tokens stay out of the log, and no exception text reaches the client. A catalog that
cannot be read at all is 503 with its reason, less the catalog's path.
"""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path
from typing import Any

from litestar import Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)

from homegallery.catalog import CatalogError

log = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"
_STATE_KEY = "request_id"


def request_id(scope: Scope) -> str:
    """The id of the request this scope belongs to (``-`` outside :class:`RequestIds`)."""
    state = scope.get("state")
    found = state.get(_STATE_KEY) if isinstance(state, dict) else None
    return str(found) if found else "-"


def _where(scope: Scope) -> str:
    client = scope.get("client")
    address = client[0] if client else "?"
    return f"{scope.get('method', '?')} {scope.get('path', '?')} from {address}"


def log_failure(scope: Scope, error: BaseException) -> None:
    log.error(
        "request %s failed: %s",
        request_id(scope),
        _where(scope),
        exc_info=(type(error), error, error.__traceback__),
    )


def _body(status: int, detail: str, scope: Scope) -> dict[str, Any]:
    return {"status_code": status, "detail": detail, "requestId": request_id(scope)}


def internal_error(request: Request[Any, Any, Any], error: Exception) -> Response[dict[str, Any]]:
    """The answer to an unexpected exception in a route: logged, then a bare 500."""
    log_failure(request.scope, error)
    detail = "internal server error; the server's log has the details under this request id"
    return Response(
        _body(HTTP_500_INTERNAL_SERVER_ERROR, detail, request.scope),
        status_code=HTTP_500_INTERNAL_SERVER_ERROR,
    )


def exception_handlers(catalog: Path) -> dict[Any, Any]:
    """The app's handlers of unexpected exceptions and of an unreadable catalog."""

    def catalog_unavailable(
        request: Request[Any, Any, Any], error: Exception
    ) -> Response[dict[str, Any]]:
        """A catalog that cannot be read (not built yet, damaged): 503 with the reason,
        and the catalog's path, which the reason starts with, only in the log."""
        message = str(error)
        log.warning("request %s: %s: %s", request_id(request.scope), _where(request.scope), message)
        detail = message.removeprefix(f"{catalog}: ").replace(str(catalog), "the catalog")
        return Response(
            _body(HTTP_503_SERVICE_UNAVAILABLE, detail, request.scope),
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
        )

    return {HTTP_500_INTERNAL_SERVER_ERROR: internal_error, CatalogError: catalog_unavailable}


class RequestIds:
    """ASGI middleware: gives each request an id, sends it back, and catches what
    escapes every handler (an error while a response streams, a failing middleware)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[_STATE_KEY] = secrets.token_hex(8)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableScopeHeaders.from_message(message)[REQUEST_ID_HEADER] = request_id(scope)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            log_failure(scope, error)
            if started:
                return  # the connection ends with the response cut short
            body = json.dumps(
                _body(HTTP_500_INTERNAL_SERVER_ERROR, "internal server error", scope)
            ).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            await send_with_id(
                HTTPResponseStartEvent(
                    type="http.response.start",
                    status=HTTP_500_INTERNAL_SERVER_ERROR,
                    headers=headers,
                )
            )
            await send_with_id(
                HTTPResponseBodyEvent(type="http.response.body", body=body, more_body=False)
            )
