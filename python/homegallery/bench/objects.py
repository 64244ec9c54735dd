"""Objects per second: NanoDet-m on 800-pixel previews, fp32 against int8.

Runs the ``objects`` step's own code (:func:`homegallery.extract.objects.detect`) with
one onnxruntime session per variant, on one thread and on every core's thread, over
Debian darknet's demo photos when they are installed (else the shared test photos,
else generated pictures) scaled to 800 pixels. The int8 variant is timed on the same
pictures in the same run, so the ratio holds on a loaded machine where the times
alone do not.

Figures: ms to look for objects in one photo, fp32 and int8, and the ratio; and a
Raspberry Pi 4 estimate, as the faces benchmark makes it: the same share of the
peak multiply-add rate as here, at the Pi 4's peak, one worker per core.

    .venv/bin/python benches/bench_objects.py  (or: homegallery bench objects) [--quick]
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
from homegallery.bench.faces import _session
from homegallery.bench.report import Figure, Report, quick_stage_main
from homegallery.bench.suite import StageSkipped
from homegallery.config import load_config, parse_config
from homegallery.extract import objects
from homegallery.models import store
from homegallery.models.spec import NANODET_M
from homegallery.samples import shared_photos, write_sample_photo

DARKNET_PHOTOS = Path("/usr/share/darknet/data")


def _models(models_dir: Path | None) -> tuple[Path, Path | None]:
    if models_dir is None:
        config_file = xdg.default_config_file()
        config = (
            load_config(config_file) if config_file.is_file() else parse_config({}, config_file)
        )
        models_dir = config.extractor.models.path
    found = store.installed(NANODET_M, models_dir)
    if found is None:
        raise StageSkipped(
            f"nanodet-m is not installed in {models_dir}: "
            "run `homegallery models install --int8 nanodet-m`"
        )
    return found.model, found.int8_model


def _pictures(folder: Path, count: int) -> list[Any]:
    from PIL import Image  # lazy: the bench's help loads nothing heavy

    paths = sorted(DARKNET_PHOTOS.glob("*.jpg")) if DARKNET_PHOTOS.is_dir() else []
    photos = shared_photos()
    if photos:
        paths += sorted(photos.rglob("*.jpg"))
    paths = paths[:count]
    while len(paths) < count:
        path = folder / f"{len(paths)}.jpg"
        write_sample_photo(path, 1600, 1200, seed=len(paths))
        paths.append(path)
    pictures = []
    for path in paths:
        with Image.open(path) as image:
            picture = image.convert("RGB")
        picture.thumbnail((objects.TARGET_PREVIEW, objects.TARGET_PREVIEW))
        pictures.append(picture)
    return pictures


def _per_photo(session: Any, pictures: list[Any]) -> float:
    objects.detect(session, pictures[0], objects.STORED_SCORE)  # warm up
    started = time.perf_counter()
    for picture in pictures:
        objects.detect(session, picture, objects.STORED_SCORE)
    return (time.perf_counter() - started) / len(pictures)


def run(quick: bool, models_dir: Path | None = None) -> Report:
    fp32_file, int8_file = _models(models_dir)
    cores = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )
    report = Report("objects: NanoDet-m 416 on 800 px previews, fp32 and int8")
    with tempfile.TemporaryDirectory(prefix="hg-bench-objects-") as folder:
        pictures = _pictures(Path(folder), 4 if quick else 12)
        for threads in sorted({1, cores}):
            label = f"{threads} thread" + ("s" if threads > 1 else "")
            fp32 = _per_photo(_session(fp32_file, threads), pictures)
            report.add(Figure("objects", f"look for objects in a photo, fp32, {label}",
                              fp32 * 1000, "ms", higher_is_better=False))  # fmt: skip
            int8 = None
            if int8_file is not None:
                int8 = _per_photo(_session(int8_file, threads), pictures)
                report.add(Figure("objects", f"look for objects in a photo, int8, {label}",
                                  int8 * 1000, "ms", higher_is_better=False))  # fmt: skip
                report.add(Figure("objects", f"int8 speed-up over fp32, {label}",
                                  fp32 / int8, "×"))  # fmt: skip
            if threads == 1:
                _pi4_figures(report, fp32, int8)
    return report


def _pi4_figures(report: Report, fp32: float, int8: float | None) -> None:
    """Times on a Raspberry Pi 4 core at this CPU's share of its peak (none where this
    CPU's peak is unknown)."""
    rate_here = cpu_rate()
    if rate_here is None:
        return
    clock, per_cycle = rate_here
    slower = clock * per_cycle / (PI4_HZ * PI4_MACS_PER_CYCLE)
    for name, seconds in (("fp32", fp32), ("int8", int8)):
        if seconds is None:
            continue
        report.add(Figure("objects", f"Raspberry Pi 4 estimate: look for objects in a photo, "
                          f"{name}", seconds * slower * 1000, "ms", higher_is_better=False))  # fmt: skip
        report.add(Figure("objects", f"Raspberry Pi 4 estimate: photos per second, {name}, "
                          f"{PI4_CORES} workers", PI4_CORES / (seconds * slower), "photos/s"))  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    return quick_stage_main(__doc__, "4 pictures instead of 12", run, argv)
