"""Connections: how long a client may take to send a request, and how many may wait.

uvicorn waits for a request's headers as long as the client likes, so a client
that opens connections and sends half a request each keeps them all: 1,100 of them
use up a process's usual limit of 1,024 open files, and from then on nobody is
served. These protocols (uvicorn's httptools protocol, or its h11 protocol where
httptools is not installed, with three bounds) close that:

- a client has ``request_timeout`` seconds to send a request's headers, and as long
  again for its body; then the connection is closed;
- at most ``max_connections`` connections are open; one more is answered 503 and
  closed at once, so the process never runs out of files;
- at most ``max_waiting_per_address`` connections from one address may be waiting
  for their request (half-sent or idle between requests), so one client cannot take
  every place while others are still served (trusted proxies excepted).

httptools parses a request in C and answers the same request in 0.08 ms less than
h11 (15% of what the server spends on a small answer). Unlike h11 it takes a head of
any size, so its protocol here counts the target's and the headers' bytes as they
arrive and refuses a head over :mod:`~homegallery.server.heads`' limits (414, 431)
before it is read whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import time
from dataclasses import dataclass
from typing import Any, ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from homegallery.config import Server
from homegallery.errors import HomeGalleryError
from homegallery.server.heads import MAX_HEADER_BYTES, MAX_TARGET_BYTES
from homegallery.server.proxies import TrustedProxies, parse_address

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed: h11 serves
    HttpToolsProtocol = None  # type: ignore[assignment,misc]

log = logging.getLogger(__name__)

_WAITING_STATES = (h11.IDLE, h11.SEND_BODY)
_WARNING_INTERVAL = 60.0  # seconds between two warnings about refused connections


@dataclass(frozen=True)
class ConnectionLimits:
    request_timeout: float = 10.0
    max_connections: int = 500
    # Reverse proxies (server.trustedProxies): one address for all their clients, whose
    # slow requests they hold themselves, so the per-address bound does not apply.
    proxies: tuple[str, ...] = ()

    @property
    def max_waiting_per_address(self) -> int:
        """An eighth of all places (a few browsers behind one router need some each)."""
        return max(8, self.max_connections // 8)

    @classmethod
    def of(cls, server: Server) -> ConnectionLimits:
        return cls(
            request_timeout=server.request_timeout,
            max_connections=server.max_connections,
            proxies=tuple(server.trusted_proxies),
        )


def ensure_open_files(limits: ConnectionLimits, spare: int = 100) -> None:
    """Raises the process's limit of open files to fit ``max_connections`` and ``spare``
    more (catalog, previews, logs), as far as the hard limit allows; warns if it cannot."""
    wanted = limits.max_connections + spare
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft < wanted:
        log.warning(
            "this process may open %d files, too few for server.maxConnections %d; "
            "lower it to %d or raise the limit (ulimit -n)",
            soft,
            limits.max_connections,
            max(1, soft - spare),
        )


def _closing_response(status: str, text: str, extra: str = "") -> bytes:
    body = text.encode() + b"\n"
    head = (
        f"HTTP/1.1 {status}\r\n"
        "content-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\n"
        f"{extra}"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


def _busy_response() -> bytes:
    return _closing_response(
        "503 Service Unavailable", "the server is busy; try again in a moment", "retry-after: 5\r\n"
    )


class _Guard(asyncio.Protocol):
    """The three bounds over any of uvicorn's HTTP/1.1 protocols: a subclass says
    what the client owes (``_owed``)."""

    # what uvicorn's protocols have
    client: tuple[str, int] | None
    connections: set[Any]
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop

    limits: ClassVar[ConnectionLimits]
    proxies: ClassVar[TrustedProxies]
    waiting_by_address: ClassVar[dict[str, int]]
    last_warning: ClassVar[list[float]]

    _deadline: asyncio.TimerHandle | None = None
    _waiting_state: object | None = None
    _address = ""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._address = self.client[0] if self.client else ""
        waiting = self.waiting_by_address.get(self._address, 0)
        if len(self.connections) > self.limits.max_connections:
            self._refuse("open connections", self.limits.max_connections)
        elif waiting >= self.limits.max_waiting_per_address and not self.proxies.trusts(
            parse_address(self._address)
        ):
            self._refuse(
                f"connections waiting for a request from {self._address}",
                self.limits.max_waiting_per_address,
            )
        else:
            self._watch()

    def _refuse(self, what: str, limit: int) -> None:
        now = time.monotonic()
        if now - self.last_warning[0] > _WARNING_INTERVAL:
            self.last_warning[0] = now
            log.warning("refusing connections: already %d %s (the most allowed)", limit, what)
        self.transport.write(_busy_response())
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._set_waiting(None)

    def _owed(self) -> object | None:
        """What the client owes us now (a request's head, its body), or None while we
        answer; a new value starts a new deadline."""
        raise NotImplementedError

    def _watch(self) -> None:
        """A deadline while the client owes us a request's headers or body; a new one
        when it moves from one to the other; none while we answer."""
        waiting = self._owed() if not self.transport.is_closing() else None
        if waiting is not self._waiting_state:
            self._set_waiting(waiting)

    def _set_waiting(self, state: object | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        if (self._waiting_state is None) != (state is None):
            count = self.waiting_by_address.get(self._address, 0) + (1 if state else -1)
            if count > 0:
                self.waiting_by_address[self._address] = count
            else:
                self.waiting_by_address.pop(self._address, None)
        self._waiting_state = state
        if state is not None:
            self._deadline = self.loop.call_later(self.limits.request_timeout, self._expired)

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.transport.close()


class _GuardedH11(_Guard, H11Protocol):
    def _owed(self) -> object | None:
        state = self.conn.their_state
        return state if state in _WAITING_STATES else None


_HEAD = "head"  # the client owes a request's target and headers (or is idle between)
_BODY = "body"
_HEADERS_TOO_LARGE = (
    "431 Request Header Fields Too Large",
    f"the headers are longer than {MAX_HEADER_BYTES} bytes",
)
# A head may hold the target, the headers and their separators.
_MAX_HEAD_BYTES = MAX_TARGET_BYTES + MAX_HEADER_BYTES + 8 * 1024


class _HeadTooLargeError(HomeGalleryError):
    def __init__(self, status: str, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


if HttpToolsProtocol is not None:

    class _GuardedHttpTools(_Guard, HttpToolsProtocol):
        _part: str | None = _HEAD
        _target_bytes = 0
        _header_bytes = 0
        _unparsed_head = 0
        _refusal: _HeadTooLargeError | None = None

        def _owed(self) -> object | None:
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete:
                return None  # answering (a pipelined request waits its turn)
            return self._part

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._part, self._target_bytes, self._header_bytes = _HEAD, 0, 0

        def on_url(self, url: bytes) -> None:
            self._target_bytes += len(url)
            if self._target_bytes > MAX_TARGET_BYTES:
                self._refusal = _HeadTooLargeError(
                    "414 URI Too Long", f"the URL is longer than {MAX_TARGET_BYTES} bytes"
                )
                raise self._refusal
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._header_bytes += len(name) + len(value)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._refusal = _HeadTooLargeError(*_HEADERS_TOO_LARGE)
                raise self._refusal
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._part, self._unparsed_head = _BODY, 0
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._part = None
            super().on_message_complete()

        def on_response_complete(self) -> None:
            if self._part is None:  # else the body is still coming (answered early)
                self._part = _HEAD
            super().on_response_complete()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            # httptools keeps a header's pieces until the header is whole: bytes of a
            # head still unparsed are counted here, so none grows without bound.
            if self._part is _HEAD and not self.transport.is_closing():
                self._unparsed_head += len(data)
                if self._unparsed_head > _MAX_HEAD_BYTES:
                    self.transport.write(_closing_response(*_HEADERS_TOO_LARGE))
                    self.transport.close()

        def send_400_response(self, msg: str) -> None:
            """A head over the limits is answered 414 or 431 (the parser stopped at
            the callback that refused it); anything else the parser refuses, 400."""
            refusal, self._refusal = self._refusal, None
            if refusal is None:
                super().send_400_response(msg)
                return
            self.transport.write(_closing_response(refusal.status, refusal.text))
            self.transport.close()


def guarded_protocol(limits: ConnectionLimits, parser: str = "auto") -> type[asyncio.Protocol]:
    """uvicorn's protocol with ``limits``; each server gets its own counts.

    ``parser`` is ``httptools`` (refused when it is not installed), ``h11``, or
    ``auto``: httptools when it is installed.
    """
    if parser not in ("auto", "httptools", "h11"):
        raise ValueError(f"no HTTP parser {parser!r}")
    if parser == "httptools" and HttpToolsProtocol is None:
        raise ValueError("httptools is not installed")
    tools = parser != "h11" and HttpToolsProtocol is not None
    return type(
        "GuardedHttpToolsProtocol" if tools else "GuardedH11Protocol",
        (_GuardedHttpTools if tools else _GuardedH11,),
        {
            "limits": limits,
            "proxies": TrustedProxies(limits.proxies),
            "waiting_by_address": {},
            "last_warning": [0.0],
        },
    )
