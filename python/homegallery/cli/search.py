"""``homegallery search "QUERY"``: the query language from the command line."""

from __future__ import annotations

import argparse
import sys

from homegallery.cli.common import CommandError, config_from_args, query_errors


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "search",
        parents=[common],
        help="search the catalog with the query language",
        description=(
            "Search the catalog, e.g. `homegallery search 'tag:sea year >= 2020 order by "
            "date asc'`. Prints one line per entry (id, date, type, file), or the entries "
            "as JSON with --json."
        ),
    )
    parser.add_argument("query", nargs="?", default="", help="the query (empty: everything)")
    parser.add_argument("--json", action="store_true", help="print the entries as a JSON array")
    parser.add_argument(
        "--limit", type=int, default=None, metavar="N", help="print at most N entries"
    )
    parser.add_argument("--count", action="store_true", help="print only how many match")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from homegallery.gallery import open_gallery  # lazy: light --help

    if args.limit is not None and args.limit < 0:
        raise CommandError("--limit: must be 0 or more")
    gallery = open_gallery(config_from_args(args))
    try:
        with query_errors(args.query):
            if args.count:
                print(gallery.count(args.query))
                return 0
            entries = gallery.search(args.query, limit=args.limit)
    finally:
        gallery.close()
    if args.json:
        import msgspec  # lazy: light --help

        sys.stdout.buffer.write(msgspec.json.encode(entries) + b"\n")
        return 0
    for entry in entries:
        path = entry.files[0].path if entry.files else ""
        print(f"{entry.id[:12]}  {entry.date or '-':25}  {entry.type:8}  {path}")
    return 0
