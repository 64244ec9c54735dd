"""``homegallery build``: merge the file indexes and the storage into the catalog."""

from __future__ import annotations

import argparse

from homegallery.cli.common import CommandError, config_from_args


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "build",
        parents=[common],
        help="build the catalog from the index and the storage",
        description=(
            "Build the catalog (one SQLite file) from every source's file index and what "
            "extract stored. Only entries whose files or stored data changed are made "
            "again; searches running meanwhile see the previous catalog until it is done."
        ),
    )
    parser.add_argument(
        "--full", action="store_true", help="make every entry anew instead of only changed ones"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from homegallery.catalog import CatalogError, build_from_config  # lazy: light --help

    config = config_from_args(args)
    if not config.sources:
        raise CommandError("the config has no sources; add a folder under `sources:`")
    try:
        summary = build_from_config(config, full=args.full)
    except ImportError as error:
        raise CommandError(f"the file index is not available: {error}") from None
    except CatalogError as error:
        raise CommandError(str(error)) from None
    for line in summary.lines():
        print(line)
    return 0
