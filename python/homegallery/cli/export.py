"""``homegallery export meta``: tags and ratings written back into XMP sidecars."""

from __future__ import annotations

import argparse
from pathlib import Path

from homegallery.cli.common import config_from_args, query_errors


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "export",
        parents=[common],
        help="export the gallery for other programs",
        description=(
            "Export the gallery for other programs: `homegallery export meta` (XMP "
            "sidecars), `homegallery export static` (a web gallery for any static host)."
        ),
    )
    kinds = parser.add_subparsers(dest="kind", metavar="KIND", title="exports")
    kinds.required = True
    meta = kinds.add_parser(
        "meta",
        parents=[common],
        help="write tags and ratings into XMP sidecars",
        description=(
            "Write the tags and ratings of the entries users changed into XMP sidecars "
            "(IMG_1.jpg.xmp beside IMG_1.jpg, or the IMG_1.xmp that exists), one per file "
            "copy, for digiKam, Lightroom, darktable and the next import. Only dc:subject "
            "and xmp:Rating are set; every other field of a sidecar is kept and originals "
            "are never written. A sidecar edited by another program since homegallery "
            "wrote it (or since the last import) is left as it is and reported."
        ),
    )
    meta.add_argument("--query", default="", metavar="Q", help="only entries this query matches")
    meta.add_argument(
        "--changes-after",
        metavar="DATE",
        help="only entries changed after DATE (2024-05-01 or 2024-05-01T18:00, UTC)",
    )
    meta.add_argument(
        "--mirror",
        type=Path,
        metavar="DIR",
        help="write the sidecars into DIR/<source folder name>/… instead (read-only sources)",
    )
    meta.add_argument("--dry-run", action="store_true", help="report only; write nothing")
    meta.add_argument(
        "--diff", action="store_true", help="list each sidecar's changes (+tag, -tag, rating)"
    )
    meta.set_defaults(func=run_meta)
    static = kinds.add_parser(
        "static",
        parents=[common],
        help="a web gallery of the matching entries for any static host or file://",
        description=(
            "Write a self-contained web gallery of the entries a query matches: the "
            "previews, web videos and what the viewer needs (grid, detail view, map, "
            "search and similar photos over the exported entries, all in the browser). "
            "It works from any static web host and opened from disk (file://). OUT is "
            "a new or empty folder, or a .zip or .tar.gz file."
        ),
    )
    static.add_argument("--query", default="", metavar="Q", help="the entries to export")
    static.add_argument(
        "--out", type=Path, required=True, metavar="OUT", help="folder, FILE.zip or FILE.tar.gz"
    )
    static.add_argument(
        "--base-path",
        metavar="P",
        help="the URL path it will be served under (e.g. /album/): needed only when the "
        "host serves the page without a trailing slash",
    )
    static.add_argument(
        "--random-folder",
        action="store_true",
        help="put the gallery in a folder with an unguessable name (for unlisted links)",
    )
    static.add_argument("--title", default="Gallery", help="the gallery's title")
    static.add_argument("--dry-run", action="store_true", help="count only; write nothing")
    static.set_defaults(func=run_static)


def run_meta(args: argparse.Namespace) -> int:
    from homegallery.export.meta import export_meta, parse_moment  # lazy: light --help

    config = config_from_args(args)
    after = parse_moment(args.changes_after) if args.changes_after else None
    with query_errors(args.query):
        report = export_meta(
            config,
            args.query,
            changes_after=after,
            mirror=args.mirror.expanduser().resolve() if args.mirror else None,
            dry_run=args.dry_run,
            quiet=getattr(args, "quiet", 0) > 0,
        )
    for line in report.lines(diff=args.diff):
        print(line)
    return 0


def run_static(args: argparse.Namespace) -> int:
    from homegallery.export.static import export_static  # lazy: light --help

    config = config_from_args(args)
    with query_errors(args.query):
        report = export_static(
            config,
            args.query,
            args.out.expanduser().resolve(),
            title=args.title,
            base_path=args.base_path,
            random_folder=args.random_folder,
            dry_run=args.dry_run,
            quiet=getattr(args, "quiet", 0) > 0,
        )
    for line in report.lines():
        print(line)
    return 0
