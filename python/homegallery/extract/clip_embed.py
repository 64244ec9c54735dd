"""CLIP image vectors in the ``embeddings`` step, beside the default model's embedding.

When ``extractor.models.clip`` names a model, the step runs its image half over the
same previews, in the same pool machinery and batches (:func:`embed.run_preview_step`),
and stores each photo's L2-normalised vector as ``embedding-clip-<hash>.npy`` (the
hash of the image model file, :func:`homegallery.ml.clip.model_tag`): written
atomically, planned by what is stored, so an interrupted run goes on where it
stopped and another model file embeds every photo anew.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homegallery.extract.embed import (
    Outcome,
    PoolFactory,
    RunContext,
    load_input,
    preview_sizes_stored,
    run_preview_step,
)
from homegallery.extract.schema import embedding_kind, failure_kind, preview_kind, write_embedding
from homegallery.extract.worker import WorkItem, record_failure
from homegallery.ml.clip import (
    ClipImageSettings,
    ClipModelError,
    image_input,
    model_tag,
    run_model,
    session,
)
from homegallery.ml.sessions import ProcessSessions
from homegallery.storage import Storage

if TYPE_CHECKING:
    from collections.abc import Callable

    from homegallery.config import Models
    from homegallery.extract.runner import ProgressLike, Summary
    from homegallery.extract.worker import Settings

_sessions: ProcessSessions[Any] = ProcessSessions()  # this worker process's session


def from_config(models: Models) -> tuple[ClipImageSettings | None, str]:
    """The image half's settings, or why it cannot run ("" when no CLIP model is named)."""
    clip = models.clip
    if not clip.enabled:
        return None, ""
    try:
        tag = model_tag(Path(clip.image))
    except ClipModelError as error:
        return None, str(error)
    mean = (clip.mean[0], clip.mean[1], clip.mean[2])
    std = (clip.std[0], clip.std[1], clip.std[2])
    return ClipImageSettings(
        Path(clip.image), tag, clip.input_size, mean, std,
        models.threads, models.batch_size, models.workers,
    ), ""  # fmt: skip


def _session_for(settings: ClipImageSettings) -> Any:
    return _sessions.get(
        (str(settings.model_file), settings.threads),
        lambda: session(settings.model_file, settings.threads),
    )


def clip_batch(
    batch: Sequence[tuple[str, Path]], settings: ClipImageSettings, storage_dir: Path
) -> list[Outcome]:
    """CLIP vectors of a batch of (media id, original path); never raises for a file."""
    import numpy as np

    started = time.perf_counter()
    storage = Storage(storage_dir)
    outcomes: dict[str, Outcome] = {}
    inputs: list[Any] = []
    ready: list[tuple[str, Path]] = []

    def failed(media_id: str, original: Path, reason: str, message: str) -> None:
        item = WorkItem(media_id, original, "image")
        record_failure(storage, item, "embeddings", reason, message)
        outcomes[media_id] = Outcome(media_id, False, 0.0, reason, message)

    for media_id, original in batch:
        try:
            sizes = preview_sizes_stored(storage.kinds(media_id))
            paths = [storage.path(media_id, preview_kind(size)) for size in sizes]
            inputs.append(image_input(load_input(paths), settings))
            ready.append((media_id, original))
        except Exception as error:  # a broken preview: this photo fails, the batch goes on
            reason = "missing" if isinstance(error, FileNotFoundError) else "decode"
            failed(media_id, original, reason, f"{original}: cannot read its preview: {error}")
    if ready:
        try:
            vectors = run_model(_session_for(settings), np.stack(inputs))
        except Exception as error:  # onnxruntime raises its own untyped errors
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            message = f"CLIP model {settings.model_file} cannot run: {first}"
            for media_id, original in ready:
                failed(media_id, original, "model", message)
            ready = []
        for row, (media_id, original) in enumerate(ready):
            try:
                write_embedding(storage, media_id, settings.model_tag, vectors[row])
            except (OSError, ValueError) as error:
                failed(
                    media_id, original, "io", f"{original}: cannot store its CLIP vector: {error}"
                )
                continue
            storage.delete(media_id, failure_kind("embeddings"))
            outcomes[media_id] = Outcome(media_id, True, 0.0)
    seconds = (time.perf_counter() - started) / max(1, len(batch))
    for outcome in outcomes.values():
        outcome.seconds = seconds
    return [outcomes[media_id] for media_id, _ in batch]


def run_step(
    items: Sequence[WorkItem],
    settings: Settings,
    retry_failed: bool,
    extract_workers: int,
    summary: Summary,
    progress_factory: Callable[[str, int], ProgressLike],
    pool_factory: PoolFactory,
) -> None:
    """CLIP's part of the ``embeddings`` step of a run (nothing without a CLIP model)."""
    clip = settings.clip
    run_preview_step(
        "embeddings",
        clip,
        settings.clip_unavailable,
        [(item.media_id, item.path) for item in items],
        embedding_kind(clip.model_tag) if clip else "",
        settings.storage_dir,
        RunContext(retry_failed, extract_workers, summary, progress_factory, pool_factory),
        clip_batch,
    )
