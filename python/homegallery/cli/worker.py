"""``homegallery worker ADDRESS``: this machine joins a Dask scheduler as extract workers.

Dask's own ``dask worker ADDRESS`` works too; this one lays the workers out as a
local extract run does: one process per core (or ``extractor.workers`` of the config
here, which ``homegallery bench --apply`` sets), one thread each (libvips, ffmpeg and
onnxruntime are kept to one thread per process as in the local pool), and each
process's memory limit announced as its ``MEMORY`` resource, which the coordinator
asks of every task by its expected size.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from homegallery.cli.common import CommandError


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    parser = subparsers.add_parser(
        "worker",
        parents=[common],
        help="join a Dask scheduler as extract workers (extract --cluster)",
        description=(
            "Join this machine to a Dask scheduler so that `homegallery extract --cluster` "
            "and `homegallery run import --cluster` run part of their work here. Needs "
            "the `cluster` extra (pip install 'homegallery[cluster]'). The connection is "
            "not encrypted or authenticated unless the scheduler uses TLS: use it on "
            "your own network only (see the README)."
        ),
    )
    parser.add_argument("address", help="the scheduler, e.g. tcp://192.168.1.10:8786")
    parser.add_argument(
        "--nworkers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: extractor.workers of the config if there is "
        "one, else one per core)",
    )
    parser.add_argument(
        "--nthreads", type=int, default=1, metavar="N", help="threads per process (default 1)"
    )
    parser.add_argument(
        "--memory-limit",
        default="",
        metavar="SIZE",
        help="memory per process, e.g. 2G (default: 85%% of the memory over the processes)",
    )
    parser.add_argument(
        "--name", default="", help="how progress lines name this machine (default: host name)"
    )
    parser.add_argument(
        "--listen",
        default="",
        metavar="HOST",
        help="the address the workers listen on (default: this machine's address facing "
        "the scheduler, not every interface)",
    )
    parser.set_defaults(func=run)


def _configured_workers(args: argparse.Namespace) -> int:
    """``extractor.workers`` of the config named or at the default place, else 0."""
    from homegallery import xdg  # lazy: light --help
    from homegallery.config import load_config  # lazy: light --help

    path: Path | None = getattr(args, "config", None)
    if path is None and not xdg.default_config_file().is_file():
        return 0
    return load_config(path).extractor.workers


def run(args: argparse.Namespace) -> int:
    from homegallery.config import parse_size  # lazy: light --help
    from homegallery.extract.cluster import memory_per_process  # lazy: light --help

    processes = args.nworkers if args.nworkers is not None else _configured_workers(args)
    if processes < 0 or args.nthreads < 1:
        raise CommandError("--nworkers must be 0 (one per core) or more, --nthreads 1 or more")
    processes = processes or os.cpu_count() or 1
    try:
        memory = (
            parse_size(args.memory_limit) if args.memory_limit else memory_per_process(processes)
        )
    except ValueError as error:
        raise CommandError(f"--memory-limit: {error}") from None
    try:
        from homegallery.extract.cluster_worker import serve  # lazy: dask is an extra
    except ImportError:
        raise CommandError("the worker needs Dask: pip install 'homegallery[cluster]'") from None
    name = args.name or os.uname().nodename
    print(
        f"homegallery worker: {processes} × {args.nthreads} thread(s), "
        f"{memory / 1024**3:.1f} GB each, joining {args.address} as {name}",
        flush=True,
    )
    serve(args.address, processes, args.nthreads, memory, name, args.listen or None)
    return 0
