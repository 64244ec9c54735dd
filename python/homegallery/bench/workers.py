"""Previews per second by worker count: does this machine gain from more processes?

Each worker is a process rendering whole photos with one libvips thread, the way the
extract stage runs; the figure for N workers against one worker tells how far the
machine scales (a Pi 4 with slow memory scales less than its core count suggests).
"""

from __future__ import annotations

import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from homegallery.bench.report import Figure, Report
from homegallery.progress import counted
from homegallery.samples import write_sample_photo

SIZES = [1920, 1280, 800, 320, 128]


def _render(path: str) -> int:
    import pyvips

    from homegallery.extract.preview import VipsEngine  # lazy: loads in the worker process

    pyvips.concurrency_set(1)
    return len(VipsEngine().render(Path(path), SIZES, 80))


def _throughput(paths: list[str], workers: int) -> float:
    # spawn, not fork: a fork of a process whose libvips threads hold locks can hang.
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        list(pool.map(_render, paths[:workers]))  # warm the processes up
        start = time.perf_counter()
        list(pool.map(_render, paths))
        return len(paths) / (time.perf_counter() - start)


def worker_counts() -> list[int]:
    cores = os.cpu_count() or 1
    counts = sorted({1, max(1, cores // 2), cores})
    return counts


def run(quick: bool) -> Report:
    report = Report("previews by worker count")
    width, height = (2000, 1500) if quick else (4000, 3000)
    with tempfile.TemporaryDirectory(prefix="hg-bench-workers-") as folder:
        count = 8 if quick else 24
        paths = [
            str(write_sample_photo(Path(folder) / f"p{n}.jpg", width, height, seed=n).path)
            for n in range(count)
        ]
        single = _throughput(paths, 1)
        for workers in worker_counts():
            rate = single if workers == 1 else _throughput(paths, workers)
            report.add(
                Figure(
                    "workers",
                    f"previews, {counted(workers, 'worker')}, {width * height / 1e6:.0f} MP",
                    rate,
                    "photos/s",
                    "1 worker",
                    single,
                )
            )
    return report
