"""``homegallery bench``: measure every stage here, then recommend settings."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from homegallery import xdg
from homegallery.bench.stages import SCALE_SIZES, STAGES
from homegallery.cli.common import CommandError

log = logging.getLogger("homegallery.bench")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "bench",
        parents=[common],
        help="measure every stage on this machine and recommend settings",
        description=(
            "Measure checksums, walk + exclude, previews per engine and worker count, "
            "metadata, web video, embeddings (fp32 and int8, workers x threads), similarity "
            "scans, catalog build and search on this machine, print one table, and "
            "recommend settings (--apply writes them)."
        ),
    )
    parser.add_argument("--quick", action="store_true", help="small samples: about a minute")
    parser.add_argument("--data", type=Path, metavar="DIR", help="measure on your own photos")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write results as JSON")
    parser.add_argument(
        "--stage",
        action="append",
        choices=list(STAGES),
        help="run only this stage (repeatable)",
    )
    parser.add_argument(
        "--apply", action="store_true", help="write the recommended settings into the config"
    )
    parser.add_argument(
        "--scale",
        choices=list(SCALE_SIZES),
        help="instead: catalog builds, searches, timeline, map and server memory at this "
        "many entries beside ten times fewer (1m: generates ~7 GB into the temporary "
        "folder on its first run, kept for the next)",
    )
    parser.set_defaults(func=run)


def run_scale(size: str, json_file: Path | None) -> int:
    from homegallery.atomic import write_text  # lazy: light --help
    from homegallery.bench.report import print_report  # lazy: light --help
    from homegallery.bench.scale import run as measure_scale  # lazy: light --help

    report = measure_scale(size)
    print_report(report)
    if json_file is not None:
        write_text(json_file, json.dumps(report.to_json(), indent=2) + "\n")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.scale is not None:
        return run_scale(args.scale, args.json)
    return run_stages(args)


def run_stages(args: argparse.Namespace) -> int:
    from homegallery.atomic import write_text  # lazy: light --help
    from homegallery.bench.recommend import apply, recommend  # lazy: light --help
    from homegallery.bench.report import print_report  # lazy: light --help
    from homegallery.bench.suite import run_suite  # lazy: light --help
    from homegallery.config import load_config  # lazy: light --help

    if args.data is not None and not args.data.is_dir():
        raise CommandError(f"--data {args.data}: not a folder")
    config_file: Path = args.config or xdg.default_config_file()
    if args.apply and not config_file.is_file():
        raise CommandError(
            f"--apply: {config_file} does not exist (create it with `homegallery init`)"
        )
    models_dir = None
    if config_file.is_file():
        models_dir = load_config(config_file).extractor.models.path
    result = run_suite(quick=args.quick, stages=args.stage, data=args.data, models_dir=models_dir)
    print_report(result.report)
    for stage, reason in result.skipped.items():
        print(f"skipped {stage}: {reason}")
    advice = recommend(result.report)
    print("\nrecommended for this machine:")
    for reason in advice.reasons:
        print(f"  {reason}")
    if args.json is not None:
        data = result.report.to_json()
        data["stage_seconds"] = result.seconds
        data["skipped"] = result.skipped
        data["recommendation"] = {
            "workers": advice.workers,
            "engine": advice.engine,
            "checksum_threads": advice.checksum_threads,
            "defer_videos": advice.defer_videos,
            "model_workers": advice.model_workers,
            "model_threads": advice.model_threads,
            "model_precision": advice.model_precision,
        }
        write_text(args.json, json.dumps(data, indent=2) + "\n")
    if args.apply:
        try:
            apply(advice, config_file)
        except KeyError as error:
            raise CommandError(f"--apply: {error.args[0]}") from None
        written = "extractor.workers and extractor.image.engine"
        if advice.model_workers:
            written += " and extractor.models.workers, threads and precision"
        print(f"wrote {written} into {config_file}")
    return 0
