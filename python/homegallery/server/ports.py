"""Whether the server can listen where it is asked to, said in one line before it starts.

uvicorn finds a taken port only when it binds, after the app is made (and, for
``demo``, after the whole import), and then logs a traceback-like error. A bind of
our own first says what is wrong and how to change it.
"""

from __future__ import annotations

import errno
import socket

from homegallery.errors import HomeGalleryError


class PortError(HomeGalleryError):
    """The server cannot listen on the address and port it was given."""


def check_port(host: str, port: int) -> None:
    """Raises :class:`PortError` when ``host:port`` cannot be listened on now."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise PortError(f"port {port} is in use; choose another with --port") from None
            if error.errno == errno.EACCES:
                raise PortError(
                    f"port {port} needs administrator rights; choose one above 1023 with --port"
                ) from None
            if error.errno == errno.EADDRNOTAVAIL or isinstance(error, socket.gaierror):
                raise PortError(
                    f"{host} is not an address of this machine; choose another with --host"
                ) from None
            raise PortError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
