"""Extraction on a Dask cluster: the coordinator's side (``extract --cluster ADDRESS``).

The run plans as a local run does; only where the per-file work and the model
batches run changes. Tasks go to the scheduler a window at a time (two per worker
thread), longest first: a video or a huge image started last would leave every other
worker idle while it finishes, so the queue is ordered by expected cost and each task
carries that cost as its Dask priority. Workers started by ``homegallery worker``
announce their memory as a ``MEMORY`` resource; each task then asks for what its
file is expected to need (from its pixels, or its size), so a worker never takes more
large images at once than its memory holds.

A worker that dies is Dask's to handle: its tasks go to another worker. A file that
kills every worker it is given (Dask's ``allowed-failures``) is recorded as a crash
of its steps, as the local pool records the file that kills its process.

The coordinator stores what shipped tasks return, each file atomically and a step's
"done" file last, and cleans a killed run's temporary files before working on an id
again; a restarted coordinator plans from what exists and redoes the rest.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from homegallery.errors import HomeGalleryError
from homegallery.extract.cluster_tasks import (
    BatchWork,
    Changes,
    Done,
    NotShared,
    PathMap,
    Shipped,
    batch_task,
    extract_task,
    previews_to_ship,
)
from homegallery.extract.schema import META_KIND, failure_kind
from homegallery.extract.steps import Step
from homegallery.extract.worker import (
    ItemResult,
    Settings,
    StepOutcome,
    WorkItem,
    _reason,
    _resolved,
    missing_message,
    record_failure,
    remove_leftovers,
)
from homegallery.progress import Progress, counted
from homegallery.storage import Storage

log = logging.getLogger("homegallery.extract")

MEMORY_RESOURCE = "MEMORY"  # what `homegallery worker` announces: its memory limit in bytes
_BASE_MEMORY = 96 * 1024**2  # a worker's task before it decodes anything
_VIDEO_MEMORY = 512 * 1024**2  # ffmpeg decoding and encoding a web video
_MEMORY_SHARE = 0.85  # of a machine's memory, for its workers together
SERVE_PREFIX = "serve:"  # `--serve-cluster HOST:PORT`: the scheduler runs in this process


def memory_per_process(processes: int) -> int:
    """Each of a machine's worker processes' memory limit: a share of what it has."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):  # pragma: no cover - every Linux has both
        total = 4 * 1024**3
    return int(total * _MEMORY_SHARE / max(1, processes))


class ClusterError(HomeGalleryError):
    """The cluster cannot be used: no scheduler at the address, no workers, no extra."""


@dataclass(frozen=True)
class ClusterOptions:
    """Where the scheduler is and how its workers reach the files (``cluster:`` config)."""

    address: str  # a scheduler's, or SERVE_PREFIX + HOST:PORT to start one here
    mode: str = "ship"  # "ship": bytes travel; "shared": workers see the same files
    path_map: PathMap = ()
    local_workers: int = 0  # a scheduler started here: its workers here (0: one per core)

    @staticmethod
    def make(
        address: str,
        mode: str = "ship",
        path_map: dict[str, str] | None = None,
        local_workers: int = 0,
    ) -> ClusterOptions:
        ordered = sorted((path_map or {}).items(), key=lambda pair: -len(pair[0]))
        return ClusterOptions(address, mode, tuple(ordered), local_workers)


@dataclass
class ClusterStats:
    """What went over the network and who did the work (the run's summary says it)."""

    sent: int = 0  # bytes shipped to workers (originals, previews)
    received: int = 0  # bytes of results shipped back
    files: int = 0
    per_worker: Counter[str] = field(default_factory=Counter)
    dashboard: str = ""

    def workers_text(self) -> str:
        return ", ".join(f"{name} {count}" for name, count in sorted(self.per_worker.items()))

    def lines(self) -> list[str]:
        lines = [f"cluster: {counted(self.files, 'task')}, by worker: {self.workers_text() or '-'}"]
        if self.sent or self.received:
            per_file = (self.sent + self.received) / max(1, self.files)
            lines.append(
                f"cluster: {self.sent / 1e6:.1f} MB sent, {self.received / 1e6:.1f} MB back, "
                f"{per_file / 1e3:.0f} KB per task"
            )
        return lines


# --- estimating a task ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    cost: float
    memory: int
    item: WorkItem
    steps: tuple[Step, ...]


def expected_cost(item: WorkItem, size: int) -> float:
    """Relative time of a file's per-file steps: videos (transcoded) far above images of
    their size, RAW (demosaiced) above compressed photos."""
    weight = {"video": 20.0, "raw": 3.0}.get(item.kind, 1.0)
    return weight * size


def expected_memory(item: WorkItem, size: int, pixels: int | None) -> int:
    """Bytes a task is expected to hold: a decoded image at a few bytes per pixel (known
    from the stored metadata, else guessed from the file size), a video's codec buffers."""
    if item.kind == "video":
        return _VIDEO_MEMORY
    if pixels is None:
        pixels = size * (1 if item.kind == "raw" else 4)  # JPEG ~2 bits a pixel
    return _BASE_MEMORY + pixels * 8


def longest_first(
    tasks: Sequence[tuple[WorkItem, tuple[Step, ...]]],
    pixels: Callable[[WorkItem], int | None],
) -> list[_Task]:
    """The tasks with their expected cost and memory, the longest first."""
    estimated = []
    for item, steps in tasks:
        size = _file_size(item.path)
        memory = expected_memory(item, size, pixels(item))
        estimated.append(_Task(expected_cost(item, size), memory, item, steps))
    return sorted(estimated, key=lambda task: -task.cost)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# --- the coordinator -----------------------------------------------------------------------


@contextmanager
def serving(address: str, workers: int) -> Iterator[str]:
    """``address`` as it is, or for ``serve:HOST:PORT`` the address of a scheduler
    started in this process, listening there, with this machine's own workers (as a
    local run lays them out: ``workers`` processes, 0 one per core), for as long as the
    block runs. An import serves one for all its chunks, so that the workers of other
    machines stay joined from one chunk to the next."""
    if not address.startswith(SERVE_PREFIX):
        yield address
        return
    from distributed import LocalCluster  # lazy: dask is the `cluster` extra

    listen = address.removeprefix(SERVE_PREFIX)
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise ClusterError(f"--serve-cluster: {listen!r} is not HOST:PORT")
    processes = workers or os.cpu_count() or 1
    memory = memory_per_process(processes)
    try:
        served = LocalCluster(
            n_workers=processes,
            threads_per_worker=1,
            processes=True,
            host=host,
            scheduler_port=int(port),
            dashboard_address=f"{host}:0",
            memory_limit=memory,
            resources={MEMORY_RESOURCE: memory},
        )
    except OSError as error:
        raise ClusterError(f"cannot serve a scheduler on {listen}: {error}") from None
    with served:
        scheduler = str(served.scheduler_address)
        log.info("scheduler at %s: join with `homegallery worker %s`", scheduler, scheduler)
        yield scheduler


class Cluster:
    """A connection to a Dask scheduler for one extract run."""

    def __init__(self, options: ClusterOptions, settings: Settings) -> None:
        try:
            from distributed import Client  # lazy: dask is the `cluster` extra
        except ImportError:
            raise ClusterError(
                "the cluster needs Dask: pip install 'homegallery[cluster]'"
            ) from None
        self.options = options
        self.settings = settings
        self.storage = Storage(settings.storage_dir)
        self.stats = ClusterStats()
        self._stack = ExitStack()
        address = self._stack.enter_context(serving(options.address, options.local_workers))
        try:
            self.client = Client(address, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError) as error:
            self._stack.close()
            raise ClusterError(f"no Dask scheduler at {address}: {error}") from None
        self._register_models()
        info = self.client.scheduler_info()
        if "dashboard" in info.get("services", {}):
            self.stats.dashboard = self.client.dashboard_link

    def close(self) -> None:
        self.client.close()
        self._stack.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- workers --

    def _workers(self) -> dict[str, Any]:
        workers: dict[str, Any] = self.client.scheduler_info(n_workers=-1).get("workers", {})
        return workers

    def threads(self) -> int:
        """Worker threads now (waits up to a minute for the first worker to join)."""
        try:
            self.client.wait_for_workers(1, timeout=60)
        except TimeoutError:
            raise ClusterError(
                f"no worker joined the scheduler at {self.options.address} within a minute "
                "(start one with `homegallery worker ADDRESS`)"
            ) from None
        return self._threads_now()

    def _threads_now(self) -> int:
        return max(1, sum(int(info.get("nthreads", 1)) for info in self._workers().values()))

    def _memory_cap(self) -> int | None:
        """The largest ``MEMORY`` a worker announces when every worker does, else None
        (a worker without resources would never get a task that asks for one)."""
        workers = self._workers().values()
        memories = [info.get("resources", {}).get(MEMORY_RESOURCE) for info in workers]
        if not memories or any(memory is None for memory in memories):
            return None
        return int(max(memories))

    def _register_models(self) -> None:
        """Also in ``shared`` mode: a worker that does not see the shared files gets the
        previews shipped, and then needs the models of its own."""
        files: list[Path] = []
        if self.settings.embeddings is not None:
            files.append(self.settings.embeddings.model_file)
        if self.settings.faces is not None:
            files += [self.settings.faces.detector_file, self.settings.faces.recogniser_file]
        if self.settings.objects is not None:
            files.append(self.settings.objects.model_file)
        if self.settings.clip is not None:
            files.append(self.settings.clip.model_file)
        if files:
            from homegallery.extract.cluster_plugin import model_files  # lazy: dask extra

            self.client.register_plugin(model_files(files))

    # -- shipping --

    def _ship_item(self, item: WorkItem, steps: tuple[Step, ...]) -> Shipped:
        """The original and its sidecars (read inside their sources, as a local worker
        reads them), with the stored metadata and failure records the steps read."""
        remove_leftovers(self.storage, item.media_id)
        sources: dict[str, bytes] = {}
        resolved = _resolved(item)
        for original, real in [(item.path, resolved.path)] + [
            (sidecar.path, real_sidecar.path)
            for sidecar, real_sidecar in zip(item.sidecars, resolved.sidecars, strict=True)
        ]:
            sources[str(original)] = real.read_bytes()
        wanted = {META_KIND, *(failure_kind(step) for step in steps)}
        stored = {
            kind: data
            for kind in self.storage.kinds(item.media_id)
            if kind in wanted and (data := self.storage.get(item.media_id, kind)) is not None
        }
        return Shipped({item.media_id: stored}, sources)

    def _ship_batch(self, batch: Sequence[tuple[str, Path]]) -> Shipped:
        stored: dict[str, dict[str, bytes]] = {}
        for media_id, _ in batch:
            remove_leftovers(self.storage, media_id)
            kinds = previews_to_ship(self.storage.kinds(media_id))
            stored[media_id] = {
                kind: data
                for kind in kinds
                if (data := self.storage.get(media_id, kind)) is not None
            }
        return Shipped(stored, {})

    def store(self, done: Done) -> None:
        """Writes a shipped task's files into the storage, atomically, in their order."""
        self.stats.files += 1
        self.stats.per_worker[done.worker] += 1
        changes: Changes | None = done.changes
        if changes is None:
            return
        self.stats.received += changes.size
        for media_id, files in changes.written.items():
            for kind, data in files:
                self.storage.write(media_id, kind, data)
            for kind, source in changes.shared.get(media_id, []):
                self.storage.share(media_id, self.storage.path(media_id, source), kind)
            for kind in changes.removed.get(media_id, []):
                self.storage.delete(media_id, kind)

    # -- the per-file steps --

    def _submit_item(self, task: _Task, ship: bool) -> Any:
        item, steps = task.item, task.steps
        shipped = self._ship_item(item, steps) if ship else None
        if shipped is not None:
            self.stats.sent += shipped.size
        cap = self._cap
        return self.client.submit(
            extract_task,
            item,
            steps,
            self.settings,
            self.options.path_map,
            shipped,
            pure=False,
            priority=int(task.cost // 1024),
            resources={MEMORY_RESOURCE: min(task.memory, cap)} if cap else None,
            key=f"extract-{item.media_id}-{os.urandom(4).hex()}",
        )

    def _answer(self, future: Any, task: _Task) -> ItemResult | None:
        """The item's result from a finished task (its files stored); None when the
        worker did not see the shared files and the task must be shipped."""
        from distributed.client import FutureCancelledError  # lazy: the `cluster` extra
        from distributed.scheduler import KilledWorker

        try:
            done: Done = future.result()
        except NotShared:
            return None
        except (KilledWorker, FutureCancelledError) as error:
            message = f"{task.item.path}: the worker died during its steps ({type(error).__name__})"
            return _failed(self.storage, task.item, task.steps, "crash", message)
        self.store(done)
        result: ItemResult = done.result
        return result

    def run_items(
        self,
        tasks: Sequence[tuple[WorkItem, tuple[Step, ...]]],
        on_result: Callable[[ItemResult], None],
        progress: Any,
        pixels: Callable[[WorkItem], int | None],
    ) -> None:
        """The per-file steps of ``tasks`` on the cluster, longest first; ``on_result``
        gets each item's outcomes as a local run gives them."""
        from distributed import as_completed  # lazy: dask is the `cluster` extra

        self._cap = self._memory_cap()
        window, counted_at = 2 * self.threads(), time.monotonic()
        queue = deque(longest_first(tasks, pixels))
        in_flight: dict[Any, _Task] = {}
        finished = as_completed(loop=self.client.loop)

        def submit(task: _Task, ship: bool) -> None:
            try:
                future = self._submit_item(task, ship)
            except OSError as error:  # unreadable original: the step's failure, as locally
                reason = _reason(error)
                message = (
                    missing_message(task.item.path)
                    if reason == "missing"
                    else f"{task.item.path}: {error}"
                )
                on_result(_failed(self.storage, task.item, task.steps, reason, message))
                return
            in_flight[future] = task
            finished.add(future)

        def refill() -> None:
            nonlocal window, counted_at
            if time.monotonic() - counted_at > 1.0:  # a laptop that joins mid-run gets work
                window, counted_at = 2 * self._threads_now(), time.monotonic()
            while queue and len(in_flight) < window:
                submit(queue.popleft(), self.options.mode == "ship")

        refill()
        for future in finished:
            task = in_flight.pop(future)
            result = self._answer(future, task)
            if result is None:  # this worker does not see the files: send them
                submit(task, True)
                continue
            on_result(result)
            if isinstance(progress, Progress):
                progress.detail = self.stats.workers_text()
            refill()

    # -- the model steps --

    @contextmanager
    def pool(self, workers: int) -> Iterator[Executor]:
        """A model step's pool: its batches run on the cluster (``embed.PoolFactory``)."""
        yield _ClusterExecutor(self)


def _failed(
    storage: Storage, item: WorkItem, steps: tuple[Step, ...], reason: str, message: str
) -> ItemResult:
    outcomes = []
    for step in steps:
        record_failure(storage, item, step, reason, message)
        outcomes.append(StepOutcome(step, False, 0.0, reason, message))
    return ItemResult(item.media_id, outcomes)


class _ClusterExecutor(Executor):
    """``submit(work, batch, settings, storage_dir)`` of ``embed.run_batches`` on the
    cluster; a batch whose workers keep dying breaks the "pool" as a local crash does,
    so the step tries its photos one by one and records the one that kills."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        work: BatchWork = fn
        batch, settings, storage_dir = args
        answer: Future[Any] = Future()
        self._send(answer, work, batch, settings, storage_dir, self.cluster.options.mode == "ship")
        return answer

    def _send(
        self,
        answer: Future[Any],
        work: BatchWork,
        batch: Sequence[tuple[str, Path]],
        settings: Any,
        storage_dir: Path,
        ship: bool,
    ) -> None:
        cluster = self.cluster
        shipped = cluster._ship_batch(batch) if ship else None
        if shipped is not None:
            cluster.stats.sent += shipped.size
        future = cluster.client.submit(
            batch_task,
            work,
            list(batch),
            settings,
            storage_dir,
            cluster.options.path_map,
            shipped,
            pure=False,
            key=f"{getattr(work, '__name__', 'batch')}-{batch[0][0]}-{os.urandom(4).hex()}",
        )

        def finish(done_future: Any) -> None:
            try:
                done: Done = done_future.result()
                cluster.store(done)
                answer.set_result(done.result)
            except NotShared:
                self._send(answer, work, batch, settings, storage_dir, True)
            except Exception as error:
                if type(error).__name__ in (
                    "KilledWorker",
                    "CancelledError",
                    "FutureCancelledError",
                ):
                    answer.set_exception(BrokenProcessPool(str(error)))
                else:
                    answer.set_exception(error)

        future.add_done_callback(finish)
