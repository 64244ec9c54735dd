"""``homegallery extract``: metadata, previews, embeddings, web videos and places into the storage."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

from homegallery.cli.common import CommandError, cluster_address, config_from_args
from homegallery.extract.steps import STEPS, Step
from homegallery.progress import Progress, counted

if TYPE_CHECKING:
    from homegallery.config import Config

log = logging.getLogger(__name__)


def parse_steps(text: str) -> tuple[Step, ...]:
    """``meta,preview`` → the steps in pipeline order; unknown names are an error."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in STEPS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown step {', '.join(unknown) or '(none)'}; choose from {','.join(STEPS)}"
        )
    return tuple(step for step in STEPS if step in names)


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "extract",
        parents=[common],
        help="extract metadata, previews, embeddings and videos into the storage",
        description=(
            "Extract metadata, image previews, embeddings and labels (with the model "
            "installed), web videos and places of every indexed file into the storage. "
            "Work already done is skipped, so an interrupted run resumes; files that "
            "failed before are skipped too unless --retry-failed is given."
        ),
    )
    parser.add_argument(
        "--only",
        type=parse_steps,
        default=STEPS,
        metavar="STEPS",
        help=f"comma-separated steps to run (default: all of {','.join(STEPS)})",
    )
    parser.add_argument(
        "--retry-failed", action="store_true", help="try again the files that failed before"
    )
    parser.add_argument(
        "--failed",
        action="store_true",
        help="list the files that failed, with the step and the cause, and extract nothing",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: extractor.workers, 0 = one per core)",
    )
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the work on a Dask scheduler's workers, e.g. tcp://192.168.1.10:8786 "
        "(needs the `cluster` extra; see cluster: in the config)",
    )
    parser.add_argument(
        "--serve-cluster",
        metavar="HOST:PORT",
        help="start a Dask scheduler here, e.g. 192.168.1.10:8786, with this machine's "
        "workers; other machines join with `homegallery worker`",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from homegallery.extract.runner import extract_gallery  # lazy: light --help
    from homegallery.importer.lock import import_lock  # lazy: light --help

    config = config_from_args(args)
    if not config.sources:
        raise CommandError("the config has no sources; add a folder under `sources:`")
    if args.workers is not None and args.workers < 0:
        raise CommandError("--workers: must be 0 (one per core) or more")
    if args.failed:
        return list_failed(config)
    quiet = getattr(args, "quiet", 0) > 0
    try:
        with import_lock(config.database.path):  # storage purge must not run meanwhile
            summary = extract_gallery(
                config,
                steps=args.only,
                retry_failed=args.retry_failed,
                workers=args.workers,
                progress_factory=lambda label, total: Progress(label, total, quiet=quiet),
                cluster=cluster_address(args),
            )
    except ImportError as error:
        raise CommandError(f"the file index is not available: {error}") from None
    for line in summary.lines(getattr(args, "verbose", 0) > 0):
        print(line)
    return 0


def list_failed(config: Config) -> int:
    """Prints every stored failure of the indexed files: path, step, reason, cause."""
    from homegallery.extract.failures import stored_failures  # lazy: light --help
    from homegallery.extract.runner import work_items_from_config  # lazy: light --help

    count = 0
    for failed in stored_failures(work_items_from_config(config), config.storage.path):
        print(failed.line())
        count += 1
    print(
        f"{counted(count, 'failed step')}; `homegallery extract --retry-failed` tries them again"
        if count
        else "no file failed"
    )
    return 0
