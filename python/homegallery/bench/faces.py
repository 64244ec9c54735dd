"""Faces per second: YuNet on 1280-pixel previews (whole and tiles), SFace per face.

Runs the ``faces`` step's own code (:func:`homegallery.extract.faces.detect` and
:func:`~homegallery.extract.faces.describe`) with one onnxruntime session per model,
on one thread and on every core's thread, over the real test photos when they are
beside this checkout (``HOMEGALLERY_TEST_PHOTOS``) or else generated pictures scaled
to 1280 pixels. A description's cost does not depend on the face, so a picture
without faces is described at its centre.

Figures: ms to look for faces in one photo (seven detector runs on a 1280 × 960
preview), ms to describe one face, and what that makes of a photo with three faces;
and a Raspberry Pi 4 estimate, as the embeddings benchmark makes it: the same share
of the peak multiply-add rate as here, at the Pi 4's peak (four Cortex-A72 cores at
1.5 GHz, 8 fp32 multiply-adds per cycle each), one worker per core.

    .venv/bin/python benches/bench_faces.py  (or: homegallery bench faces) [--quick]
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from homegallery import xdg
from homegallery.bench.embeddings import PI4_CORES, PI4_HZ, PI4_MACS_PER_CYCLE, cpu_rate
from homegallery.bench.report import Figure, Report, quick_stage_main
from homegallery.bench.suite import StageSkipped
from homegallery.config import load_config, parse_config
from homegallery.extract import faces
from homegallery.ml.faces import TEMPLATE, Detection
from homegallery.models import store
from homegallery.models.spec import SFACE, YUNET
from homegallery.samples import shared_photos, write_sample_photo

FACES_PER_PHOTO = 3


def _models(models_dir: Path | None) -> tuple[Path, Path]:
    if models_dir is None:
        config_file = xdg.default_config_file()
        config = (
            load_config(config_file) if config_file.is_file() else parse_config({}, config_file)
        )
        models_dir = config.extractor.models.path
    found = [store.installed(spec, models_dir) for spec in (YUNET, SFACE)]
    if found[0] is None or found[1] is None:
        raise StageSkipped(
            f"yunet and sface are not installed in {models_dir}: "
            "run `homegallery models install yunet sface`"
        )
    return found[0].model, found[1].model


def _pictures(folder: Path, count: int) -> list[Any]:
    from PIL import Image  # lazy: the bench's help loads nothing heavy

    photos = shared_photos()
    paths = sorted(photos.rglob("*.jpg"))[:count] if photos else []
    while len(paths) < count:
        path = folder / f"{len(paths)}.jpg"
        write_sample_photo(path, 1600, 1200, seed=len(paths))
        paths.append(path)
    pictures = []
    for path in paths:
        with Image.open(path) as image:
            picture = image.convert("RGB")
        picture.thumbnail((faces.TARGET_PREVIEW, faces.TARGET_PREVIEW))
        pictures.append(picture)
    return pictures


def _session(model: Path, threads: int) -> Any:
    import onnxruntime as ort  # lazy: as above

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


def _centre_face(picture: Any) -> Detection:
    """The template's landmarks scaled to a 200-pixel face at the picture's centre."""
    scale = 200 / 112
    left, top = picture.width / 2 - 100, picture.height / 2 - 100
    landmarks = tuple((left + x * scale, top + y * scale) for x, y in TEMPLATE.tolist())
    return Detection((left, top, 200.0, 200.0), landmarks, 1.0)


def run(quick: bool, models_dir: Path | None = None) -> Report:
    detector_file, recogniser_file = _models(models_dir)
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
    report = Report("faces: YuNet on 1280 px previews (whole + tiles), SFace per face")
    with tempfile.TemporaryDirectory(prefix="hg-bench-faces-") as folder:
        pictures = _pictures(Path(folder), 4 if quick else 12)
        for threads in sorted({1, cores}):
            label = f"{threads} thread" + ("s" if threads > 1 else "")
            detector = _session(detector_file, threads)
            recogniser = _session(recogniser_file, threads)
            faces.detect(detector, pictures[0], 0.7)  # warm up
            started = time.perf_counter()
            found = [faces.detect(detector, picture, 0.7) for picture in pictures]
            detect = (time.perf_counter() - started) / len(pictures)
            chosen = [
                (picture, detection)
                for picture, detections in zip(pictures, found, strict=True)
                for detection in detections
            ] or [(picture, _centre_face(picture)) for picture in pictures]
            started = time.perf_counter()
            for picture, detection in chosen:
                faces.describe(recogniser, picture, detection)
            describe = (time.perf_counter() - started) / len(chosen)
            report.add(Figure("faces", f"look for faces in a photo, {label}", detect * 1000,
                              "ms", higher_is_better=False))  # fmt: skip
            report.add(Figure("faces", f"describe a face, {label}", describe * 1000, "ms",
                              higher_is_better=False))  # fmt: skip
            per_photo = detect + FACES_PER_PHOTO * describe
            report.add(Figure("faces", f"photos with {FACES_PER_PHOTO} faces per second, {label}",
                              1 / per_photo, "photos/s"))  # fmt: skip
            if threads == 1:
                _pi4_figures(report, detect, describe)
    return report


def _pi4_figures(report: Report, detect: float, describe: float) -> None:
    """Times on a Raspberry Pi 4 core at this CPU's share of its peak (none where this
    CPU's peak is unknown)."""
    rate_here = cpu_rate()
    if rate_here is None:
        return
    clock, per_cycle = rate_here
    slower = clock * per_cycle / (PI4_HZ * PI4_MACS_PER_CYCLE)
    report.add(Figure("faces", "Raspberry Pi 4 estimate: look for faces in a photo",
                      detect * slower * 1000, "ms", higher_is_better=False))  # fmt: skip
    report.add(Figure("faces", "Raspberry Pi 4 estimate: describe a face",
                      describe * slower * 1000, "ms", higher_is_better=False))  # fmt: skip
    per_photo = (detect + FACES_PER_PHOTO * describe) * slower
    report.add(Figure("faces", f"Raspberry Pi 4 estimate: photos with {FACES_PER_PHOTO} faces "
                      f"per second, {PI4_CORES} workers", PI4_CORES / per_photo, "photos/s"))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    return quick_stage_main(__doc__, "4 pictures instead of 12", run, argv)
