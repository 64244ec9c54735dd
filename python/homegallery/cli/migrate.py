"""``homegallery migrate --from-homegallery CONFIG``: move over with every tag."""

from __future__ import annotations

import argparse
from pathlib import Path

from homegallery.cli.common import CommandError


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "migrate",
        parents=[common],
        help="move a HomeGallery installation over, tags included",
        description=(
            "Read a HomeGallery config (sources, excludes, server users and filters) into "
            "a homegallery config (--config, or the default one), index the sources, and "
            "carry every tag HomeGallery's users set (its events.db) over as events of "
            "the catalog, found through the files (HomeGallery names photos by sha1, "
            "homegallery by blake3). An existing config is kept unless --force. "
            "HomeGallery's files are only read. Run it again at any time: a tag already "
            "carried is not added twice."
        ),
    )
    parser.add_argument(
        "--from-homegallery",
        type=Path,
        required=True,
        metavar="CONFIG",
        help="HomeGallery's gallery.config.yml (or .json)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an existing homegallery config"
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="report what would be carried; write no config, index or event",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from homegallery import xdg  # lazy: light --help
    from homegallery.migrate.run import migrate_from_homegallery  # lazy: light --help

    target: Path = args.config or xdg.default_config_file()
    source: Path = args.from_homegallery.expanduser()
    if source.resolve() == target.expanduser().resolve():
        raise CommandError("--from-homegallery and --config name the same file")
    report = migrate_from_homegallery(
        source,
        target.expanduser(),
        force=args.force,
        dry_run=args.dry_run,
        quiet=getattr(args, "quiet", 0) > 0,
    )
    for line in report.lines():
        print(line)
    return 0
