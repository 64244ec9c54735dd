"""The ``objects`` step: the COCO objects in a photo (``dog``, ``bicycle``, ``car``) with boxes.

Like the ``faces`` step it runs after the per-file steps, on previews, in a pool of
its own with one onnxruntime session per worker process
(:func:`homegallery.extract.embed.run_preview_step`).

NanoDet-m sees one 416 × 416 input: the 800 preview (the smallest stored preview
reaching 800 pixels, else the largest there is) is letterboxed into it, decoded by
libjpeg at half scale when that still covers 416. A photo smaller than 800 pixels
has no 800 preview, only the 320 one (previews are never larger than the photo),
and at 320 pixels the detector lost the dog of darknet's 768 × 576 dog photo; such
a photo is read itself (JPEG, PNG or WebP of at most :data:`ORIGINAL_PIXELS`, opened
inside its source like every read of an original, turned upright), and the preview
serves when that fails. Objects are decoded per stride and merged by NMS per class
(:mod:`homegallery.ml.objects`).

Every object at least :data:`STORED_SCORE` sure is stored with its score, so the
build can keep those above the config's ``objectScore`` (and a search rank by the
score) without looking at the photo again. Each photo gets one file (see
:class:`homegallery.extract.schema.Objects`), written atomically; a photo without
objects gets one with an empty list, so it is not looked at again.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from homegallery.extract.embed import (
    Outcome,
    PoolFactory,
    RunContext,
    preview_sizes_stored,
    run_preview_step,
)
from homegallery.extract.schema import (
    Objects,
    StoredObject,
    failure_kind,
    objects_kind,
    preview_kind,
    write_objects,
)
from homegallery.extract.worker import WorkItem, record_failure
from homegallery.ml.sessions import ProcessSessions, cpu_session
from homegallery.models.store import ModelNotInstalled, model_path, task_model
from homegallery.storage import Storage
from homegallery.within import open_within

if TYPE_CHECKING:
    from PIL import Image

    from homegallery.config import Models
    from homegallery.extract.runner import ProgressLike, Summary
    from homegallery.extract.worker import Settings
    from homegallery.ml.objects import Detection

log = logging.getLogger("homegallery.extract")

TARGET_PREVIEW = 800  # long side of the preview objects are looked for in
ORIGINAL_PIXELS = 2_000_000  # a photo read itself when its previews are too small
_ORIGINAL_FORMATS = ("JPEG", "PNG", "WEBP")
STORED_SCORE = 0.25  # objects stored down to this score; the build applies objectScore


@dataclass(frozen=True)
class ObjectSettings:
    """What the object workers need (small, picklable)."""

    model_file: Path
    model_tag: str  # name and version: names the stored file
    threads: int = 1
    batch_size: int = 8  # photos per task
    workers: int = 0
    # The real folders of every source: a small photo's original is read only inside them
    # (empty: the paths were named directly and are trusted as given).
    roots: tuple[str, ...] = ()


def from_config(models: Models) -> tuple[ObjectSettings | None, str]:
    """The step's settings from ``extractor.models``, or why it cannot run ("" when off)."""
    spec = task_model("objects", models.choices)
    if spec is None:
        return None, ""
    try:
        path = model_path(spec, models.path, "int8" if models.precision == "int8" else "fp32")
    except ModelNotInstalled as error:
        return None, str(error)
    return (
        ObjectSettings(
            model_file=path,
            model_tag=spec.folder_name,
            threads=models.threads,
            workers=models.workers,
        ),
        "",
    )


def preview_for_objects(sizes: Sequence[int]) -> int:
    """The smallest stored preview size reaching :data:`TARGET_PREVIEW`, else the largest."""
    if not sizes:
        raise FileNotFoundError("no preview to look for objects in")
    return next((size for size in sizes if size >= TARGET_PREVIEW), max(sizes))


def load_preview(path: Path) -> Image.Image:
    """The preview as RGB, decoded at the smallest JPEG scale still covering 416 pixels."""
    from PIL import Image

    from homegallery.models.preprocess import NANODET_SIZE  # lazy: numpy

    with Image.open(path) as image:
        width, height = image.size
        longest = max(width, height)
        if longest > NANODET_SIZE:
            factor = NANODET_SIZE / longest
            image.draft("RGB", (math.ceil(width * factor), math.ceil(height * factor)))
        picture: Image.Image = image.convert("RGB")
        return picture


def load_original(path: Path, roots: tuple[str, ...]) -> Image.Image:
    """A small photo itself, upright, as RGB; raises when it is not one Pillow reads here."""
    from PIL import Image, ImageOps

    with open_within(path, roots or None) as handle, Image.open(handle) as image:
        if image.format not in _ORIGINAL_FORMATS:
            raise ValueError(f"{image.format} is read through its preview")
        if image.width * image.height > ORIGINAL_PIXELS:
            raise ValueError("too large to read itself")
        picture: Image.Image = ImageOps.exif_transpose(image).convert("RGB")
        return picture


def load_picture(
    storage: Storage, media_id: str, original: Path, roots: tuple[str, ...]
) -> tuple[Image.Image, int]:
    """What to look for objects in, and its long side: the preview, or a small photo itself."""
    from homegallery.models.preprocess import NANODET_SIZE  # lazy: numpy

    size = preview_for_objects(preview_sizes_stored(storage.kinds(media_id)))
    if size < NANODET_SIZE:
        try:
            picture = load_original(original, roots)
        except Exception:  # any failure: the preview is still there
            log.debug("%s: read through its %d preview", original, size)
        else:
            if max(picture.size) > size:
                return picture, max(picture.size)
    return load_preview(storage.path(media_id, preview_kind(size))), size


def detect(session: Any, picture: Image.Image, min_score: float) -> list[Detection]:
    """The objects in ``picture``, best first, with boxes in its pixels."""
    from homegallery.ml import objects as object_math  # lazy: numpy
    from homegallery.models.preprocess import nanodet_input  # lazy: numpy and Pillow

    tensor, factor = nanodet_input(picture)
    names = [output.name for output in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, {"input": tensor[None]}), strict=True))
    found = object_math.nms(object_math.decode(outputs, min_score))
    return [
        object_math.Detection(
            detection.class_id,
            detection.score,
            (
                detection.box[0] / factor,
                detection.box[1] / factor,
                detection.box[2] / factor,
                detection.box[3] / factor,
            ),
        )
        for detection in found
    ]


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def stored_object(detection: Detection, size: tuple[int, int]) -> StoredObject:
    """An object with its box relative to the picture (0..1 of its width and height)."""
    width, height = size
    left, top, right, bottom = detection.box
    x, y = _clamp(left / width), _clamp(top / height)
    return StoredObject(
        class_=detection.name,
        score=round(detection.score, 4),
        x=round(x, 5),
        y=round(y, 5),
        width=round(_clamp(right / width) - x, 5),
        height=round(_clamp(bottom / height) - y, 5),
    )


def find_objects(session: Any, picture: Image.Image, model_tag: str, preview: int) -> Objects:
    """Every object of one picture at least :data:`STORED_SCORE` sure, as stored."""
    found = detect(session, picture, STORED_SCORE)
    return Objects(
        detector=model_tag,
        preview=preview,
        objects=[stored_object(detection, picture.size) for detection in found],
    )


# --- the worker side ----------------------------------------------------------------------

_sessions: ProcessSessions[Any] = ProcessSessions()  # this worker process's session


def session_for(settings: ObjectSettings) -> Any:
    """The detector's session of this worker process, made once."""
    return _sessions.get(
        (str(settings.model_file), settings.threads),
        lambda: cpu_session(settings.model_file, settings.threads),
    )


def _record(storage: Storage, media_id: str, path: Path, reason: str, message: str) -> Outcome:
    record_failure(storage, WorkItem(media_id, path, "image"), "objects", reason, message)
    return Outcome(media_id, False, 0.0, reason, message)


def objects_batch(
    batch: Sequence[tuple[str, Path]], settings: ObjectSettings, storage_dir: Path
) -> list[Outcome]:
    """Finds the objects of a batch of (media id, original path); never raises for a file."""
    storage = Storage(storage_dir)
    outcomes: list[Outcome] = []
    for media_id, original in batch:
        started = time.perf_counter()
        try:
            picture, size = load_picture(storage, media_id, original, settings.roots)
        except Exception as error:  # a broken preview fails this photo only
            reason = "missing" if isinstance(error, FileNotFoundError) else "decode"
            message = f"{original}: cannot read its preview: {error}"
            outcomes.append(_record(storage, media_id, original, reason, message))
            continue
        try:
            found = find_objects(session_for(settings), picture, settings.model_tag, size)
        except Exception as error:  # onnxruntime raises its own untyped errors
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            message = f"object model {settings.model_file} cannot run: {first}"
            outcomes.append(_record(storage, media_id, original, "model", message))
            continue
        try:
            write_objects(storage, media_id, settings.model_tag, found)
        except OSError as error:
            message = f"{original}: cannot store its objects: {error}"
            outcomes.append(_record(storage, media_id, original, "io", message))
            continue
        storage.delete(media_id, failure_kind("objects"))
        outcomes.append(Outcome(media_id, True, time.perf_counter() - started))
    return outcomes


# --- the run side -------------------------------------------------------------------------


def run_step(
    items: Sequence[WorkItem],
    settings: Settings,
    retry_failed: bool,
    extract_workers: int,
    summary: Summary,
    progress_factory: Callable[[str, int], ProgressLike],
    pool_factory: PoolFactory,
) -> None:
    """The ``objects`` step of a run, after the per-file steps made the previews."""
    config = settings.objects
    if config is not None:
        roots = tuple(sorted({root for item in items for root in item.roots}))
        config = dataclasses.replace(config, roots=roots)
    run_preview_step(
        "objects",
        config,
        settings.objects_unavailable,
        [(item.media_id, item.path) for item in items if item.kind != "video"],
        objects_kind(config.model_tag) if config else "",
        settings.storage_dir,
        RunContext(retry_failed, extract_workers, summary, progress_factory, pool_factory),
        objects_batch,
    )
