"""``homegallery init``: writes a commented config file to start from."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from homegallery import xdg
from homegallery.cli.common import CommandError
from homegallery.config_template import render_config

log = logging.getLogger(__name__)


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "init",
        parents=[common],
        help="write a commented config file",
        description=(
            "Write a commented config file. With DIR, the gallery lives in DIR: its config "
            "is DIR/gallery.yml and storage and catalog go below DIR. Without DIR, the "
            "config goes to the XDG config folder (or --config) and data to the XDG data folder."
        ),
    )
    parser.add_argument("dir", nargs="?", type=Path, help="folder for a self-contained gallery")
    parser.add_argument(
        "--source",
        action="append",
        type=Path,
        default=[],
        metavar="FOLDER",
        help="photo folder to add as a source (repeatable)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing config file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.dir is not None:
        gallery_dir: Path = args.dir.expanduser().resolve()
        config_file = args.config or gallery_dir / "gallery.yml"
        storage, database = "{baseDir}/storage", "{baseDir}/catalog.db"
    else:
        config_file = args.config or xdg.default_config_file()
        storage, database = "{dataDir}/storage", "{dataDir}/catalog.db"
    config_file = Path(config_file).expanduser().resolve()
    if config_file.exists() and not args.force:
        raise CommandError(f"{config_file} exists already; use --force to overwrite it")
    sources = [source.expanduser().resolve() for source in args.source]
    for source in sources:
        if not source.is_dir():
            raise CommandError(f"--source {source}: not a folder")
    text = render_config(sources, storage_dir=storage, database_file=database)
    from homegallery.atomic import write_text  # lazy: light --help
    from homegallery.config import load_config  # lazy: light --help

    write_text(config_file, text)

    load_config(config_file)  # what we write must load; fails loudly if the template drifts
    print(f"wrote {config_file}")
    if not sources:
        print("add your photo folders under `sources:` in that file, then run `homegallery index`")
    return 0
