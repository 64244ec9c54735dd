"""Runs the extractors over many files: plan, process pool, places, summary.

Planning decides by existence alone what is left to do (outputs are written
atomically, so an existing file is a finished one): a re-run after a crash or a kill
resumes where it stopped, and a run over an unchanged gallery does no work. Failures
are stored per media id and step; they are not retried unless asked (``retry_failed``),
so one broken file costs one attempt, not one per run.

Workers are separate processes: a decoder that crashes (a segfault in a C library on
a hostile file) kills only its process. The pool is then rebuilt, and the files that
were in flight are tried again one by one, so the file that crashes is found and
recorded while the others are still extracted.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol

from homegallery import _core, xdg
from homegallery.config import Config
from homegallery.extract import clip_embed, embed, faces, objects
from homegallery.extract.failures import FailedFile, failure_lines
from homegallery.extract.geo import GeoError, NominatimGeocoder, OfflineGeocoder
from homegallery.extract.listing import StorageListing
from homegallery.extract.meta import Sidecar
from homegallery.extract.preview import sizes_for
from homegallery.extract.schema import (
    META_KIND,
    PLACE_KIND,
    POSTER_KIND,
    MediaMeta,
    Place,
    failure_kind,
    preview_kind,
    video_kind,
    write_place,
)
from homegallery.extract.steps import STEPS, Step
from homegallery.extract.worker import (
    ItemResult,
    Settings,
    StepOutcome,
    WorkItem,
    init_worker,
    process_item,
    record_failure,
)
from homegallery.index import load_index
from homegallery.progress import Progress, counted
from homegallery.storage import Storage
from homegallery.within import Roots, real_folder, source_roots

if TYPE_CHECKING:
    from homegallery.extract.cluster import Cluster, ClusterOptions

log = logging.getLogger("homegallery.extract")

MEDIA_KINDS = frozenset(_core.MEDIA_KINDS)  # index kinds that make an entry

_TASKS_PER_WORKER = 200  # a fresh process now and then returns memory a decoder kept


@dataclass
class StepStats:
    done: int = 0
    failed: int = 0
    skipped: int = 0  # output already there
    failed_before: int = 0  # a stored failure, not retried
    seconds: float = 0.0


@dataclass
class Summary:
    items: int = 0
    planned: int = 0
    steps: dict[str, StepStats] = field(default_factory=lambda: {s: StepStats() for s in STEPS})
    failures: Counter[tuple[str, str]] = field(default_factory=Counter)
    failed_files: list[FailedFile] = field(default_factory=list)
    wall_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # e.g. what a cluster run sent where
    network_bytes: int = 0  # a cluster run: the originals, previews and results shipped

    @property
    def work_done(self) -> int:
        return sum(stats.done + stats.failed for stats in self.steps.values())

    @property
    def failed(self) -> int:
        return sum(stats.failed for stats in self.steps.values())

    def add(self, outcome: StepOutcome, path: str | Path = "") -> None:
        stats = self.steps[outcome.step]
        stats.seconds += outcome.seconds
        if outcome.ok:
            stats.done += 1
        else:
            stats.failed += 1
            self.failures[(outcome.step, outcome.reason)] += 1
            self.failed_files.append(
                FailedFile(str(path), outcome.step, outcome.reason, outcome.message)
            )

    def lines(self, verbose: bool = False) -> list[str]:
        lines = [
            f"{counted(self.items, 'media file')}, {self.planned:,} with work, "
            f"{self.wall_seconds:.1f} s"
        ]
        for step, stats in self.steps.items():
            if stats.done or stats.failed or stats.skipped or stats.failed_before:
                extra = f", {stats.failed_before} failed earlier" if stats.failed_before else ""
                lines.append(
                    f"  {step:<10} {stats.done} done, {stats.failed} failed, "
                    f"{stats.skipped} already there{extra}, {stats.seconds:.1f} s"
                )
        for (step, reason), count in sorted(self.failures.items()):
            lines.append(f"  failed  {step}/{reason}: {count}")
        lines += self.notes
        return lines + self.failure_lines(verbose)

    def failure_lines(self, verbose: bool = False) -> list[str]:
        """The files that failed in this run, with step and cause."""
        if not self.failed_files:
            return []
        files = len({failed.path for failed in self.failed_files})
        title = f"{counted(files, 'file')} failed in this run:"
        hint = "all with -v; `homegallery extract --failed` lists every failed file"
        return [title, *failure_lines(self.failed_files, verbose, hint)]


class ProgressLike(Protocol):
    def advance(self, count: int = 1) -> None: ...

    def close(self) -> None: ...


def make_progress(label: str, total: int) -> ProgressLike:
    return Progress(label, total)


def settings_from_config(config: Config) -> Settings:
    image = config.extractor.image
    embeddings, unavailable = embed.from_config(config.extractor.models)
    face_settings, faces_unavailable = faces.from_config(config.extractor.models)
    object_settings, objects_unavailable = objects.from_config(config.extractor.models)
    clip, clip_unavailable = clip_embed.from_config(config.extractor.models)
    return Settings(
        storage_dir=config.storage.path,
        preview_sizes=tuple(image.preview_sizes),
        preview_quality=image.preview_quality,
        preview_jpeg=image.preview_jpeg,
        engine=image.engine,
        max_pixels=image.max_megapixels * 1_000_000,
        video=config.extractor.video,
        embeddings=embeddings,
        embeddings_unavailable=unavailable,
        faces=face_settings,
        faces_unavailable=faces_unavailable,
        objects=object_settings,
        objects_unavailable=objects_unavailable,
        clip=clip,
        clip_unavailable=clip_unavailable,
    )


# --- from the file index -----------------------------------------------------------------


def work_items_from_index(
    entries: Iterable[Any], source_dir: Path, roots: Roots | None = None
) -> list[WorkItem]:
    """Work items of one source's index entries (``homegallery.index.IndexEntry``).

    ``roots``: the real folders the files may lie in (default: the source's own).

    ``.xmp`` sidecars join every media file of the same folder and base name
    (``IMG_1.xmp`` and ``IMG_1.jpg.xmp`` both belong to ``IMG_1.jpg``; a RAW+JPEG pair
    shares one). Copies of the same content become one item: the extract output is
    per content, so it is made once.
    """
    media: list[Any] = []
    sidecars: dict[tuple[str, str], list[Any]] = {}
    for entry in entries:
        if entry.kind in MEDIA_KINDS:
            media.append(entry)
        elif entry.kind == "sidecar" and entry.path.lower().endswith(".xmp"):
            path = PurePosixPath(entry.path)
            sidecars.setdefault((str(path.parent), path.stem.lower()), []).append(entry)
    roots = roots or (real_folder(source_dir),)
    items: dict[str, WorkItem] = {}
    for entry in media:
        path = PurePosixPath(entry.path)
        found = sidecars.get((str(path.parent), path.stem.lower()), []) + sidecars.get(
            (str(path.parent), path.name.lower()), []
        )
        if entry.id in items:
            continue
        items[entry.id] = WorkItem(
            media_id=entry.id,
            path=source_dir / path,
            kind=entry.kind,
            sidecars=tuple(Sidecar(source_dir / sidecar.path, sidecar.id) for sidecar in found),
            mtime_ns=entry.mtime_ns,
            roots=roots,
        )
    return list(items.values())


def work_items_from_config(config: Config) -> list[WorkItem]:
    """Work items of every source whose index exists (offline sources are skipped)."""
    items: dict[str, WorkItem] = {}
    for source in config.sources:
        if source.offline:
            log.info("source %s is offline: skipped", source.dir)
            continue
        if not source.index_path.is_file():
            log.warning("source %s has no index yet (run `homegallery index`)", source.dir)
            continue
        roots = source_roots(config.sources, source)
        for item in work_items_from_index(load_index(source.index_path), source.path, roots):
            items.setdefault(item.media_id, item)
    return list(items.values())


# --- planning ------------------------------------------------------------------------------


def _expected_previews(item: WorkItem, settings: Settings, meta: MediaMeta | None) -> list[str]:
    if meta is not None and meta.width and meta.height and item.kind != "video":
        longest = max(meta.width, meta.height)
        kinds = [preview_kind(size) for size in sizes_for(longest, settings.preview_sizes)]
    else:  # size unknown (videos: the poster's size): the last one written says "done"
        kinds = [preview_kind(min(settings.preview_sizes))]
    if item.kind == "video":
        kinds.append(POSTER_KIND)
    return kinds


def plan_item(
    item: WorkItem,
    steps: Sequence[Step],
    settings: Settings,
    listing: StorageListing,
    retry_failed: bool,
    summary: Summary,
) -> tuple[Step, ...]:
    """The worker steps still to do for one item (geo is planned after the workers).

    The stored metadata is read only when the answer depends on it (sidecars to
    compare, a preview size missing that the image may be too small for), so an
    unchanged gallery plans with one folder listing per storage folder.
    """
    needed: list[Step] = []
    stored = listing.kinds(item.media_id)
    all_previews = {preview_kind(size) for size in settings.preview_sizes}
    meta: MediaMeta | None = None
    if META_KIND in stored and (
        item.sidecars or item.kind == "video" or not all_previews <= stored
    ):
        meta = listing.meta(item.media_id)
    for step in steps:
        if step in ("geo", "embeddings", "faces", "objects"):  # over all items after the workers
            continue
        if step == "video" and (item.kind != "video" or not settings.video.enabled):
            continue
        if step == "meta":
            todo = META_KIND not in stored or (
                bool(item.sidecars)
                and (
                    meta is None
                    or sorted(sidecar.media_id for sidecar in item.sidecars) != meta.sidecar_ids
                )
            )
        elif step == "preview":
            todo = not all_previews <= stored and not all(
                kind in stored for kind in _expected_previews(item, settings, meta)
            )
            if item.kind == "video":
                todo = todo or POSTER_KIND not in stored
        else:
            todo = video_kind(settings.video.preview_size) not in stored
        if not todo:
            summary.steps[step].skipped += 1
        elif not retry_failed and failure_kind(step) in stored:
            summary.steps[step].failed_before += 1
        else:
            needed.append(step)
    return tuple(needed)


# --- running -------------------------------------------------------------------------------


def _pool(workers: int) -> ProcessPoolExecutor:
    # forkserver: workers start from a clean process, not a copy of this one with its
    # threads and open libraries, and faster than a full spawn per worker.
    context = get_context("forkserver" if sys.platform.startswith("linux") else "spawn")
    if context.get_start_method() == "forkserver":
        # Takes effect when the forkserver starts: it then ends with this process.
        context.set_forkserver_preload(["__main__", "homegallery.extract.forkserver_setup"])
    options: dict[str, Any] = {
        "mp_context": context,
        "initializer": init_worker,
        "initargs": (os.getpid(),),
    }
    if sys.version_info >= (3, 11):
        options["max_tasks_per_child"] = _TASKS_PER_WORKER
    return ProcessPoolExecutor(workers, **options)


@contextmanager
def _stopped_at_once_on_interrupt(pool: ProcessPoolExecutor) -> Iterator[ProcessPoolExecutor]:
    """Shuts the pool down on the way out; when the way out is an interrupt (Ctrl-C,
    SIGTERM) or an error, kills the workers first instead of waiting for their files.

    A web video can take minutes; a stop must take seconds. Whatever a killed worker
    was writing stays a temporary file, cleared by the next attempt.
    """
    try:
        yield pool
    except BaseException:
        # The executor has no public way to stop running work before Python 3.14.
        processes: dict[int, Any] = getattr(pool, "_processes", None) or {}
        for process in list(processes.values()):
            process.kill()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _run_alone(
    item: WorkItem, steps: tuple[Step, ...], settings: Settings, storage: Storage
) -> ItemResult:
    """Each step of one item in a pool of its own: finds the step that kills its worker.

    Only files that were in flight when a worker died come here, so the cost of a
    process per step is paid for a handful of files, and every step that can be done
    still is.
    """
    outcomes: list[StepOutcome] = []
    position = None
    for step in steps:
        with _stopped_at_once_on_interrupt(_pool(1)) as pool:
            try:
                result = pool.submit(process_item, item, (step,), settings).result()
            except BrokenProcessPool:
                message = f"{item.path}: the worker process died during the {step} step"
                record_failure(storage, item, step, "crash", message)
                outcomes.append(StepOutcome(step, False, 0.0, "crash", message))
                continue
        outcomes.extend(result.outcomes)
        position = result.position or position
    return ItemResult(item.media_id, outcomes, position)


def run_workers(
    tasks: Sequence[tuple[WorkItem, tuple[Step, ...]]],
    settings: Settings,
    workers: int,
    on_result: Callable[[ItemResult], None],
) -> None:
    """Processes the tasks in a pool, at most two per worker in flight."""
    storage = Storage(settings.storage_dir)
    queue = deque(tasks)
    suspects: list[tuple[WorkItem, tuple[Step, ...]]] = []
    while queue:
        in_flight: dict[Future[ItemResult], tuple[WorkItem, tuple[Step, ...]]] = {}
        broken = False
        with _stopped_at_once_on_interrupt(_pool(workers)) as pool:
            while (queue or in_flight) and not broken:
                while queue and len(in_flight) < workers * 2:
                    task = queue.popleft()
                    in_flight[pool.submit(process_item, task[0], task[1], settings)] = task
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    task = in_flight.pop(future)
                    try:
                        on_result(future.result())
                    except BrokenProcessPool:
                        suspects.append(task)
                        broken = True
            if broken:
                suspects.extend(in_flight.values())
                in_flight.clear()
        for item, steps in suspects:
            on_result(_run_alone(item, steps, settings, storage))
        suspects.clear()


def _geocoder(config: Config | None, provider: str) -> OfflineGeocoder | NominatimGeocoder | None:
    if provider == "off":
        return None
    if provider == "nominatim" and config is not None:
        geo = config.extractor.geo_reverse
        return NominatimGeocoder(
            geo.url,
            geo.languages,
            geo.user_agent,
            xdg.cache_home() / "homegallery" / "nominatim.db",
        )
    return OfflineGeocoder()


_GIVE_UP_AFTER = 3  # network failures in a row: the server is down, stop asking for now


def _ask_one_by_one(
    geocoder: NominatimGeocoder, positions: list[tuple[float, float]], progress: ProgressLike | None
) -> list[Place | GeoError | None]:
    """Each position's place, in order, until the server has failed _GIVE_UP_AFTER times
    in a row (the rest get no answer)."""
    results: list[Place | GeoError | None] = []
    failures_in_a_row = 0
    for position in positions:
        try:
            results.append(geocoder.lookup(*position))
            failures_in_a_row = 0
        except GeoError as error:
            results.append(error)
            failures_in_a_row += 1
            if failures_in_a_row >= _GIVE_UP_AFTER:
                log.warning("places: %s; the rest is left for the next run", error)
                break
        if progress is not None:
            progress.advance()
    return results


def run_geo(
    positions: dict[str, tuple[float, float]],
    paths: dict[str, Path],
    storage: Storage,
    geocoder: OfflineGeocoder | NominatimGeocoder,
    summary: Summary,
    progress: ProgressLike | None = None,
) -> None:
    """Places for media ids with a position; offline in one batch, Nominatim one by one.

    When the server fails several times in a row, the remaining positions are left
    for the next run (not recorded as failures): one outage must not cost an hour of
    rate-limited timeouts, nor mark thousands of photos as failed.
    """
    started = time.perf_counter()
    ids = list(positions)
    results: list[Place | GeoError | None] = []
    if isinstance(geocoder, OfflineGeocoder):
        try:
            results.extend(geocoder.lookup_many([positions[media_id] for media_id in ids]))
        except GeoError as error:
            results.extend([error] * len(ids))
    else:
        results.extend(
            _ask_one_by_one(geocoder, [positions[media_id] for media_id in ids], progress)
        )
    for media_id, place in zip(ids, results, strict=False):
        item = WorkItem(media_id, paths.get(media_id, Path("?")), "image")
        if isinstance(place, GeoError):
            if place.reason != "network":  # a network problem is tried again next run
                record_failure(storage, item, "geo", place.reason, str(place))
            summary.add(StepOutcome("geo", False, 0.0, place.reason, str(place)), item.path)
            continue
        if place is None:  # nothing known there (open sea): stored, so it is not asked again
            latitude, longitude = positions[media_id]
            place = Place(
                source="offline" if isinstance(geocoder, OfflineGeocoder) else "nominatim",
                latitude=latitude,
                longitude=longitude,
            )
        write_place(storage, media_id, place)
        storage.delete(media_id, failure_kind("geo"))
        summary.add(StepOutcome("geo", True, 0.0))
    summary.steps["geo"].seconds += time.perf_counter() - started


def run_extract(
    items: Sequence[WorkItem],
    settings: Settings,
    steps: Sequence[Step] = STEPS,
    retry_failed: bool = False,
    workers: int = 0,
    geo_provider: str = "offline",
    config: Config | None = None,
    progress_factory: Callable[[str, int], ProgressLike] = make_progress,
    cluster: ClusterOptions | None = None,
) -> Summary:
    """Extracts what is missing for ``items`` into the storage; returns the summary.

    ``cluster``: the per-file work and the model batches go to that Dask scheduler's
    workers instead of local processes (see :mod:`homegallery.extract.cluster`).
    """
    if cluster is not None:
        from homegallery.extract.cluster import Cluster  # lazy: dask is an extra

        with Cluster(cluster, settings) as connected:
            if connected.stats.dashboard:
                log.info("cluster dashboard: %s", connected.stats.dashboard)
            return _run(
                items,
                settings,
                steps,
                retry_failed,
                workers,
                geo_provider,
                config,
                progress_factory,
                connected,
            )
    return _run(
        items, settings, steps, retry_failed, workers, geo_provider, config, progress_factory
    )


def _local_pool(count: int) -> AbstractContextManager[Executor]:
    return _stopped_at_once_on_interrupt(_pool(count))


def _pixels(listing: StorageListing) -> Callable[[WorkItem], int | None]:
    """An item's pixels from its stored metadata, when there is some (a cluster task's
    expected memory)."""

    def pixels(item: WorkItem) -> int | None:
        meta = listing.meta(item.media_id) if META_KIND in listing.kinds(item.media_id) else None
        return meta.width * meta.height if meta and meta.width and meta.height else None

    return pixels


def _per_file_steps(
    tasks: Sequence[tuple[WorkItem, tuple[Step, ...]]],
    settings: Settings,
    workers: int,
    summary: Summary,
    progress_factory: Callable[[str, int], ProgressLike],
    cluster: Cluster | None,
    pixels: Callable[[WorkItem], int | None],
) -> dict[str, tuple[float, float]]:
    """Runs the planned per-file steps; returns the positions the metadata gave."""
    positions: dict[str, tuple[float, float]] = {}
    if not tasks:
        return positions
    paths = {item.media_id: item.path for item, _ in tasks}
    progress = progress_factory("extract", len(tasks))

    def on_result(result: ItemResult) -> None:
        for outcome in result.outcomes:
            summary.add(outcome, paths.get(result.media_id, ""))
        if result.position is not None:
            positions[result.media_id] = result.position
        progress.advance()

    try:
        if cluster is not None:
            cluster.run_items(tasks, on_result, progress, pixels)
        else:
            run_workers(tasks, settings, workers or os.cpu_count() or 1, on_result)
    finally:
        progress.close()
    return positions


def _run(
    items: Sequence[WorkItem],
    settings: Settings,
    steps: Sequence[Step],
    retry_failed: bool,
    workers: int,
    geo_provider: str,
    config: Config | None,
    progress_factory: Callable[[str, int], ProgressLike],
    cluster: Cluster | None = None,
) -> Summary:
    started = time.perf_counter()
    storage = Storage(settings.storage_dir)
    summary = Summary(items=len(items))
    items = sorted(items, key=lambda item: item.media_id)  # one storage folder after another
    listing = StorageListing(settings.storage_dir)
    tasks = []
    for item in items:
        needed = plan_item(item, steps, settings, listing, retry_failed, summary)
        if needed:
            tasks.append((item, needed))
    summary.planned = len(tasks)
    positions = _per_file_steps(
        tasks, settings, workers, summary, progress_factory, cluster, _pixels(listing)
    )

    pool_factory: embed.PoolFactory = _local_pool
    if cluster is not None:
        pool_factory, workers = cluster.pool, cluster.threads()
    # The model steps, over the previews the per-file steps made, each in its own pool.
    for model_step, run_model_step in (
        ("embeddings", embed.run_step),
        ("embeddings", clip_embed.run_step),  # a CLIP model's image half, if configured
        ("faces", faces.run_step),
        ("objects", objects.run_step),
    ):
        if model_step in steps:
            run_model_step(
                items, settings, retry_failed, workers, summary, progress_factory, pool_factory
            )

    if "geo" in steps and geo_provider != "off":
        _geo_step(
            items, positions, storage, retry_failed, summary, config, geo_provider, progress_factory
        )
    if cluster is not None:
        summary.notes += cluster.stats.lines()
        summary.network_bytes = cluster.stats.sent + cluster.stats.received
    summary.wall_seconds = time.perf_counter() - started
    return summary


def _geo_step(
    items: Sequence[WorkItem],
    positions: dict[str, tuple[float, float]],
    storage: Storage,
    retry_failed: bool,
    summary: Summary,
    config: Config | None,
    geo_provider: str,
    progress_factory: Callable[[str, int], ProgressLike],
) -> None:
    """Places for the items with a position and none stored, after the other steps."""
    todo = _plan_geo(items, positions, StorageListing(storage.root), retry_failed, summary)
    if not todo:
        return
    geocoder = _geocoder(config, geo_provider)
    assert geocoder is not None
    geo_progress = progress_factory("places", len(todo))
    try:
        paths = {item.media_id: item.path for item in items}
        run_geo(todo, paths, storage, geocoder, summary, geo_progress)
    finally:
        geo_progress.close()
        if isinstance(geocoder, NominatimGeocoder):
            geocoder.close()


def _plan_geo(
    items: Sequence[WorkItem],
    fresh_positions: dict[str, tuple[float, float]],
    listing: StorageListing,
    retry_failed: bool,
    summary: Summary,
) -> dict[str, tuple[float, float]]:
    todo: dict[str, tuple[float, float]] = {}
    for item in items:
        media_id = item.media_id
        stored = listing.kinds(media_id)
        if PLACE_KIND in stored:
            summary.steps["geo"].skipped += 1
            continue
        if not retry_failed and failure_kind("geo") in stored:
            summary.steps["geo"].failed_before += 1
            continue
        position = fresh_positions.get(media_id)
        if position is None:
            meta = listing.meta(media_id)
            if meta is None or meta.latitude is None or meta.longitude is None:
                continue
            position = (meta.latitude, meta.longitude)
        todo[media_id] = position
    return todo


def extract_gallery(
    config: Config,
    steps: Sequence[Step] = STEPS,
    retry_failed: bool = False,
    workers: int | None = None,
    progress_factory: Callable[[str, int], ProgressLike] = make_progress,
    media_ids: Collection[str] | None = None,
    cluster: str | None = None,
) -> Summary:
    """The whole extract stage for a config: every indexed file of every online source.

    The entry point for the CLI, the import loop and the Python API; ``workers`` None
    takes ``extractor.workers`` from the config (0 = one per core). ``media_ids``
    limits the run to those ids (e.g. the added and changed ids of the index
    journals); without it every indexed file is planned, which costs a folder listing
    per storage folder when nothing changed. ``cluster``: a Dask scheduler's address
    to run the work on, reaching the files as the config's ``cluster:`` says, or
    ``serve:HOST:PORT`` to start one here with this machine's workers.
    """
    items = work_items_from_config(config)
    if media_ids is not None:  # a changed sidecar changes its own id, not its photo's
        wanted = set(media_ids)
        items = [
            item
            for item in items
            if item.media_id in wanted or any(s.media_id in wanted for s in item.sidecars)
        ]
    return run_extract(
        items,
        settings_from_config(config),
        steps=steps,
        retry_failed=retry_failed,
        workers=config.extractor.workers if workers is None else workers,
        geo_provider=config.extractor.geo_reverse.provider,
        config=config,
        progress_factory=progress_factory,
        cluster=_cluster_options(config, cluster, workers),
    )


def _cluster_options(
    config: Config, address: str | None, workers: int | None
) -> ClusterOptions | None:
    address = address or config.cluster.address or None
    if address is None:
        return None
    from homegallery.extract.cluster import ClusterOptions  # lazy: dask is an extra

    return ClusterOptions.make(
        address,
        config.cluster.mode,
        config.cluster.path_map,
        config.extractor.workers if workers is None else workers,
    )
