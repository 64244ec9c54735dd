"""Entry point of the ``homegallery`` command.

Each command lives in a module with ``register(subparsers, common)``; commands whose
stage is not in this version yet are listed too, and say so plainly when called, so
``--help`` always shows the whole product.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from homegallery.cli import (
    bench,
    build,
    demo,
    doctor,
    export,
    extract,
    fetch,
    index,
    init,
    migrate,
    models,
    remove,
    run,
    search,
    serve,
    show_config,
    storage,
    worker,
)
from homegallery.errors import HomeGalleryError
from homegallery.log import setup_logging

log = logging.getLogger("homegallery")


class _VersionAction(argparse.Action):
    """Prints the version when asked: looking it up is not paid by every command."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        import homegallery  # lazy: the version is read from the install only here

        print(f"homegallery {homegallery.__version__}")
        parser.exit()


def _common_options() -> argparse.ArgumentParser:
    """Options every command accepts, before or after the command name."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "-c",
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        metavar="FILE",
        help="config file (default: $HOMEGALLERY_CONFIG or ~/.config/homegallery/gallery.yml)",
    )
    common.add_argument(
        "-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more output"
    )
    common.add_argument(
        "-q", "--quiet", action="count", default=argparse.SUPPRESS, help="less output"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(
        prog="homegallery",
        parents=[common],
        description="A private, self-hosted photo and video gallery.",
    )
    parser.add_argument(
        "--version", action=_VersionAction, nargs=0, help="show the version and exit"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    init.register(subparsers, common)
    index.register(subparsers, common)
    extract.register(subparsers, common)
    build.register(subparsers, common)
    search.register(subparsers, common)
    run.register(subparsers, common)
    bench.register(subparsers, common)
    models.register(subparsers, common)
    serve.register(subparsers, common)
    show_config.register(subparsers, common)
    demo.register(subparsers, common)
    doctor.register(subparsers, common)
    migrate.register(subparsers, common)
    remove.register(subparsers, common)
    storage.register(subparsers, common)
    export.register(subparsers, common)
    fetch.register(subparsers, common)
    worker.register(subparsers, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.config = getattr(args, "config", None)
    setup_logging(getattr(args, "verbose", 0) - getattr(args, "quiet", 0))
    if args.command is None:
        parser.print_help()
        return 2
    try:
        result: int = args.func(args)
    except HomeGalleryError as error:  # explained by its message: no traceback
        print(f"homegallery {args.command}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"homegallery {args.command}: interrupted", file=sys.stderr)
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
