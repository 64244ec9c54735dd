"""Preview bytes, quality and speed per JPEG encoder setting, on a folder of photos.

For each candidate setting and quality every photo gets its previews made the way the
extract step makes them (libvips engine, one thread); each preview's bytes and its SSIM
against the original downscaled with Lanczos-3 are summed per size (see
homegallery.bench.quality). Speed is the best of a few renders of the largest photos.

    python scripts/measure_previews.py PHOTOS [--generated N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyvips

from homegallery.bench.quality import as_array, decoded_original, reference_for, ssim
from homegallery.config import PreviewJpeg
from homegallery.extract.preview import PreviewError, VipsEngine, _decode_heif
from homegallery.samples import write_sample_photo

SIZES = [1920, 1280, 800, 320, 128]
MOZ = {"trellis_quant": True, "overshoot_deringing": True, "optimize_scans": True}
# Every candidate starts from a plain JPEG: sequential, standard Huffman tables.
PLAIN: dict[str, Any] = {"progressive": False, "optimize_coding": False, "optimize_max_size": 0}
OPTIMISED = {"optimize_coding": True}
PROGRESSIVE = {"progressive": True, "optimize_coding": True}
TRELLIS = {**PROGRESSIVE, "trellis_quant": True}
CANDIDATES: dict[str, dict[str, Any]] = {
    name: {**PLAIN, **changes}
    for name, changes in {
        "plain": {},
        "default (optimised up to 800 px)": {"optimize_coding": True, "optimize_max_size": 800},
        "optimised Huffman": OPTIMISED,
        "progressive+optimised (HomeGallery)": PROGRESSIVE,
        "sharp mozjpeg preset": {**PROGRESSIVE, **MOZ, "quant_table": 3},
        "progressive+trellis": TRELLIS,
        "progressive+trellis+deringing": {**TRELLIS, "overshoot_deringing": True},
        "progressive+trellis qt3": {**TRELLIS, "quant_table": 3},
        "table 2 (MS-SSIM tuned)": {"quant_table": 2},
        "table 3 (ImageMagick)": {"quant_table": 3},
        "table 4 (Peterson)": {"quant_table": 4},
        "progressive no subsampling": {**PROGRESSIVE, "subsample": "off"},
        "progressive+trellis no subsampling": {**TRELLIS, "subsample": "off"},
    }.items()
}


def photos_of(folder: Path) -> list[tuple[Path, Any]]:
    """(path, decoded original) of every photo the engine can preview."""
    found = []
    engine = VipsEngine()
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".tif", ".tiff", ".heic", ".heif"):
            continue
        try:
            engine.render(path, [128], 80)
            if path.suffix.lower() in (".heic", ".heif"):
                source: Any = _decode_heif(path, 250_000_000)
            else:
                source = path
            original = decoded_original(source)
        except (PreviewError, pyvips.Error):
            continue
        found.append((path, original))
    return found


_REFERENCES: dict[tuple[Path, int, int], Any] = {}


def _ssim(path: Path, original: Any, data: bytes) -> tuple[float, float, int]:
    preview = pyvips.Image.new_from_buffer(data, "")
    key = (path, preview.width, preview.height)
    if key not in _REFERENCES:
        _REFERENCES[key] = as_array(reference_for(original, preview.width, preview.height))
    luma, combined = ssim(_REFERENCES[key], as_array(preview))
    return luma, combined, preview.width * preview.height


def measure(photos: list[tuple[Path, Any]], jpeg: PreviewJpeg, quality: int) -> dict[str, Any]:
    engine = VipsEngine(jpeg=jpeg)
    per_size: dict[int, list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0, 0])
    for path, original in photos:
        for size, data in engine.render(path, SIZES, quality):
            luma, combined, pixels = _ssim(path, original, data)
            entry = per_size[size]
            entry[0] += len(data)
            entry[1] += luma * pixels
            entry[2] += combined * pixels
            entry[3] += pixels
            entry[4] += 1
    total_bytes = sum(entry[0] for entry in per_size.values())
    total_pixels = sum(entry[3] for entry in per_size.values())
    return {
        "bytes": total_bytes,
        "ssim_y": sum(entry[1] for entry in per_size.values()) / total_pixels,
        "ssim": sum(entry[2] for entry in per_size.values()) / total_pixels,
        "sizes": {
            size: {
                "count": entry[4],
                "bytes": entry[0],
                "ssim_y": entry[1] / entry[3],
                "ssim": entry[2] / entry[3],
            }
            for size, entry in sorted(per_size.items(), reverse=True)
        },
    }


def speeds(
    path: Path, settings: dict[str, tuple[PreviewJpeg, int]], rounds: int
) -> dict[str, float]:
    """Best time per setting, the settings taking turns (a busy machine hits all alike)."""
    engines = {name: (VipsEngine(jpeg=jpeg), quality) for name, (jpeg, quality) in settings.items()}
    best = dict.fromkeys(settings, float("inf"))
    for _ in range(rounds):
        for name, (engine, quality) in engines.items():
            started = time.perf_counter()
            engine.render(path, SIZES, quality)
            best[name] = min(best[name], time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", type=Path)
    parser.add_argument("--generated", type=int, default=0, help="add N generated 12 MP photos")
    parser.add_argument("--qualities", default="70,75,80,85,90")
    parser.add_argument("--only", default="", help="candidates (comma-separated names)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--rounds", type=int, default=7, help="speed rounds")
    parser.add_argument("--speed-only", action="store_true", help="no bytes and SSIM")
    parser.add_argument("--timed", type=Path, help="time this photo (default: generated 12 MP)")
    args = parser.parse_args()
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        for number in range(args.generated):
            write_sample_photo(Path(folder) / f"g{number}.jpg", 4000, 3000, seed=number, quality=92)
        photos = [] if args.speed_only else photos_of(args.photos)
        photos += photos_of(Path(folder)) if args.generated else []
        source_bytes = sum(path.stat().st_size for path, _ in photos) or 1
        print(f"{len(photos)} photos, {source_bytes / 1e6:.1f} MB", file=sys.stderr)
        names = args.only.split(",") if args.only else list(CANDIDATES)
        settings = {}
        for name in names:
            jpeg = PreviewJpeg(**CANDIDATES[name])
            for quality in [int(q) for q in args.qualities.split(",")]:
                settings[f"{name} Q{quality}"] = (jpeg, quality)
                if args.speed_only:
                    results[f"{name} Q{quality}"] = {}
                    continue
                figures = measure(photos, jpeg, quality)
                figures["per_original_mb"] = figures["bytes"] / (source_bytes / 1e6)
                results[f"{name} Q{quality}"] = figures
                print(
                    f"{name:40s} Q{quality}: {figures['bytes'] / 1e3:8.1f} kB"
                    f" ({figures['per_original_mb'] / 1e3:5.1f} kB per original MB)"
                    f"  SSIM-Y {figures['ssim_y']:.4f}  SSIM {figures['ssim']:.4f}",
                    flush=True,
                )
        if args.rounds:
            timed = args.timed or (
                write_sample_photo(Path(folder) / "timed.jpg", 4000, 3000, seed=7, quality=92).path
            )
            for name, seconds in speeds(timed, settings, args.rounds).items():
                results[name]["seconds"] = seconds
                print(f"{name:44s} {seconds * 1000:6.1f} ms ({timed.name}, all sizes)", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
