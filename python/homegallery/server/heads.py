"""Request heads: the target (path and query) and the headers are bounded in size.

The HTTP parser refuses a head that arrives in pieces above 16 KiB, but takes one that
arrives whole up to the size of a socket read (hundreds of KiB), and a query string
of that size is parsed, checked and searched like any other. No page of the web app
sends more than a few KiB, so larger ones are refused before any route runs: 414 for
the target, 431 for the headers.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from homegallery.server.hosts import refuse

MAX_TARGET_BYTES = 16 * 1024
MAX_HEADER_BYTES = 32 * 1024


class HeadLimits:
    """ASGI middleware: refuses requests whose target or headers are too large."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            target = len(scope.get("raw_path") or scope["path"].encode()) + len(
                scope["query_string"]
            )
            if target > MAX_TARGET_BYTES:
                await refuse(send, 414, f"the URL is longer than {MAX_TARGET_BYTES} bytes")
                return
            headers = sum(len(name) + len(value) for name, value in scope["headers"])
            if headers > MAX_HEADER_BYTES:
                await refuse(send, 431, f"the headers are longer than {MAX_HEADER_BYTES} bytes")
                return
        await self.app(scope, receive, send)
