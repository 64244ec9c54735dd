"""Request bodies: bounded in size, and JSON bounded in depth.

Every body the API takes is a small JSON object (a login, a tag change of up to
10,000 ids), so anything above :data:`MAX_BODY_BYTES` is refused with 413 before it
is read whole. JSON is decoded before it is checked against its schema, and a body
of 50,000 nested ``[`` exhausts the decoder's recursion limit: that is a bad request
(400), not a server error.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import ClientException

MAX_BODY_BYTES = 1 << 20  # 1 MiB: 10,000 ids of 64 hex digits take 0.7 MB


class BoundedRequest(Request[Any, Any, Any]):
    """A request whose JSON body is refused with 400 when nested too deeply to decode."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise ClientException(detail="the JSON body is nested too deeply") from None
