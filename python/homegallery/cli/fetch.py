"""``homegallery fetch --url URL``: a remote gallery's entries carried home."""

from __future__ import annotations

import argparse
import os
import sys

from homegallery.cli.common import CommandError, config_from_args

PASSWORD_VARIABLE = "HOMEGALLERY_FETCH_PASSWORD"


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "fetch",
        parents=[common],
        help="copy a remote gallery's entries and previews here, tags both ways",
        description=(
            "Copy the entries a query matches on a remote homegallery, with their "
            "previews and web videos, into this gallery (a laptop carrying the family "
            "archive offline), and merge tag changes both ways: changes made here on "
            "fetched entries are sent there, changes made there come here, each once. "
            f"With --user, the password comes from ${PASSWORD_VARIABLE} or is asked for."
        ),
    )
    parser.add_argument("--url", required=True, help="the remote gallery, e.g. http://nas:3000/")
    parser.add_argument("--query", default="", metavar="Q", help="only the entries it matches")
    parser.add_argument("--user", metavar="NAME", help="log in there as NAME")
    parser.add_argument(
        "--watch",
        type=float,
        nargs="?",
        const=60.0,
        default=None,
        metavar="SECONDS",
        help="fetch again every SECONDS (default 60) until stopped",
    )
    parser.set_defaults(func=run)


def _password(user: str | None) -> str | None:
    if not user:
        return None
    if PASSWORD_VARIABLE in os.environ:
        return os.environ[PASSWORD_VARIABLE]
    if not sys.stdin.isatty():
        raise CommandError(f"--user {user}: set ${PASSWORD_VARIABLE} (no terminal to ask on)")
    import getpass  # lazy: light --help

    return getpass.getpass(f"password of {user}: ")


def run(args: argparse.Namespace) -> int:
    from homegallery.catalog import CatalogError  # lazy: light --help
    from homegallery.fetch.sync import FetchReport, fetch_gallery  # lazy: light --help

    config = config_from_args(args)
    if args.watch is not None and args.watch <= 0:
        raise CommandError("--watch: give a positive number of seconds")

    def show(report: FetchReport) -> None:
        for line in report.lines():
            print(line, flush=True)

    try:
        fetch_gallery(
            config,
            args.url,
            args.query,
            username=args.user,
            password=_password(args.user),
            watch_seconds=args.watch,
            quiet=getattr(args, "quiet", 0) > 0,
            on_round=show,
        )
    except CatalogError as error:
        raise CommandError(str(error)) from None
    return 0
