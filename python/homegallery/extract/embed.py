"""The ``embeddings`` step: an image embedding and ImageNet labels per photo, from a preview.

Unlike the other steps it works on batches of files: a convolution network runs
several images in one call faster than one by one, and its onnxruntime session (the
model loaded and prepared, a few hundred milliseconds and ~60 MB) is made once per
worker process and reused for every batch that process gets. The step runs after the
per-file steps of a run, when the previews exist, in a pool of its own whose size and
threads come from ``extractor.models`` (``homegallery bench`` measures the best
layout for the machine).

Input is a preview, not the original: the model wants the short side at 256 pixels,
so the smallest preview whose short side reaches that is decoded, at the smallest
JPEG DCT scale that still does (a 4:3 photo's 800 preview is decoded at 400 × 300).
The 320 preview would be cheaper, but its short side is 240 (4:3) or 213 (3:2), and
an upscaled input moves the embedding visibly (cosine 0.91 against the 800 preview's
on a 1024 × 768 test photo). A photo smaller than that has only previews of its own
size, and the largest of them is used.

Each photo gets two files (see :mod:`homegallery.extract.schema`): its labels (the
model's five most probable ImageNet classes) and then its embedding, whose presence
means "done". A missing model is said once, with the command that installs it, and
the rest of the run goes on.
"""

from __future__ import annotations

import logging
import math
import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from homegallery.errors import HomeGalleryError
from homegallery.extract.listing import StorageListing
from homegallery.extract.schema import (
    Labels,
    StoredLabel,
    embedding_kind,
    failure_kind,
    preview_kind,
    write_embedding,
    write_labels,
)
from homegallery.extract.steps import Step
from homegallery.extract.worker import StepOutcome, WorkItem, record_failure
from homegallery.log import warn_once
from homegallery.ml.labels import label_name, label_wnid, softmax
from homegallery.ml.sessions import ProcessSessions, cpu_session
from homegallery.models.preprocess import efficientnet_input
from homegallery.models.spec import get_spec
from homegallery.models.store import ModelNotInstalled, model_path, task_model
from homegallery.storage import Storage, kind_pattern

if TYPE_CHECKING:
    from homegallery.config import Models
    from homegallery.extract.runner import ProgressLike, Summary
    from homegallery.extract.worker import Settings

log = logging.getLogger("homegallery.extract")

TOP_LABELS = 5  # classes stored per photo; the build keeps those above the threshold
MIN_SHORT_SIDE = 256  # the model's resize step: short side to 256, then the centre 224
_PREVIEW_KIND = re.compile(kind_pattern("image_preview", r"(\d+)"))


class ModelUnavailable(HomeGalleryError):  # noqa: N818 (a state the run reports, like ModelNotInstalled)
    """The configured model is not installed; the message says how to install it."""


@dataclass(frozen=True)
class EmbeddingSettings:
    """What the embedding workers need (small, picklable)."""

    model: str  # the spec's name
    model_tag: str  # name and version: names the stored files
    model_file: Path
    input_name: str
    threads: int = 1
    batch_size: int = 16
    workers: int = 0  # 0: as many as the extract workers, over threads


@dataclass
class Outcome:
    """What became of one photo (mirrors ``worker.StepOutcome`` for the summary)."""

    media_id: str
    ok: bool
    seconds: float
    reason: str = ""
    message: str = ""


def settings_for(
    model: str, models_dir: Path, precision: str, threads: int, batch_size: int, workers: int
) -> EmbeddingSettings:
    """The settings for an installed model; :class:`ModelUnavailable` when it is not."""
    spec = get_spec(model)
    try:
        path = model_path(spec, models_dir, "int8" if precision == "int8" else "fp32")
    except ModelNotInstalled as error:
        raise ModelUnavailable(str(error)) from None
    return EmbeddingSettings(
        model=spec.name,
        model_tag=spec.folder_name,
        model_file=path,
        input_name=spec.input.name,
        threads=threads,
        batch_size=batch_size,
        workers=workers,
    )


def from_config(models: Models) -> tuple[EmbeddingSettings | None, str]:
    """The step's settings from ``extractor.models``, or why it cannot run ("" when off)."""
    spec = task_model("embeddings", models.choices)
    if spec is None:
        return None, ""
    try:
        settings = settings_for(
            spec.name,
            models.path,
            models.precision,
            models.threads,
            models.batch_size,
            models.workers,
        )
    except ModelUnavailable as error:
        return None, str(error)
    return settings, ""


# --- choosing and reading the preview -------------------------------------------------------


def preview_sizes_stored(kinds: Sequence[str] | set[str] | frozenset[str]) -> list[int]:
    """Sizes of the image previews among stored kinds, smallest first."""
    return sorted(int(match.group(1)) for kind in kinds if (match := _PREVIEW_KIND.fullmatch(kind)))


def load_input(paths: Sequence[Path]) -> Any:
    """The first preview (smallest first) whose short side reaches 256, decoded, as RGB.

    Opening a JPEG reads only its header, so trying the small ones first costs little.
    ``draft`` asks libjpeg for the smallest DCT scale (1/2, 1/4, 1/8) that keeps the
    short side at 256 or more, which decodes a quarter or less of the pixels.
    """
    from PIL import Image

    if not paths:
        raise FileNotFoundError("no preview to embed")
    for path in paths:
        with Image.open(path) as image:
            width, height = image.size
            short = min(width, height)
            if short < MIN_SHORT_SIDE and path != paths[-1]:
                continue
            if short > MIN_SHORT_SIDE:
                factor = MIN_SHORT_SIDE / short
                image.draft("RGB", (math.ceil(width * factor), math.ceil(height * factor)))
            return image.convert("RGB")
    raise AssertionError("the last preview is always taken")  # pragma: no cover


# --- the worker side ----------------------------------------------------------------------

_sessions: ProcessSessions[Any] = ProcessSessions()  # this worker process's session


def session_for(settings: EmbeddingSettings) -> Any:
    """The model's session of this worker process, made at its first batch."""
    return _sessions.get(
        (str(settings.model_file), settings.threads),
        lambda: cpu_session(settings.model_file, settings.threads),
    )


def labels_of(logits: Any, settings: EmbeddingSettings) -> Labels:
    """The model's most probable classes of one image, as stored."""
    import numpy as np

    probabilities = softmax(logits)
    best = np.argsort(-probabilities, kind="stable")[:TOP_LABELS]
    return Labels(
        model=settings.model,
        version=settings.model_tag.removeprefix(settings.model + "-"),
        labels=[
            StoredLabel(
                id=label_wnid(index),
                name=label_name(index),
                score=round(float(probabilities[index]), 4),
            )
            for index in best.tolist()
        ],
    )


def _record(storage: Storage, media_id: str, path: Path, reason: str, message: str) -> None:
    record_failure(storage, WorkItem(media_id, path, "image"), "embeddings", reason, message)


def embed_batch(
    batch: Sequence[tuple[str, Path]], settings: EmbeddingSettings, storage_dir: Path
) -> list[Outcome]:
    """Embeds a batch of (media id, original path) in this process; never raises for a file.

    A preview that cannot be read fails its own photo only; a model that cannot run
    fails the batch (the message says why), as it would fail every other batch too.
    """
    import numpy as np

    started = time.perf_counter()
    storage = Storage(storage_dir)
    outcomes: dict[str, Outcome] = {}
    inputs: list[Any] = []
    ready: list[tuple[str, Path]] = []
    for media_id, original in batch:
        try:
            sizes = preview_sizes_stored(storage.kinds(media_id))
            paths = [storage.path(media_id, preview_kind(size)) for size in sizes]
            inputs.append(efficientnet_input(load_input(paths)))
            ready.append((media_id, original))
        except Exception as error:  # a broken preview: this photo fails, the batch goes on
            reason = "missing" if isinstance(error, FileNotFoundError) else "decode"
            message = f"{original}: cannot read its preview: {error}"
            _record(storage, media_id, original, reason, message)
            outcomes[media_id] = Outcome(media_id, False, 0.0, reason, message)
    if ready:
        try:
            session = session_for(settings)
            embeddings, logits = session.run(
                ["embedding", "logits"], {settings.input_name: np.stack(inputs)}
            )
        except Exception as error:  # onnxruntime raises its own untyped errors
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            message = f"model {settings.model_file} cannot run: {first}"
            for media_id, original in ready:
                _record(storage, media_id, original, "model", message)
                outcomes[media_id] = Outcome(media_id, False, 0.0, "model", message)
            ready = []
        for row, (media_id, original) in enumerate(ready):
            try:
                write_labels(
                    storage, media_id, settings.model_tag, labels_of(logits[row], settings)
                )
                # The embedding last: its presence says the photo is done.
                write_embedding(storage, media_id, settings.model_tag, embeddings[row])
            except (OSError, ValueError) as error:
                message = f"{original}: cannot store its embedding: {error}"
                _record(storage, media_id, original, "io", message)
                outcomes[media_id] = Outcome(media_id, False, 0.0, "io", message)
                continue
            storage.delete(media_id, failure_kind("embeddings"))
            outcomes[media_id] = Outcome(media_id, True, 0.0)
    seconds = (time.perf_counter() - started) / max(1, len(batch))
    for outcome in outcomes.values():
        outcome.seconds = seconds
    return [outcomes[media_id] for media_id, _ in batch]


# --- the run side -------------------------------------------------------------------------


@dataclass
class Plan:
    todo: list[tuple[str, Path]]
    skipped: int = 0  # embedded already
    failed_before: int = 0


def plan(
    items: Sequence[tuple[str, Path]],
    storage_dir: Path,
    done_kind: str,
    step: Step,
    retry_failed: bool,
) -> Plan:
    """The photos without a stored ``done_kind`` that have a preview to work from (the
    embeddings and faces steps both read previews, never originals).

    A photo without any preview is left out: its preview step failed and says why.
    """
    listing = StorageListing(storage_dir)
    failed_kind = failure_kind(step)
    result = Plan([])
    for media_id, path in sorted(items):
        stored = listing.kinds(media_id)
        if done_kind in stored:
            result.skipped += 1
        elif not any(_PREVIEW_KIND.fullmatch(kind) for kind in stored):
            continue
        elif failed_kind in stored and not retry_failed:
            result.failed_before += 1
        else:
            result.todo.append((media_id, path))
    return result


class _PoolLayout(Protocol):
    @property
    def workers(self) -> int: ...

    @property
    def threads(self) -> int: ...


def worker_count(settings: _PoolLayout, extract_workers: int) -> int:
    if settings.workers:
        return settings.workers
    cores = extract_workers or os.cpu_count() or 1
    return max(1, cores // settings.threads)


# A pool of n worker processes, as a context manager that shuts it down on the way out
# (the runner's also kills its workers at once on an interrupt).
PoolFactory = Callable[[int], AbstractContextManager[Executor]]


# Runs a model over a batch of (media id, original path) in a worker process; never
# raises for one file (see ``embed_batch``).
BatchWork = Callable[[Sequence[tuple[str, Path]], Any, Path], list[Outcome]]


def run_batches(
    todo: Sequence[tuple[str, Path]],
    settings: Any,
    storage_dir: Path,
    workers: int,
    pool_factory: PoolFactory,
    on_outcomes: Callable[[list[Outcome]], None],
    work: BatchWork = embed_batch,
    step: Step = "embeddings",
) -> None:
    """Runs ``work`` over ``todo`` in batches on ``workers`` processes, two batches each in flight.

    ``settings`` (picklable, with a ``batch_size``) goes to every call of ``work``. A
    worker that dies (a crash in a decoder or in the model) breaks the pool: the
    batches in flight are then tried again one photo at a time, each in a pool of its
    own, so the photo that kills its worker is recorded and the others are done.
    """
    storage = Storage(storage_dir)
    size = settings.batch_size
    queue = [list(todo[start : start + size]) for start in range(0, len(todo), size)]
    queue.reverse()
    suspects: list[tuple[str, Path]] = []
    while queue:
        in_flight: dict[Future[list[Outcome]], list[tuple[str, Path]]] = {}
        broken = False
        with pool_factory(workers) as pool:
            while (queue or in_flight) and not broken:
                while queue and len(in_flight) < workers * 2:
                    batch = queue.pop()
                    in_flight[pool.submit(work, batch, settings, storage_dir)] = batch
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    batch = in_flight.pop(future)
                    try:
                        on_outcomes(future.result())
                    except BrokenProcessPool:
                        suspects.extend(batch)
                        broken = True
            if broken:
                for batch in in_flight.values():
                    suspects.extend(batch)
                in_flight.clear()
        for media_id, path in suspects:
            with pool_factory(1) as alone:
                try:
                    on_outcomes(
                        alone.submit(work, [(media_id, path)], settings, storage_dir).result()
                    )
                except BrokenProcessPool:
                    message = f"{path}: the worker process died while working on it ({step})"
                    record_failure(
                        storage, WorkItem(media_id, path, "image"), step, "crash", message
                    )
                    on_outcomes([Outcome(media_id, False, 0.0, "crash", message)])
        suspects.clear()


@dataclass(frozen=True)
class RunContext:
    """What every model step of one run shares: the run's options and its reporting."""

    retry_failed: bool
    extract_workers: int
    summary: Summary
    progress_factory: Callable[[str, int], ProgressLike]
    pool_factory: PoolFactory


def run_preview_step(
    step: Step,
    settings: Any,
    unavailable: str,
    items: Sequence[tuple[str, Path]],
    done_kind: str,
    storage_dir: Path,
    run: RunContext,
    work: BatchWork,
) -> None:
    """A model step of a run over the previews the per-file steps made: plan, count what
    was done before, run ``work`` in batches, record each photo's outcome by its path.

    ``settings`` None: the step is off, or its model is missing (``unavailable`` says
    which, once per process).
    """
    if settings is None:
        if unavailable:
            warn_once(log, f"{step}: {unavailable}; the rest of the import goes on without them")
        return
    found = plan(items, storage_dir, done_kind, step, run.retry_failed)
    stats = run.summary.steps[step]
    stats.skipped += found.skipped
    stats.failed_before += found.failed_before
    if not found.todo:
        return
    progress = run.progress_factory(step, len(found.todo))
    paths = dict(items)

    def on_outcomes(outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            summary_line = StepOutcome(
                step, outcome.ok, outcome.seconds, outcome.reason, outcome.message
            )
            run.summary.add(summary_line, paths.get(outcome.media_id, ""))
        progress.advance(len(outcomes))

    try:
        run_batches(
            found.todo,
            settings,
            storage_dir,
            worker_count(settings, run.extract_workers),
            run.pool_factory,
            on_outcomes,
            work=work,
            step=step,
        )
    finally:
        progress.close()


def run_step(
    items: Sequence[WorkItem],
    settings: Settings,
    retry_failed: bool,
    extract_workers: int,
    summary: Summary,
    progress_factory: Callable[[str, int], ProgressLike],
    pool_factory: PoolFactory,
) -> None:
    """The ``embeddings`` step of a run, after the per-file steps made the previews."""
    config = settings.embeddings
    run_preview_step(
        "embeddings",
        config,
        settings.embeddings_unavailable,
        [(item.media_id, item.path) for item in items],
        embedding_kind(config.model_tag) if config else "",
        settings.storage_dir,
        RunContext(retry_failed, extract_workers, summary, progress_factory, pool_factory),
        embed_batch,
    )
