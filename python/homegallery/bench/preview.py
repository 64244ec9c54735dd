"""Previews per second per core, their bytes and their quality, on a generated 12 MP JPEG.

Both engines make the full set (1920, 1280, 800, 320, 128 px, quality 80) from the
same file, on one thread each (libvips' thread pool is set to one thread, the way the
extract workers run it), so the figure is per core. Target: all five sizes in
< 150 ms and ≥ 1.5x Pillow.

The default JPEG settings (``extractor.image.previewJpeg``) are set against a plain
baseline JPEG (standard Huffman tables, sequential) of the same quality: the bytes of
all previews per MB of the original, their SSIM against the original downscaled with
Lanczos-3 (see ``homegallery.bench.quality``) and the time, so the storage a setting
saves can be weighed against what it costs on this machine.

    .venv/bin/python benches/bench_preview.py  (or: homegallery bench) [--quick] [--json FILE]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pyvips

from homegallery.bench.homegallery_model import chained_previews
from homegallery.bench.quality import decoded_original, preview_ssim
from homegallery.bench.report import Figure, Report, measure, quick_stage_main
from homegallery.config import PreviewJpeg
from homegallery.extract.preview import PillowEngine, PreviewError, VipsEngine
from homegallery.samples import write_sample_photo

SIZES = [1920, 1280, 800, 320, 128]
QUALITY = 80
# What libvips writes without options: sequential, standard Huffman tables.
PLAIN_JPEG = PreviewJpeg(
    progressive=False,
    optimize_coding=False,
    trellis_quant=False,
    overshoot_deringing=False,
    optimize_scans=False,
    quant_table=0,
    subsample="auto",
)


def _cpu_in_turns(functions: list[Callable[[], object]], repeat: int) -> list[float]:
    """Best CPU seconds of each function, run in turns after one warm-up each.

    Two settings whose times differ by a few per cent cannot be told apart by wall
    time on a machine doing other work; CPU time in turns can (libvips runs on one
    thread here).
    """
    for function in functions:
        function()
    best = [float("inf")] * len(functions)
    for _ in range(repeat):
        for number, function in enumerate(functions):
            started = time.process_time()
            function()
            best[number] = min(best[number], time.process_time() - started)
    return best


def storage_and_quality(
    path: Path, jpeg: PreviewJpeg | None, quality: int = QUALITY
) -> tuple[float, float]:
    """(kB of all previews per MB of the original, their SSIM weighted by pixels);
    ``jpeg`` None: HomeGallery's previews (see ``homegallery.bench.homegallery_model``)."""
    original = decoded_original(path)
    if jpeg is None:
        previews = chained_previews(path, quality, SIZES)
    else:
        previews = VipsEngine(jpeg=jpeg).render(path, SIZES, quality)
    total = pixels = 0
    weighted = 0.0
    for _, data in previews:
        _, combined, count = preview_ssim(original, data)
        total += len(data)
        weighted += combined * count
        pixels += count
    return total / 1e3 / (path.stat().st_size / 1e6), weighted / pixels


def _largest_photo(data: Path) -> tuple[Path, int, int]:
    """The user's largest JPEG that decodes: the photo that costs most is what matters."""
    candidates = [p for p in data.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg")]
    for path in sorted(candidates, key=lambda candidate: -candidate.stat().st_size):
        try:
            VipsEngine().render(path, SIZES[-1:], QUALITY)
        except PreviewError:
            continue  # broken files are the extract stage's business, not a speed figure
        image = pyvips.Image.new_from_file(str(path))
        return path, image.width, image.height
    raise ValueError(f"{data}: no decodable JPEG photos to measure")


def run(quick: bool, data: Path | None = None) -> Report:
    """``data``: measure on the largest JPEG of the user's folder instead."""
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    width, height = (2000, 1500) if quick else (4000, 3000)
    repeat = 2 if quick else 7
    with tempfile.TemporaryDirectory() as folder:
        if data is not None:
            path, width, height = _largest_photo(data)
        else:
            path = write_sample_photo(
                Path(folder) / "photo.jpg", width, height, seed=7, quality=92
            ).path
        vips, pillow, plain = VipsEngine(), PillowEngine(), VipsEngine(jpeg=PLAIN_JPEG)
        vips_time = measure("pyvips", lambda: vips.render(path, SIZES, QUALITY), repeat=repeat)
        pillow_time = measure("pillow", lambda: pillow.render(path, SIZES, QUALITY), repeat=repeat)
        default_cpu, plain_cpu = _cpu_in_turns(
            [lambda: vips.render(path, SIZES, QUALITY), lambda: plain.render(path, SIZES, QUALITY)],
            repeat=repeat * 2,
        )
        per_mb, ssim = storage_and_quality(path, vips.jpeg)
        plain_per_mb, plain_ssim = storage_and_quality(path, PLAIN_JPEG)
        theirs_per_mb, theirs_ssim = storage_and_quality(path, None)
        equal_quality = next(
            (
                (quality, *figures)
                for quality in ([] if quick else range(QUALITY, 96, 2))
                for figures in [storage_and_quality(path, None, quality)]
                if figures[1] >= ssim
            ),
            (0, 0.0, 0.0),
        )
    report = Report(f"previews ({width}x{height} JPEG, {len(SIZES)} sizes, one core)")
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
    report.add(
        Figure(
            "previews",
            "all sizes, default JPEG settings (CPU time)",
            default_cpu * 1000,
            "ms",
            "baseline JPEG",
            plain_cpu * 1000,
            higher_is_better=False,
            target="<= 10% slower",
        )
    )
    report.add(
        Figure(
            "previews",
            f"storage per original MB (Q{QUALITY}, default JPEG settings)",
            per_mb,
            "kB/MB",
            "baseline JPEG",
            plain_per_mb,
            higher_is_better=False,
        )
    )
    report.add(
        Figure(
            "previews",
            "SSIM against a Lanczos-3 downscale of the original",
            ssim,
            "SSIM",
            "baseline JPEG",
            plain_ssim,
        )
    )
    report.add(
        Figure(
            "previews",
            f"storage per original MB against HomeGallery's (Q{QUALITY}, SSIM {theirs_ssim:.4f})",
            per_mb,
            "kB/MB",
            "HomeGallery model",
            theirs_per_mb,
            higher_is_better=False,
            note="HomeGallery's previews modelled: each size from the one above, sharp's "
            "mozjpeg settings (see scripts/compare_homegallery_storage.py)",
        )
    )
    if equal_quality[0] > QUALITY:
        report.add(
            Figure(
                "previews",
                f"storage per original MB against HomeGallery's at equal SSIM "
                f"(its Q{equal_quality[0]}, SSIM {equal_quality[2]:.4f})",
                per_mb,
                "kB/MB",
                "HomeGallery model",
                equal_quality[1],
                higher_is_better=False,
            )
        )
    return report


def main(argv: Sequence[str] | None = None) -> int:
    return quick_stage_main(__doc__, "small image, few repeats", run, argv)


if __name__ == "__main__":
    sys.exit(main())
