"""What a Dask worker runs for an extract coordinator: the local pool's own work.

A task is the per-file ``worker.process_item`` or a model step's batch function, the
same code a local run puts in its process pool, run one of two ways:

- shared: the worker sees the sources and the storage on a shared file system
  (through ``cluster.pathMap`` when its mount points differ) and writes the storage
  itself, atomically as a local worker does;
- shipped: the worker sees neither. The task carries the original's bytes (and the
  stored files the step reads); the worker runs the same function against a scratch
  storage and returns what it wrote. The coordinator stores it, so every stored byte
  is written by the one machine that owns the storage, through ``Storage.write``.

Storage names are content addressed (the media id is the content's hash) and every
write is atomic, so a result that arrives twice, or never because its worker or the
coordinator died, costs repeated work only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from homegallery.errors import HomeGalleryError
from homegallery.extract.embed import preview_sizes_stored
from homegallery.extract.schema import (
    POSTER_KIND,
    failure_kind,
    preview_kind,
    read_failure,
    write_failure,
)
from homegallery.extract.steps import Step
from homegallery.extract.worker import ItemResult, Settings, WorkItem, _resolved, process_item
from homegallery.storage import Storage, in_record
from homegallery.within import real_folder

# (coordinator prefix, worker prefix), longest first: ``cluster.pathMap``.
PathMap = tuple[tuple[str, str], ...]

# A model file's path on the coordinator → its copy on this worker (``cluster_plugin``).
MODEL_FILES: dict[str, str] = {}

_MODEL_STEPS: tuple[Step, ...] = ("embeddings", "faces", "objects")


class NotShared(HomeGalleryError):  # noqa: N818 (a state the coordinator answers by shipping)
    """This worker does not see the storage or the file at its mapped path."""


@dataclass(frozen=True)
class Shipped:
    """The bytes a task carries to a worker that sees neither sources nor storage."""

    stored: dict[str, dict[str, bytes]]  # media id → kind → the stored file the step reads
    sources: dict[str, bytes]  # an original's path on the coordinator → its bytes

    @property
    def size(self) -> int:
        stored = sum(len(data) for kinds in self.stored.values() for data in kinds.values())
        return stored + sum(len(data) for data in self.sources.values())


@dataclass
class Changes:
    """What a shipped task wrote into its scratch storage, for the coordinator to store."""

    written: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)  # in order
    removed: dict[str, list[str]] = field(default_factory=dict)
    # (kind, kind it is a link of): a video's poster is its largest preview, stored once
    shared: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(len(data) for files in self.written.values() for _, data in files)


@dataclass
class Done:
    """A task's answer: the function's result, who ran it, and what to store (shipped)."""

    result: Any
    worker: str
    changes: Changes | None = None


# --- paths ---------------------------------------------------------------------------------


def map_path(path: Path, path_map: PathMap) -> Path:
    """``path`` with the longest matching prefix replaced (whole folder names only)."""
    text = str(path)
    for source, target in path_map:
        if text == source or text.startswith(source.rstrip("/") + "/"):
            return (
                Path(target + text[len(source.rstrip("/")) :]) if text != source else Path(target)
            )
    return path


def unmap_text(text: str, path_map: PathMap) -> str:
    """A message written with the worker's paths, said with the coordinator's."""
    for source, target in path_map:
        text = text.replace(target.rstrip("/") + "/", source.rstrip("/") + "/")
    return text


def with_paths(value: Any, change: Callable[[Path], Path]) -> Any:
    """A copy of a (frozen) dataclass tree with every ``Path`` field changed."""
    if isinstance(value, Path):
        return change(value)
    if isinstance(value, tuple):
        return tuple(with_paths(part, change) for part in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            item.name: with_paths(getattr(value, item.name), change)
            for item in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return value


def _model_copy(path: Path) -> Path:
    return Path(MODEL_FILES.get(str(path), str(path)))


# --- the two ways of running ---------------------------------------------------------------


def _worker_name() -> str:
    from distributed import get_worker  # lazy: dask is an extra, loaded on workers only

    worker = get_worker()
    return str(worker.name if worker.name is not None else worker.address)


def _unmap_failures(
    storage: Storage, media_id: str, steps: Sequence[Step], path_map: PathMap
) -> None:
    for step in steps:
        try:
            failure = read_failure(storage, media_id, step)
        except ValueError:
            continue
        if failure is not None:
            write_failure(
                storage,
                media_id,
                msgspec.structs.replace(
                    failure,
                    path=unmap_text(failure.path, path_map),
                    message=unmap_text(failure.message, path_map),
                ),
            )


def _unmapped_result(result: ItemResult, path_map: PathMap) -> ItemResult:
    for outcome in result.outcomes:
        outcome.message = unmap_text(outcome.message, path_map)
    return result


_prepared = False


def _prepare() -> None:
    """Once per worker process: libvips as a local pool worker has it (one thread, no
    operation cache), also under Dask's own `dask worker`."""
    global _prepared
    if not _prepared:
        os.environ.setdefault("VIPS_CONCURRENCY", "1")
        import pyvips  # lazy: only a worker process decodes

        pyvips.cache_set_max(0)
        pyvips.concurrency_set(int(os.environ["VIPS_CONCURRENCY"]))
        _prepared = True


def extract_task(
    item: WorkItem,
    steps: tuple[Step, ...],
    settings: Settings,
    path_map: PathMap,
    shipped: Shipped | None,
) -> Done:
    """One file's per-file steps on this worker: shared (``shipped`` None) or shipped."""
    _prepare()
    if shipped is None:
        return Done(_extract_shared(item, steps, settings, path_map), _worker_name())
    result, changes = _extract_shipped(item, steps, settings, shipped)
    return Done(result, _worker_name(), changes)


def _extract_shared(
    item: WorkItem, steps: tuple[Step, ...], settings: Settings, path_map: PathMap
) -> ItemResult:
    def change(path: Path) -> Path:
        return map_path(path, path_map)

    local_settings: Settings = with_paths(settings, change)
    local_item: WorkItem = dataclasses.replace(
        with_paths(item, change),
        roots=tuple(real_folder(change(Path(root))) for root in item.roots),
    )
    if not local_settings.storage_dir.is_dir() or not local_item.path.is_file():
        raise NotShared(f"{local_item.path} or {local_settings.storage_dir} is not here")
    # Messages then name the file as a local run's do, by its real path; when it cannot
    # be resolved, the step records why (outside its sources, gone).
    with contextlib.suppress(OSError):
        local_item = _resolved(local_item)
    result = process_item(local_item, steps, local_settings)
    # The worker's real folders (a mount point that is a link) said as the coordinator's.
    back = path_map + tuple(
        (source, real_folder(target))
        for source, target in path_map
        if real_folder(target) != target
    )
    if path_map:
        _unmap_failures(Storage(local_settings.storage_dir), item.media_id, steps, back)
    return _unmapped_result(result, back)


def _place(root: Path, shipped: Shipped) -> tuple[Path, dict[str, Path]]:
    """Writes the shipped files into ``root``: a scratch storage and the originals, each
    under its own name (a name can carry a date, and its extension says the format)."""
    storage = Storage(root / "storage")
    for media_id, kinds in shipped.stored.items():
        storage.folder(media_id).mkdir(parents=True, exist_ok=True)
        for kind, data in kinds.items():
            storage.write(media_id, kind, data)
    local: dict[str, Path] = {}
    for number, (original, data) in enumerate(shipped.sources.items()):
        folder = root / "sources" / str(number)
        folder.mkdir(parents=True)
        target = folder / Path(original).name
        target.write_bytes(data)
        local[original] = target
    return storage.root, local


def _ordered(kinds: list[str]) -> list[str]:
    """The order to store files in so that a step's "done" file comes last: previews
    largest first (the smallest one's presence means all are there), a model step's
    embedding or faces file after its labels, a video's poster after its previews."""

    def key(kind: str) -> tuple[int, int]:
        sizes = preview_sizes_stored([kind])
        if sizes:
            return (1, -sizes[0])
        if kind.startswith(("embedding", "faces", "objects")):
            return (2, 0)
        if kind == POSTER_KIND:  # a link of the largest preview, which must come first
            return (3, 0)
        return (0, 0)

    return sorted(kinds, key=key)


def _changes(storage_root: Path, shipped: Shipped, media_ids: Sequence[str]) -> Changes:
    storage = Storage(storage_root)
    changes = Changes()
    for media_id in media_ids:
        before = shipped.stored.get(media_id, {})
        now = storage.kinds(media_id)
        written: list[tuple[str, bytes]] = []
        shared: list[tuple[str, str]] = []
        first_of: dict[int, str] = {}  # inode → the kind first seen with it
        for kind in _ordered(now):
            if in_record(kind):  # a part of the id's record: no file, no link of its own
                data = storage.get(media_id, kind)
                if data is not None and before.get(kind) != data:
                    written.append((kind, data))
                continue
            path = storage.path(media_id, kind)
            inode = path.stat().st_ino
            if inode in first_of:
                shared.append((kind, first_of[inode]))
                continue
            first_of[inode] = kind
            data = path.read_bytes()
            if before.get(kind) != data:
                written.append((kind, data))
        changes.written[media_id] = written
        changes.shared[media_id] = shared
        changes.removed[media_id] = sorted(set(before) - set(now))
    return changes


def _extract_shipped(
    item: WorkItem, steps: tuple[Step, ...], settings: Settings, shipped: Shipped
) -> tuple[ItemResult, Changes]:
    with tempfile.TemporaryDirectory(prefix="homegallery-task-") as scratch:
        storage_root, local = _place(Path(scratch), shipped)
        local_item = dataclasses.replace(
            item,
            path=local[str(item.path)],
            sidecars=tuple(
                dataclasses.replace(sidecar, path=local[str(sidecar.path)])
                for sidecar in item.sidecars
            ),
            roots=(),  # the coordinator read the file inside its sources
        )
        if item.mtime_ns is not None:
            os.utime(local_item.path, ns=(item.mtime_ns, item.mtime_ns))
        # Messages and failure records name the original, not its scratch copy.
        names = tuple((str(Path(o).parent), str(p.parent)) for o, p in local.items())
        scratch_settings = dataclasses.replace(settings, storage_dir=storage_root)
        result = process_item(local_item, steps, scratch_settings)
        _unmap_failures(Storage(storage_root), item.media_id, steps, names)
        return _unmapped_result(result, names), _changes(storage_root, shipped, [item.media_id])


# A model step's batch function (``embed.embed_batch``, ``faces.faces_batch``).
BatchWork = Callable[[Sequence[tuple[str, Path]], Any, Path], list[Any]]


def batch_task(
    work: BatchWork,
    batch: Sequence[tuple[str, Path]],
    settings: Any,
    storage_dir: Path,
    path_map: PathMap,
    shipped: Shipped | None,
) -> Done:
    """A model step's batch on this worker; its models' sessions are made once per worker
    process (the step's own cache), from the copies ``cluster_plugin`` put here."""
    if shipped is None:
        local_dir = map_path(storage_dir, path_map)
        if not local_dir.is_dir():
            raise NotShared(f"{local_dir} is not here")
        local_settings = with_paths(settings, lambda path: map_path(path, path_map))
        return Done(work(batch, local_settings, local_dir), _worker_name())
    with tempfile.TemporaryDirectory(prefix="homegallery-task-") as scratch:
        storage_root, _ = _place(Path(scratch), shipped)
        outcomes = work(batch, with_paths(settings, _model_copy), storage_root)
        changes = _changes(storage_root, shipped, [media_id for media_id, _ in batch])
    return Done(outcomes, _worker_name(), changes)


def previews_to_ship(kinds: Sequence[str]) -> list[str]:
    """The stored kinds a model step may read: previews up to 1280 (and the next larger
    one when there is no 1280), and the model steps' failure records (their attempts
    count)."""
    sizes = preview_sizes_stored(kinds)
    wanted = [size for size in sizes if size <= 1280]
    larger = [size for size in sizes if size > 1280]
    if larger and (not wanted or wanted[-1] < 1280):
        wanted.append(larger[0])
    failures = [failure_kind(step) for step in _MODEL_STEPS if failure_kind(step) in kinds]
    return [preview_kind(size) for size in wanted] + failures
