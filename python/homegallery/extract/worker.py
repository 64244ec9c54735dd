"""What one worker process does for one media file: the steps, each in isolation.

A step that fails writes a failure record and lets the next step run; nothing a file
contains can end the run. Every output goes through Storage (temp name + rename), so
a worker killed at any instant leaves the storage as it was or with whole files.
"""

from __future__ import annotations

import dataclasses
import os
import time
import traceback
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from homegallery.config import PreviewJpeg, VideoExtractor
from homegallery.extract import lifeline, preview, video
from homegallery.extract import meta as meta_reader
from homegallery.extract.ffmpeg_tools import ToolError
from homegallery.extract.meta import Sidecar
from homegallery.extract.schema import (
    META_KIND,
    POSTER_KIND,
    Failure,
    MediaMeta,
    failure_kind,
    preview_kind,
    read_failure,
    read_meta,
    video_kind,
    write_failure,
    write_meta,
)
from homegallery.extract.steps import Step
from homegallery.storage import Storage, split_id
from homegallery.within import OutsideSourcesError, Roots, resolve_within

if TYPE_CHECKING:  # extract.embed imports this module (work items, failure records)
    from homegallery.extract.embed import EmbeddingSettings
    from homegallery.extract.faces import FaceSettings
    from homegallery.extract.objects import ObjectSettings
    from homegallery.ml.clip import ClipImageSettings


@dataclass(frozen=True)
class WorkItem:
    """One media file to extract: its id, where it is, what it is, its sidecars.

    ``roots``: the real folders the file and its sidecars must lie in (its source's,
    from ``homegallery.within.source_roots``); a file that resolves elsewhere (a
    symbolic link swapped in after indexing) is not read. Empty: ``path`` is trusted
    as given (files named directly by the caller).
    """

    media_id: str
    path: Path
    kind: str  # index kind: "image", "raw" or "video"
    sidecars: tuple[Sidecar, ...] = ()
    mtime_ns: int | None = None
    roots: Roots = ()


@dataclass(frozen=True)
class Settings:
    """The part of the config the workers need (small, picklable)."""

    storage_dir: Path
    preview_sizes: tuple[int, ...] = (1920, 1280, 800, 320, 128)
    preview_quality: int = 80
    preview_jpeg: PreviewJpeg = field(default_factory=PreviewJpeg)
    engine: preview.EngineName = "pyvips"
    max_pixels: int = 250_000_000
    video: VideoExtractor = field(default_factory=VideoExtractor)
    # The embeddings step's model, or why there is none ("" when the task is off).
    embeddings: EmbeddingSettings | None = None
    embeddings_unavailable: str = ""
    # The faces step's models, or why there are none.
    faces: FaceSettings | None = None
    faces_unavailable: str = ""
    # The objects step's model, or why there is none.
    objects: ObjectSettings | None = None
    objects_unavailable: str = ""
    # The CLIP model's image half (the embeddings step runs it too), or why it cannot run.
    clip: ClipImageSettings | None = None
    clip_unavailable: str = ""


@dataclass
class StepOutcome:
    step: Step
    ok: bool
    seconds: float
    reason: str = ""
    message: str = ""


@dataclass
class ItemResult:
    media_id: str
    outcomes: list[StepOutcome]
    position: tuple[float, float] | None = None


# Per-process state: one engine and storage per worker, made at the first item.
_engine: preview.VipsEngine | preview.PillowEngine | None = None


def init_worker(run_pid: int) -> None:
    """Ties the worker's life to the run ``run_pid``; keeps libvips to one thread and no
    operation cache.

    A worker outlives a run killed with ``kill -9`` unless it watches for that itself
    (see ``lifeline``). The pool already runs one worker per core; libvips' own thread
    pool on top would oversubscribe the cores, and its cache only holds memory for
    images never reused.
    """
    lifeline.die_with_parent()
    lifeline.end_with(run_pid)
    os.environ.setdefault("VIPS_CONCURRENCY", "1")
    try:
        import pyvips

        pyvips.cache_set_max(0)
        pyvips.concurrency_set(int(os.environ["VIPS_CONCURRENCY"]))
    except ImportError:  # pragma: no cover - pyvips is a dependency
        pass


def _get_engine(settings: Settings) -> preview.VipsEngine | preview.PillowEngine:
    global _engine
    wanted = preview.PillowEngine if settings.engine == "pillow" else preview.VipsEngine
    if (
        not isinstance(_engine, wanted)
        or _engine.max_pixels != settings.max_pixels
        or _engine.jpeg != settings.preview_jpeg
    ):
        _engine = preview.make_engine(settings.engine, settings.max_pixels, settings.preview_jpeg)
    return _engine


def _reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    if isinstance(reason, str) and reason:
        return reason
    if isinstance(error, MemoryError):
        return "memory"
    if isinstance(error, OutsideSourcesError):
        return "outside"
    if isinstance(error, FileNotFoundError):
        return "missing"
    if isinstance(error, PermissionError):
        return "permission"
    if isinstance(error, OSError):
        return "io"
    return "error"


def _message(item: WorkItem, error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if str(item.path) not in text:
        text = f"{item.path}: {text}"
    if _reason(error) == "error":  # an unexpected exception: keep where it came from
        frame = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
        where = f" ({Path(frame[0].filename).name}:{frame[0].lineno})" if frame else ""
        text = f"{type(error).__name__}: {text}{where}"
    return text


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def record_failure(storage: Storage, item: WorkItem, step: Step, reason: str, message: str) -> None:
    previous_attempts = 0
    if storage.exists(item.media_id, failure_kind(step)):
        try:
            previous = read_failure(storage, item.media_id, step)
            previous_attempts = previous.attempts if previous else 0
        except ValueError:
            previous_attempts = 0
    write_failure(
        storage,
        item.media_id,
        Failure(
            step=step,
            reason=reason,
            message=message,
            path=str(item.path),
            time=now_iso(),
            attempts=previous_attempts + 1,
        ),
    )


class _Context:
    """Shares the metadata between the steps of one item (read once, used by all)."""

    def __init__(self, item: WorkItem, storage: Storage) -> None:
        self.item = item
        self.storage = storage
        self._meta: MediaMeta | None = None

    def meta(self) -> MediaMeta:
        if self._meta is None:
            stored = None
            try:
                stored = read_meta(self.storage, self.item.media_id)
            except ValueError:
                stored = None
            self._meta = stored or self.read_meta()
        return self._meta

    def known_meta(self) -> MediaMeta | None:
        """The metadata read in this run or stored before; never reads the file."""
        if self._meta is None:
            try:
                self._meta = read_meta(self.storage, self.item.media_id)
            except ValueError:
                return None
        return self._meta

    def read_meta(self) -> MediaMeta:
        self._meta = meta_reader.read_meta(
            self.item.path,
            meta_reader.media_type_for(self.item.kind),
            self.item.sidecars,
            self.item.mtime_ns,
        )
        return self._meta


def _step_meta(context: _Context, settings: Settings) -> None:
    meta = context.read_meta()
    write_meta(context.storage, context.item.media_id, meta)


def _write_previews(context: _Context, previews: list[tuple[int, bytes]]) -> None:
    # Largest first, smallest last: the smallest file's presence means "all written".
    for size, data in previews:
        context.storage.write(context.item.media_id, preview_kind(size), data)


def _step_preview(context: _Context, settings: Settings) -> None:
    engine = _get_engine(settings)
    item = context.item
    if item.kind == "video":
        meta = context.meta()
        frame = video.extract_frame(item.path, video.poster_time(meta.duration), meta.duration)
        previews = engine.render(frame, settings.preview_sizes, settings.preview_quality)
        # The poster is the largest preview: stored once, under both names.
        largest = context.storage.write(item.media_id, preview_kind(previews[0][0]), previews[0][1])
        context.storage.share(item.media_id, largest, POSTER_KIND)
        previews = previews[1:]
    else:
        previews = preview.render_previews(
            engine,
            item.path,
            settings.preview_sizes,
            settings.preview_quality,
            raw=item.kind == "raw",
        )
    _write_previews(context, previews)


def _step_video(context: _Context, settings: Settings) -> None:
    meta = context.meta()
    if not meta.height:
        raise ToolError(f"{context.item.path}: the video size is unknown", "unsupported")
    kind = video_kind(settings.video.preview_size)
    with context.storage.writing(context.item.media_id, kind) as temporary:
        video.transcode(
            context.item.path,
            temporary,
            settings.video,
            meta.height,
            meta.frame_rate,
            meta.duration,
        )


_STEPS = {"meta": _step_meta, "preview": _step_preview, "video": _step_video}


def remove_leftovers(storage: Storage, media_id: str) -> None:
    """Deletes temporary files a killed worker left for this media id.

    They never look finished (a dot in front, ``.part`` inside), so they do no harm but
    take space; the next attempt at the same id is the moment to clear them.
    """
    folder = storage.folder(media_id)
    if folder.is_dir():
        for leftover in folder.glob(f".{split_id(media_id)[1]}-*"):
            if ".part" in leftover.name:
                leftover.unlink(missing_ok=True)


def _resolved(item: WorkItem) -> WorkItem:
    """The item with its file and sidecars as real paths inside its roots.

    Readers get paths without links, so none of them follows a link on its own; a
    file or sidecar that leads outside raises OutsideSourcesError.
    """
    if not item.roots:
        return item
    sidecars = tuple(
        dataclasses.replace(sidecar, path=resolve_within(sidecar.path, item.roots))
        for sidecar in item.sidecars
    )
    return dataclasses.replace(item, path=resolve_within(item.path, item.roots), sidecars=sidecars)


def missing_message(path: Path) -> str:
    return f"{path}: file not found (moved or deleted since the last index)"


def process_item(item: WorkItem, steps: tuple[Step, ...], settings: Settings) -> ItemResult:
    """Runs the given steps for one item; never raises for a problem of the file.

    Where the file really lies is checked again before every step, since it can be
    swapped for a link at any moment.
    """
    storage = Storage(settings.storage_dir)
    remove_leftovers(storage, item.media_id)
    context = _Context(item, storage)
    outcomes = []
    for step in steps:
        started = time.perf_counter()
        if not item.path.is_file():  # moved or deleted since it was indexed
            message = missing_message(item.path)
            record_failure(storage, item, step, "missing", message)
            outcomes.append(StepOutcome(step, False, 0.0, "missing", message))
            continue
        try:
            context.item = _resolved(item)
            _STEPS[step](context, settings)
        except Exception as error:
            reason, message = _reason(error), _message(item, error)
            record_failure(storage, item, step, reason, message)
            outcomes.append(
                StepOutcome(step, False, time.perf_counter() - started, reason, message)
            )
            continue
        storage.delete(item.media_id, failure_kind(step))
        outcomes.append(StepOutcome(step, True, time.perf_counter() - started))
    position = None
    if storage.exists(item.media_id, META_KIND):
        meta = context.known_meta()
        if meta is not None and meta.latitude is not None and meta.longitude is not None:
            position = (meta.latitude, meta.longitude)
    return ItemResult(item.media_id, outcomes, position)
