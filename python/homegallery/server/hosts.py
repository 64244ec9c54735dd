"""The host names the server answers to: the guard against DNS rebinding.

A page on another site can point its own domain at 127.0.0.1 (or at the gallery's
address on the home network) after the browser has loaded it; from then on the
browser treats the gallery as part of that site and lets the page read every answer
and send writes. The one trace of this in a request is the Host header, which names
the attacker's domain. So a request is answered only when its Host names this server:
the address the connection arrived at, ``localhost`` and the loopback addresses, the
machine's own names, the configured listening address, and whatever ``server.hosts``
adds (the name a reverse proxy is reached by, ``.example.org`` for every subdomain, or
``*`` to turn the check off). Anything else gets 421 before any route runs.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Receive,
    Scope,
    Send,
)

log = logging.getLogger(__name__)

_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
_WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::", "*"})
_REPORTED_MAX = 100  # distinct refused names logged; a flood must not fill the log


def normalize_host(name: str) -> str:
    """``Example.ORG.`` → ``example.org``; IP addresses in one spelling (``::0001`` → ``::1``)."""
    name = name.strip().lower().removeprefix("[").removesuffix("]").rstrip(".")
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return name
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def host_of(header: str) -> str | None:
    """The host name of a Host header without its port; None when it is malformed.

    ``localhost:3000`` → ``localhost``, ``[::1]:3000`` → ``::1``; an IPv6 address
    must be in brackets (a bare one cannot be told from a name with a port).
    """
    header = header.strip()
    if header.startswith("["):
        end = header.find("]")
        if end < 0:
            return None
        name, rest = header[1:end], header[end + 1 :]
        if rest and not (rest.startswith(":") and rest[1:].isdigit() and rest.isascii()):
            return None
    else:
        name, colon, port = header.partition(":")
        if colon and not (port.isdigit() and port.isascii()):
            return None
    if not name or any(char.isspace() or char in "/\\@?#" for char in name):
        return None
    return normalize_host(name)


def machine_names() -> set[str]:
    """This machine's names: its host name, its fully qualified name, and ``<name>.local``."""
    names = set()
    hostname = socket.gethostname()
    if hostname:
        names.update({hostname, f"{hostname.split('.')[0]}.local"})
    with contextlib.suppress(OSError):  # no name service: the names above must do
        names.add(socket.getfqdn())
    return {normalize_host(name) for name in names if name}


@dataclass(frozen=True)
class HostNames:
    """The names requests may be addressed to."""

    exact: frozenset[str]
    suffixes: tuple[str, ...]  # `.example.org`: any subdomain (and example.org itself)
    anything: bool  # `*`: no check

    @classmethod
    def build(cls, bind_host: str, configured: Iterable[str]) -> HostNames:
        exact = {normalize_host(name) for name in _LOOPBACK_NAMES} | machine_names()
        if bind_host.strip() not in _WILDCARD_BINDS:
            exact.add(normalize_host(bind_host))
        suffixes = []
        anything = False
        for name in configured:
            name = name.strip()
            if name == "*":
                anything = True
            elif name.startswith("."):
                suffix = normalize_host(name[1:])
                exact.add(suffix)
                suffixes.append("." + suffix)
            else:
                exact.add(normalize_host(name))
        return cls(frozenset(exact), tuple(suffixes), anything)

    def allows(self, name: str, local_address: str | None) -> bool:
        """Whether a request for ``name`` (normalized) that arrived at ``local_address``
        is for this server."""
        if self.anything or name in self.exact:
            return True
        if local_address is not None and name == normalize_host(local_address):
            return True
        return name.endswith(self.suffixes) if self.suffixes else False


class HostCheck:
    """ASGI middleware: refuses requests whose Host header is not one of ``names``."""

    def __init__(self, app: ASGIApp, names: HostNames) -> None:
        self.app = app
        self.names = names
        self._reported: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or self.names.anything:
            await self.app(scope, receive, send)
            return
        values = [value for key, value in scope["headers"] if key.lower() == b"host"]
        name = host_of(values[0].decode("latin-1")) if len(values) == 1 else None
        server = scope.get("server")
        local = server[0] if server else None
        if name is not None and self.names.allows(name, local):
            await self.app(scope, receive, send)
            return
        if name is None:
            await refuse(send, 400, "the request needs one well-formed Host header")
            return
        self._report(name)
        await refuse(
            send,
            421,
            "this server does not answer to that host name; "
            "the gallery's owner can add it to server.hosts",
        )

    def _report(self, name: str) -> None:
        if name in self._reported or len(self._reported) >= _REPORTED_MAX:
            return
        self._reported.add(name)
        log.warning(
            "refused a request for the host name %r (not this machine's; add it to "
            "server.hosts if the gallery is reached by that name)",
            name[:200],
        )


async def refuse(send: Send, status: int, detail: str) -> None:
    """Answers ``status`` with a JSON ``detail`` and closes the connection."""
    body = json.dumps({"status_code": status, "detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"connection", b"close"),
    ]
    await send(HTTPResponseStartEvent(type="http.response.start", status=status, headers=headers))
    await send(HTTPResponseBodyEvent(type="http.response.body", body=body, more_body=False))
