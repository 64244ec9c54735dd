"""Running the app with uvicorn: in the foreground for ``serve``, or in a thread for
tests and benchmarks that need a real server on a loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from litestar import Litestar

from homegallery.config import Server
from homegallery.server.connections import (
    ConnectionLimits,
    ensure_open_files,
    guarded_protocol,
)


@dataclass(frozen=True)
class Tls:
    """HTTPS served directly: a PEM certificate (chain) and its private key."""

    cert: Path
    key: Path

    @classmethod
    def of(cls, server: Server) -> Tls | None:
        return cls(Path(server.cert), Path(server.key)) if server.cert and server.key else None


def _server(
    app: Litestar,
    host: str,
    port: int,
    log_level: str | None,
    limits: ConnectionLimits,
    tls: Tls | None = None,
    parser: str = "auto",
) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        log_config=None,  # uvicorn's lines go through the gallery's logging, in its format
        access_log=False,
        lifespan="on",
        # Forwarded headers are read by the app, from configured proxies only
        # (server.trustedProxies): uvicorn's own reading would trust 127.0.0.1.
        proxy_headers=False,
        timeout_graceful_shutdown=2,
        http=guarded_protocol(limits, parser),
        ssl_certfile=tls.cert if tls else None,
        ssl_keyfile=tls.key if tls else None,
    )
    return uvicorn.Server(config)


def serve(
    app: Litestar,
    host: str,
    port: int,
    log_level: str | None = None,  # None: as the gallery's logging says (`-v` for more)
    limits: ConnectionLimits | None = None,
    tls: Tls | None = None,
    parser: str = "auto",
) -> None:
    """Serves until interrupted (``parser``: see
    :func:`~homegallery.server.connections.guarded_protocol`)."""
    limits = limits or ConnectionLimits()
    ensure_open_files(limits)
    _server(app, host, port, log_level, limits, tls, parser).run()


def base_url(host: str, port: int, tls: Tls | None = None) -> str:
    address = f"[{host}]" if ":" in host else host
    return f"{'https' if tls else 'http'}://{address}:{port}"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running(
    app: Litestar,
    host: str = "127.0.0.1",
    port: int = 0,
    limits: ConnectionLimits | None = None,
    tls: Tls | None = None,
    parser: str = "auto",
) -> Iterator[str]:
    """A server on a free port in a thread; yields its base URL, stops on exit.
    ``parser``: see :func:`~homegallery.server.connections.guarded_protocol`."""
    port = port or free_port(host)
    server = _server(app, host, port, "warning", limits or ConnectionLimits(), tls, parser)
    thread = threading.Thread(target=server.run, name="homegallery-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield base_url(host, port, tls)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
