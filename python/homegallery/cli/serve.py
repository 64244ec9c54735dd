"""``homegallery serve``: the web app and the HTTP API on this machine."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from homegallery.cli.common import CommandError, config_from_args

if TYPE_CHECKING:
    from homegallery.config import Config


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "serve",
        parents=[common],
        help="serve the web app and the HTTP API",
        description=(
            "Serve the gallery in the browser (http://127.0.0.1:3000 by default; host, port "
            "and prefix come from the config's `server` section). Open pages update by "
            "themselves when a build or a tag change lands in the catalog."
        ),
    )
    parser.add_argument("--host", help="address to listen on (default: server.host)")
    parser.add_argument("--port", type=int, help="port to listen on (default: server.port)")
    parser.add_argument(
        "--hash-password",
        action="store_true",
        help="print an argon2 hash of a password for `server.auth.users` and exit",
    )
    parser.set_defaults(func=run)


def _hash_password() -> int:
    from homegallery.server.passwords import hash_password  # lazy: light --help

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise CommandError("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise CommandError("the password is empty")
    print(hash_password(password))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.hash_password:
        return _hash_password()
    return serve_gallery(config_from_args(args), args.host, args.port)


def serve_gallery(config: Config, host: str | None = None, port: int | None = None) -> int:
    """Serves ``config``'s gallery until stopped (``host``/``port`` override the config)."""
    from homegallery.server import create_app  # lazy: light --help
    from homegallery.server.connections import ConnectionLimits  # lazy: light --help
    from homegallery.server.ports import check_port  # lazy: light --help
    from homegallery.server.runner import Tls, base_url, serve  # lazy: light --help

    host = config.server.host = host or config.server.host  # a name it answers to
    port = port or config.server.port
    if not 1 <= port <= 65535:
        raise CommandError(f"{port} is not a TCP port (1-65535)")
    check_port(host, port)
    app = create_app(config)
    prefix = config.server.prefix.strip("/")
    tls = Tls.of(config.server)
    print(f"homegallery: serving {config.database.path} at {base_url(host, port, tls)}/{prefix}")
    serve(app, host, port, limits=ConnectionLimits.of(config.server), tls=tls)
    return 0
