"""Security headers on every response, added where the response starts.

The content security policy allows only the server's own scripts, styles, images and
media; the map's tile host is added when a tile URL is configured, so with none set
the browser cannot be made to contact any other host.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope


def tile_origin(tile_url: str) -> str:
    """``https://tile.example.org`` of ``https://{s}.tile.example.org/{z}/{x}/{y}.png``."""
    if not tile_url:
        return ""
    parts = urlsplit(tile_url.replace("{s}", "*"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(tile_url: str) -> str:
    tiles = tile_origin(tile_url)
    images = "'self' data: blob:" + (f" {tiles}" if tiles else "")
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            # Leaflet positions markers and tiles with style attributes.
            "style-src 'self' 'unsafe-inline'",
            f"img-src {images}",
            "media-src 'self' blob:",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


def security_headers(tile_url: str) -> dict[str, str]:
    return {
        "content-security-policy": content_security_policy(tile_url),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    }


def security_headers_hook(tile_url: str) -> Callable[[Message, Scope], Awaitable[None]]:
    """A ``before_send`` hook that sets the headers on every HTTP response."""
    headers = security_headers(tile_url)

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            target = MutableScopeHeaders.from_message(message)
            for name, value in headers.items():
                if name not in target:
                    target[name] = value

    return add_headers
