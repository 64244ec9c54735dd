"""Connections: how long a client may take to send a request, and how many may wait.

uvicorn waits for a request's headers as long as the client likes, so a client
that opens connections and sends half a request each keeps them all: 1,100 of them
use up a process's usual limit of 1,024 open files, and from then on nobody is
served. This protocol (uvicorn's h11 protocol with three bounds) closes that:

- a client has ``request_timeout`` seconds to send a request's headers, and as long
  again for its body; then the connection is closed;
- at most ``max_connections`` connections are open; one more is answered 503 and
  closed at once, so the process never runs out of files;
- at most ``max_waiting_per_address`` connections from one address may be waiting
  for their request (half-sent or idle between requests), so one client cannot take
  every place while others are still served (trusted proxies excepted).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import time
from dataclasses import dataclass
from typing import ClassVar

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from homegallery.config import Server
from homegallery.server.proxies import TrustedProxies, parse_address

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


def _busy_response() -> bytes:
    body = b"the server is busy; try again in a moment\n"
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "content-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\n"
        "retry-after: 5\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


class _GuardedProtocol(H11Protocol):
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
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._set_waiting(None)

    def _watch(self) -> None:
        """A deadline while the client owes us a request's headers or body; a new one
        when it moves from one to the other; none while we answer."""
        state = self.conn.their_state
        waiting = state if state in _WAITING_STATES and not self.transport.is_closing() else None
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


def guarded_protocol(limits: ConnectionLimits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with ``limits``; each server gets its own counts."""
    return type(
        "GuardedH11Protocol",
        (_GuardedProtocol,),
        {
            "limits": limits,
            "proxies": TrustedProxies(limits.proxies),
            "waiting_by_address": {},
            "last_warning": [0.0],
        },
    )
