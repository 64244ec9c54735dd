"""``homegallery storage purge``: storage files nothing needs any more, removed;
``homegallery storage compact``: an older storage's small files folded into records."""

from __future__ import annotations

import argparse

from homegallery.cli.common import config_from_args


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "storage",
        parents=[common],
        help="look after the storage (previews, web videos, metadata)",
        description=(
            "Look after the storage folder: `homegallery storage purge`, "
            "`homegallery storage compact`."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions")
    actions.required = True
    purge = actions.add_parser(
        "purge",
        parents=[common],
        help="remove stored files no indexed file or entry needs",
        description=(
            "Remove the previews, web videos, metadata and failure records of content "
            "no source's index and no catalog entry holds any more (files deleted from "
            "the sources, sources taken out of the config), failure records of steps that "
            "no longer exist, and temporary files of writes a crash cut off. Holds the "
            "import lock: refused while an import or extract runs."
        ),
    )
    purge.add_argument(
        "--dry-run", action="store_true", help="count what would be removed; remove nothing"
    )
    purge.set_defaults(func=run_purge)
    compact = actions.add_parser(
        "compact",
        parents=[common],
        help="fold an older storage's small files into one record per id",
        description=(
            "Move the metadata, places, failure records and model outputs that a storage "
            "written by an older version keeps as one small file each (a 4 KiB block each "
            "on ext4) into each id's record. Safe to stop at any point and run again. "
            "Holds the import lock: refused while an import or extract runs."
        ),
    )
    compact.set_defaults(func=run_compact)


def run_purge(args: argparse.Namespace) -> int:
    from homegallery.maintenance.purge import purge_storage  # lazy: light --help

    report = purge_storage(
        config_from_args(args), dry_run=args.dry_run, quiet=getattr(args, "quiet", 0) > 0
    )
    for line in report.lines():
        print(line)
    return 0


def run_compact(args: argparse.Namespace) -> int:
    from homegallery.maintenance.compact import compact_config_storage  # lazy: light --help

    for line in compact_config_storage(config_from_args(args)).lines():
        print(line)
    return 0
