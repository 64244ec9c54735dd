"""Previews per second per core: libvips against Pillow, on a generated 12 MP JPEG.

Both engines make the full set (1920, 1280, 800, 320, 128 px, quality 80) from the
same file, on one thread each (libvips' thread pool is set to one thread, the way the
extract workers run it), so the figure is per core. Target: all five sizes in
< 150 ms and ≥ 1.5x Pillow.

    .venv/bin/python benches/bench_preview.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pyvips

from homegallery.benchmark import Figure, Report, measure, print_report
from homegallery.extract.preview import PillowEngine, VipsEngine
from homegallery.samples import write_sample_photo

SIZES = [1920, 1280, 800, 320, 128]


def run(quick: bool) -> Report:
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    width, height = (2000, 1500) if quick else (4000, 3000)
    repeat = 2 if quick else 7
    report = Report(f"previews ({width}x{height} JPEG, {len(SIZES)} sizes, one core)")
    with tempfile.TemporaryDirectory() as folder:
        photo = write_sample_photo(Path(folder) / "photo.jpg", width, height, seed=7, quality=92)
        vips, pillow = VipsEngine(), PillowEngine()
        vips_time = measure("pyvips", lambda: vips.render(photo.path, SIZES, 80), repeat=repeat)
        pillow_time = measure("pillow", lambda: pillow.render(photo.path, SIZES, 80), repeat=repeat)
    megapixels = width * height / 1e6
    report.add(
        Figure(
            "previews",
            f"all sizes from {megapixels:.0f} MP, pyvips {pyvips.version(0)}.{pyvips.version(1)}",
            vips_time.best * 1000,
            "ms",
            "pillow",
            pillow_time.best * 1000,
            higher_is_better=False,
            target="< 150 ms, >= 1.5x",
        )
    )
    report.add(
        Figure(
            "previews",
            "photos per second per core",
            1 / vips_time.best,
            "photos/s",
            "pillow",
            1 / pillow_time.best,
        )
    )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small image, few repeats")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    print_report(run(args.quick), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
