"""Running the app with uvicorn: in the foreground for ``serve``, or in a thread for
tests and benchmarks that need a real server on a loopback port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from litestar import Litestar


def _server(app: Litestar, host: str, port: int, log_level: str) -> uvicorn.Server:
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        proxy_headers=False,  # client addresses are the peers' own: rules cannot be fooled
        timeout_graceful_shutdown=2,
    )
    return uvicorn.Server(config)


def serve(app: Litestar, host: str, port: int, log_level: str = "info") -> None:
    """Serves until interrupted."""
    _server(app, host, port, log_level).run()


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running(app: Litestar, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """A server on a free port in a thread; yields its base URL, stops on exit."""
    port = port or free_port(host)
    server = _server(app, host, port, "warning")
    thread = threading.Thread(target=server.run, name="homegallery-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
