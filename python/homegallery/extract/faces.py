"""The ``faces`` step: every face in a photo, its landmarks and its SFace descriptor.

Like the ``embeddings`` step it runs after the per-file steps, on previews, in a pool
of its own with one onnxruntime session per model and worker process
(:func:`homegallery.extract.embed.run_batches`).

Which preview, and why tiles: YuNet sees one fixed 640 × 640 input and finds faces
from about 10 pixels there, so a whole photo scaled to 640 loses faces narrower than
1.6% of its width: the back row of a group shot. The step therefore reads the
smallest preview whose long side reaches 1280 (else the largest there is), looks at
it once whole (scaled to 640: large faces) and, when it is larger than 800, again
in 640-pixel tiles at its own resolution that overlap by 160 pixels (faces down to
0.8% of the width; a 1280 × 960 preview makes 3 × 2 tiles, seven detector runs in
all). A face cut by a tile's inner edge is dropped (the overlap or the whole view
has it), and the views' faces are merged by non-maximum suppression. The faces are
aligned from the same preview, so a face of 40 pixels there is warped from 40
pixels, not from 20.

Each photo gets one file (see :class:`homegallery.extract.schema.Faces`), written
atomically; a photo without faces gets one with an empty list, so it is not looked
at again. A missing model is said once, with the command that installs it.
"""

from __future__ import annotations

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
    Faces,
    StoredFace,
    faces_kind,
    faces_models_tag,
    failure_kind,
    preview_kind,
    write_faces,
)
from homegallery.extract.worker import WorkItem, record_failure
from homegallery.ml import faces as face_math
from homegallery.ml.sessions import ProcessSessions, cpu_session
from homegallery.models.store import ModelNotInstalled, model_path, task_model
from homegallery.storage import Storage

if TYPE_CHECKING:
    from PIL import Image

    from homegallery.config import Models
    from homegallery.extract.runner import ProgressLike, Summary
    from homegallery.extract.worker import Settings

log = logging.getLogger("homegallery.extract")

TARGET_PREVIEW = 1280  # long side of the preview faces are looked for in
TILE = face_math.INPUT_SIZE
TILE_OVERLAP = 160
TILE_FROM = 800  # previews with a longer side than this are also seen in tiles
_EDGE = 2.0  # pixels: a face this near a tile's inner edge was cut by it


@dataclass(frozen=True)
class FaceSettings:
    """What the face workers need (small, picklable)."""

    detector_file: Path
    recogniser_file: Path
    detector: str  # model tags: name and version
    recogniser: str
    min_score: float = 0.7
    threads: int = 1
    batch_size: int = 4  # photos per task: each is seven detector runs and a few faces
    workers: int = 0

    @property
    def models_tag(self) -> str:
        """Names the stored file: new models (or versions) look for faces anew."""
        return faces_models_tag(self.detector, self.recogniser)


def from_config(models: Models) -> tuple[FaceSettings | None, str]:
    """The step's settings from ``extractor.models``, or why it cannot run ("" when off)."""
    detector = task_model("face-detection", models.choices)
    recogniser = task_model("face-recognition", models.choices)
    if detector is None or recogniser is None:
        return None, ""
    try:
        detector_file = model_path(detector, models.path)
        recogniser_file = model_path(recogniser, models.path)
    except ModelNotInstalled as error:
        return None, str(error)
    return (
        FaceSettings(
            detector_file=detector_file,
            recogniser_file=recogniser_file,
            detector=detector.folder_name,
            recogniser=recogniser.folder_name,
            min_score=models.face_score,
            threads=models.threads,
            workers=models.workers,
        ),
        "",
    )


# --- finding faces in one picture ---------------------------------------------------------


def tile_starts(length: int) -> list[int]:
    """Where the tiles along one side of ``length`` pixels start, evenly spread."""
    if length <= TILE:
        return [0]
    count = math.ceil((length - TILE_OVERLAP) / (TILE - TILE_OVERLAP))
    return [round(index * (length - TILE) / (count - 1)) for index in range(count)]


def _cut_by_tile(
    detection: face_math.Detection, box: tuple[int, int, int, int], size: tuple[int, int]
) -> bool:
    """Whether the face touches an edge of the tile that is not an edge of the picture."""
    left, top, right, bottom = box
    x, y, width, height = detection.box
    return (
        (left > 0 and x <= left + _EDGE)
        or (top > 0 and y <= top + _EDGE)
        or (right < size[0] and x + width >= right - _EDGE)
        or (bottom < size[1] and y + height >= bottom - _EDGE)
    )


def detect(session: Any, picture: Image.Image, min_score: float) -> list[face_math.Detection]:
    """The faces in ``picture`` (RGB), in its pixels, best first: the whole, then tiles."""
    from homegallery.models.preprocess import yunet_input  # lazy: numpy and Pillow

    names = [output.name for output in session.get_outputs()]

    def run(view: Image.Image) -> list[face_math.Detection]:
        tensor, factor = yunet_input(view)
        outputs = dict(zip(names, session.run(None, {"input": tensor[None]}), strict=True))
        found = face_math.decode(outputs, min_score)
        return [detection.moved(0.0, 0.0, 1.0 / factor) for detection in found]

    found = run(picture)
    if max(picture.size) > TILE_FROM:
        for top in tile_starts(picture.height):
            for left in tile_starts(picture.width):
                box = (left, top, min(left + TILE, picture.width), min(top + TILE, picture.height))
                for detection in run(picture.crop(box)):
                    placed = detection.moved(float(left), float(top), 1.0)
                    if not _cut_by_tile(placed, box, picture.size):
                        found.append(placed)
    return face_math.nms(found)


def describe(session: Any, picture: Image.Image, detection: face_math.Detection) -> list[float]:
    """The face's SFace descriptor, L2-normalised, from ``picture`` (RGB input)."""
    from homegallery.models.preprocess import plain_input  # lazy: numpy and Pillow

    aligned = face_math.align(picture, detection.landmarks)
    (features,) = session.run(["fc1"], {"data": plain_input(aligned, "RGB", 0.0, 1.0)[None]})
    return [round(float(value), 6) for value in face_math.normalise(features)]


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def stored_face(
    detection: face_math.Detection, descriptor: list[float], size: tuple[int, int]
) -> StoredFace:
    """A face in relative coordinates (0..1 of the picture's width and height)."""
    width, height = size
    left, top, box_width, box_height = detection.box
    x, y = _clamp(left / width), _clamp(top / height)
    return StoredFace(
        x=round(x, 5),
        y=round(y, 5),
        width=round(_clamp((left + box_width) / width) - x, 5),
        height=round(_clamp((top + box_height) / height) - y, 5),
        score=round(detection.score, 4),
        landmarks=[(round(px / width, 5), round(py / height, 5)) for px, py in detection.landmarks],
        descriptor=descriptor,
    )


def find_faces(
    sessions: tuple[Any, Any], picture: Image.Image, settings: FaceSettings, preview: int
) -> Faces:
    """Every face of one picture, detected, aligned and described."""
    rgb = picture.convert("RGB") if picture.mode != "RGB" else picture
    detector, recogniser = sessions
    found = detect(detector, rgb, settings.min_score)
    return Faces(
        detector=settings.detector,
        recogniser=settings.recogniser,
        preview=preview,
        faces=[
            stored_face(detection, describe(recogniser, rgb, detection), rgb.size)
            for detection in found
        ],
    )


def preview_for_faces(sizes: Sequence[int]) -> int:
    """The smallest stored preview size reaching :data:`TARGET_PREVIEW`, else the largest."""
    if not sizes:
        raise FileNotFoundError("no preview to look for faces in")
    return next((size for size in sizes if size >= TARGET_PREVIEW), max(sizes))


# --- the worker side ----------------------------------------------------------------------

_sessions: ProcessSessions[tuple[Any, Any]] = ProcessSessions()  # this worker process's


def sessions_for(settings: FaceSettings) -> tuple[Any, Any]:
    """The detector's and the recogniser's sessions of this worker process, made once."""
    return _sessions.get(
        (str(settings.detector_file), str(settings.recogniser_file), settings.threads),
        lambda: (
            cpu_session(settings.detector_file, settings.threads),
            cpu_session(settings.recogniser_file, settings.threads),
        ),
    )


def _record(storage: Storage, media_id: str, path: Path, reason: str, message: str) -> Outcome:
    record_failure(storage, WorkItem(media_id, path, "image"), "faces", reason, message)
    return Outcome(media_id, False, 0.0, reason, message)


def faces_batch(
    batch: Sequence[tuple[str, Path]], settings: FaceSettings, storage_dir: Path
) -> list[Outcome]:
    """Finds the faces of a batch of (media id, original path); never raises for a file."""
    from PIL import Image

    storage = Storage(storage_dir)
    outcomes: list[Outcome] = []
    for media_id, original in batch:
        started = time.perf_counter()
        try:
            size = preview_for_faces(preview_sizes_stored(storage.kinds(media_id)))
            with Image.open(storage.path(media_id, preview_kind(size))) as image:
                picture = image.convert("RGB")
        except Exception as error:  # a broken preview fails this photo only
            reason = "missing" if isinstance(error, FileNotFoundError) else "decode"
            outcomes.append(
                _record(
                    storage,
                    media_id,
                    original,
                    reason,
                    f"{original}: cannot read its preview: {error}",
                )
            )
            continue
        try:
            found = find_faces(sessions_for(settings), picture, settings, size)
        except Exception as error:  # onnxruntime raises its own untyped errors
            first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            outcomes.append(
                _record(storage, media_id, original, "model", f"face models cannot run: {first}")
            )
            continue
        try:
            write_faces(storage, media_id, settings.models_tag, found)
        except OSError as error:
            outcomes.append(
                _record(
                    storage,
                    media_id,
                    original,
                    "io",
                    f"{original}: cannot store its faces: {error}",
                )
            )
            continue
        storage.delete(media_id, failure_kind("faces"))
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
    """The ``faces`` step of a run, after the per-file steps made the previews."""
    config = settings.faces
    run_preview_step(
        "faces",
        config,
        settings.faces_unavailable,
        [(item.media_id, item.path) for item in items if item.kind != "video"],
        faces_kind(config.models_tag) if config else "",
        settings.storage_dir,
        RunContext(retry_failed, extract_workers, summary, progress_factory, pool_factory),
        faces_batch,
    )
