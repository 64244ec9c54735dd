"""``homegallery remove --query Q``: entries out of the catalog, their events kept."""

from __future__ import annotations

import argparse

from homegallery.cli.common import config_from_args, query_errors


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "remove",
        parents=[common],
        help="remove the entries a query matches from the catalog",
        description=(
            "Remove the entries a query matches from the catalog; their files, previews "
            "and tags (the event log) are kept. Without --keep the next build brings "
            "them back; with --keep their files get exclude rules of the index's own "
            "(beside the source's index, in <index>.removed) and leave the index now, "
            "so they stay out until a rule is deleted."
        ),
    )
    parser.add_argument("--query", required=True, metavar="Q", help="the entries to remove")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep them out: exclude their files from every later index",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="list what would be removed; change nothing"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from homegallery.maintenance.remove import remove_by_query  # lazy: light --help

    config = config_from_args(args)
    with query_errors(args.query):
        report = remove_by_query(
            config,
            args.query,
            keep_out=args.keep,
            dry_run=args.dry_run,
            quiet=getattr(args, "quiet", 0) > 0,
        )
    for line in report.lines():
        print(line)
    return 0
