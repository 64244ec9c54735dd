"""``homegallery run import``: the whole import loop, once, chunked, or watching."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from typing import TYPE_CHECKING

from homegallery.cli.common import CommandError, cluster_address, config_from_args
from homegallery.progress import Progress

if TYPE_CHECKING:
    from homegallery.config import Config
    from homegallery.importer import ImportOptions, ImportReport

log = logging.getLogger("homegallery.import")


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "run",
        parents=[common],
        help="run the whole import (index, extract, build), once, chunked or watching",
        description="Run several stages as one job.",
    )
    jobs = parser.add_subparsers(dest="job", metavar="JOB", required=True)
    job = jobs.add_parser(
        "import",
        parents=[common],
        help="index, extract and build until every file is in the catalog",
        description=(
            "Import the sources: index, extract and build. --initial takes big archives "
            "in chunks (add-limits) so photos show after the first chunk; --update makes "
            "one full pass; --watch follows changes and imports them within seconds. "
            "A killed import resumes where it stopped when run again."
        ),
    )
    mode = job.add_mutually_exclusive_group()
    mode.add_argument("--initial", action="store_true", help="chunked first import (default)")
    mode.add_argument("--update", action="store_true", help="one incremental pass")
    mode.add_argument("--watch", action="store_true", help="update, then follow changes")
    job.add_argument(
        "--add-limits",
        default="200,500,1.25,8000",
        metavar="INITIAL,OFFSET,FACTOR,MAX",
        help="chunk sizes of --initial (default 200,500,1.25,8000)",
    )
    job.add_argument(
        "--defer-videos", action="store_true", help="make web videos after all images are in"
    )
    job.add_argument("--workers", type=int, help="extract workers (default: from the config)")
    job.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="extract on a Dask scheduler's workers, e.g. tcp://192.168.1.10:8786",
    )
    job.add_argument(
        "--serve-cluster",
        metavar="HOST:PORT",
        help="start a Dask scheduler here, e.g. 192.168.1.10:8786, with this machine's "
        "workers; other machines join with `homegallery worker`",
    )
    job.add_argument(
        "--plain", action="store_true", help="plain log lines, no redrawn progress bars"
    )
    job.set_defaults(func=run_import)
    server = jobs.add_parser(
        "server",
        parents=[common],
        help="serve the gallery and import changes as they happen",
        description=(
            "Serve the web app and import new and changed files of the sources as they "
            "appear; open pages update live."
        ),
    )
    server.add_argument("--host", help="address to listen on (default: from the config)")
    server.add_argument("--port", type=int, help="port (default: from the config)")
    server.add_argument("--workers", type=int, help="extract workers (default: from the config)")
    server.set_defaults(func=run_server)


def _print(report: ImportReport, quiet: bool, verbose: bool = False) -> None:
    if not quiet:
        for line in report.lines(verbose):
            print(line, flush=True)


def run_import(args: argparse.Namespace) -> int:
    from homegallery.cli.stopping import StopRequested, stop_on_signals  # lazy: light --help
    from homegallery.importer import GalleryBusyError, ImportOptions  # lazy: light --help
    from homegallery.index import AddLimits  # lazy: light --help

    config = config_from_args(args)
    if not config.sources:
        raise CommandError("the config lists no sources; add folders under `sources:`")
    quiet = getattr(args, "quiet", 0) > 0
    Progress.plain_only = args.plain
    try:
        limits = AddLimits.parse(args.add_limits)
    except ValueError as error:
        raise CommandError(str(error)) from None
    options = ImportOptions(
        add_limits=limits,
        defer_videos=args.defer_videos,
        workers=args.workers,
        quiet=quiet,
        cluster=cluster_address(args),
    )
    report = None
    with stop_on_signals() as stop:
        try:
            report = _import(args, config, options, quiet)
        except GalleryBusyError as error:
            raise CommandError(str(error)) from None
        except StopRequested:
            pass
    if stop.signal_number is not None:
        print(f"homegallery run import: {stop.describe()}", file=sys.stderr, flush=True)
        return stop.exit_status
    return 0 if report is None else _finish(report, quiet, _verbose(args))


def _import(
    args: argparse.Namespace, config: Config, options: ImportOptions, quiet: bool
) -> ImportReport | None:
    """The import the options ask for: watching (no report), one update, or initial."""
    from homegallery.importer import (  # lazy: light --help
        import_initial,
        import_update,
        watch_and_import,
    )

    if args.watch:
        verbose = _verbose(args)
        watch_and_import(config, options, on_import=lambda report: _print(report, quiet, verbose))
        return None
    if args.update:
        return import_update(config, options)
    return import_initial(config, options)


def _log_report(report: ImportReport) -> None:
    """`run server` says everything through its log, so every line has one format."""
    for line in report.lines():
        log.info("%s", line)


def _verbose(args: argparse.Namespace) -> bool:
    return getattr(args, "verbose", 0) > 0


def _finish(report: ImportReport, quiet: bool, verbose: bool) -> int:
    _print(report, quiet, verbose)
    if not report.ok:
        for problem in report.source_errors:
            print(f"homegallery run import: error: {problem}", file=sys.stderr)
        return 1
    return 0


def run_server(args: argparse.Namespace) -> int:
    """Serves in the foreground; the watch import runs beside it in a thread."""
    from homegallery.importer import (  # lazy: light --help
        GalleryBusyError,
        ImportOptions,
        watch_and_import,
    )
    from homegallery.server import create_app  # lazy: light --help
    from homegallery.server.connections import ConnectionLimits  # lazy: light --help
    from homegallery.server.ports import check_port  # lazy: light --help
    from homegallery.server.runner import Tls, base_url, serve  # lazy: light --help

    config = config_from_args(args)
    host = config.server.host = args.host or config.server.host
    port = args.port or config.server.port
    check_port(host, port)  # before the import starts beside it
    options = ImportOptions(workers=args.workers, quiet=True)
    stop = threading.Event()

    def watch() -> None:
        try:
            watch_and_import(config, options, stop, on_import=_log_report)
        except (GalleryBusyError, ValueError) as error:
            log.error("watch import stopped: %s", error)

    watcher = threading.Thread(target=watch, name="homegallery-watch", daemon=True)
    watcher.start()
    tls = Tls.of(config.server)
    log.info("serving at %s/ and importing changes", base_url(host, port, tls))
    try:
        limits = ConnectionLimits.of(config.server)
        serve(create_app(config), host, port, limits=limits, tls=tls)
    finally:
        stop.set()
        watcher.join(timeout=30)
    return 0
