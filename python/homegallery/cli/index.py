"""``homegallery index``: update the file index of the sources."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from homegallery.cli.common import CommandError, config_from_args
from homegallery.progress import Progress, counted

if TYPE_CHECKING:
    from homegallery.config import Source
    from homegallery.index import IndexRunResult

log = logging.getLogger(__name__)


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "index",
        parents=[common],
        help="walk the sources and update the file index",
        description=(
            "Walk the sources, apply the exclude rules, checksum new and changed files "
            "(blake3) and save one index per source with a journal of the changes."
        ),
    )
    parser.add_argument(
        "--source",
        action="append",
        type=Path,
        default=[],
        metavar="DIR",
        help="index only this source folder of the config (repeatable)",
    )
    parser.add_argument(
        "--exclude-from",
        type=Path,
        metavar="FILE",
        help="extra gitignore-style exclude patterns from FILE, after the config's",
    )
    parser.add_argument(
        "--add-limits",
        metavar="INITIAL,OFFSET,FACTOR,MAX",
        help="take new files in growing chunks, e.g. 200,500,1.25,8000",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="report what would change; write nothing"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="checksum threads (default: one per core)"
    )
    parser.set_defaults(func=run)


def _select_sources(all_sources: list[Source], wanted: list[Path]) -> list[Source]:
    if not wanted:
        return all_sources
    chosen = []
    for folder in wanted:
        resolved = folder.expanduser().resolve()
        match = [source for source in all_sources if Path(source.dir).resolve() == resolved]
        if not match:
            known = ", ".join(source.dir for source in all_sources) or "none"
            raise CommandError(f"--source {folder}: not a source of the config (sources: {known})")
        chosen.extend(match)
    return chosen


def _with_exclude_file(sources: list[Source], exclude_from: Path | None) -> list[Source]:
    if exclude_from is None:
        return sources
    try:
        patterns = exclude_from.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise CommandError(f"--exclude-from {exclude_from}: {error.strerror or error}") from None
    for source in sources:
        source.excludes = [*source.excludes, *patterns]
    return sources


def _entries(count: int) -> str:
    return counted(count, "entry", "entries")


def summary(result: IndexRunResult, dry_run: bool) -> str:
    lines = []
    for source in result.sources:
        if source.status == "offline":
            lines.append(f"{source.source}: offline, {_entries(source.entries)} kept")
            continue
        if source.status == "error":
            lines.append(f"{source.source}: ERROR {source.error}")
            continue
        rate = source.bytes_hashed / source.seconds / 1e6 if source.seconds else 0.0
        verb = "would add" if dry_run else "added"
        lines.append(
            f"{source.source}: {counted(source.seen, 'file')} seen, {verb} {source.added:,}, "
            f"changed {source.changed:,}, moved {source.moved:,}, removed {source.removed:,}, "
            f"excluded {source.excluded:,}, too large {source.too_large:,}, "
            f"errors {len(source.file_errors):,}; hashed {source.bytes_hashed / 1e6:,.1f} MB "
            f"at {rate:,.1f} MB/s in {source.seconds:.2f} s; {_entries(source.entries)}"
        )
        if source.pending:
            lines.append(
                f"  {counted(source.pending, 'new file')} wait{'s' if source.pending == 1 else ''} for the next run (add-limits)"
            )
        for path, message in source.file_errors[:20]:
            lines.append(f"  error: {path}: {message}")
        if len(source.file_errors) > 20:
            lines.append(f"  … and {counted(len(source.file_errors) - 20, 'more error')}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from homegallery.index import AddLimits, update_index  # lazy: light --help

    config = config_from_args(args)
    if not config.sources:
        raise CommandError("the config lists no sources; add folders under `sources:`")
    sources = _with_exclude_file(_select_sources(config.sources, args.source), args.exclude_from)
    try:
        limits = AddLimits.parse(args.add_limits) if args.add_limits else None
    except ValueError as error:
        raise CommandError(str(error)) from None
    quiet = getattr(args, "quiet", 0) > 0
    with Progress("checksums", quiet=quiet) as progress:
        result = update_index(
            config,
            sources=sources,
            add_limits=limits,
            dry_run=args.dry_run,
            progress=progress,
            threads=args.threads,
        )
    if not quiet or not result.ok:
        print(summary(result, args.dry_run))
    return 0 if result.ok else 1
