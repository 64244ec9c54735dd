"""Our storage after a fresh import of a photo folder, beside a model of HomeGallery's.

Ours: the storage folder of a fresh ``homegallery run import`` of PHOTOS, summed per
kind (files, bytes, bytes on disk in whole 4 KiB blocks; a hard-linked file once).
HomeGallery's: ``homegallery.bench.homegallery_model`` over the same photos (previews
made with its encoder settings, ``exif.json`` by exiftool, its other JSON files in
their documented shapes); it needs ``exiftool`` (Debian: libimage-exiftool-perl).
Both sides' previews get their SSIM against the original (``homegallery.bench.quality``);
HomeGallery's previews are also modelled at the lowest quality whose SSIM is at least
ours (its storage at equal quality).

    python scripts/compare_homegallery_storage.py PHOTOS STORAGE [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyvips

from homegallery import _core
from homegallery.bench.homegallery_model import (
    BLOCK,
    Model,
    OurSide,
    PreviewQuality,
    Tally,
    chained_previews,
    model_photos,
)
from homegallery.bench.quality import decoded_original, preview_ssim
from homegallery.extract.preview import PreviewError, VipsEngine
from homegallery.extract.schema import read_embedding, read_faces, read_place
from homegallery.storage import Storage, parse_name

SIZES = [1920, 1280, 800, 320, 128]
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp")


def kind_name(kind: str) -> str:
    """The row a stored kind is counted in."""
    if match := re.fullmatch(r"image-preview-(\d+)\.jpg", kind):
        return f"previews {match[1]} px"
    for prefix, name in (
        ("record", "per-id record (metadata, place, labels, embedding, faces, failures)"),
        ("embedding-", "embeddings"),
        ("labels-", "labels"),
        ("faces-", "faces"),
        ("failed-", "failure records"),
        ("video-preview-", "web videos"),
        ("video-frame-", "posters"),
    ):
        if kind.startswith(prefix):
            return name
    return kind


def our_storage(root: Path) -> tuple[dict[str, Tally], int]:
    """Per kind, what a storage folder holds; and its number of ``ab/cd`` folders."""
    kinds: dict[str, Tally] = defaultdict(Tally)
    seen: set[tuple[int, int]] = set()
    folders = 0
    for path in sorted(root.rglob("*")):
        status = path.lstat()
        if path.is_dir():
            folders += path.parent != root
            continue
        parsed = parse_name(path.name)
        if parsed is None or (status.st_dev, status.st_ino) in seen:
            continue
        seen.add((status.st_dev, status.st_ino))
        kinds[kind_name(parsed[1])].add(status.st_size)
    return dict(kinds), folders


def photos_of(folder: Path) -> list[Path]:
    """The photos of a folder that libvips can preview (HomeGallery's sharp could too)."""
    found = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in PHOTO_SUFFIXES:
            continue
        try:
            VipsEngine().render(path, [128], 80)
        except PreviewError:
            continue
        found.append(path)
    return found


def our_side(photos: list[Path], storage: Storage) -> dict[Path, OurSide]:
    """Each photo's embedding, number of faces and place, as our extract stored them."""
    hashed = _core.hash_files([str(path) for path in photos])
    sides = {}
    for path, (digest, _, _) in zip(photos, hashed, strict=True):
        if digest is None:
            continue
        embedding = read_embedding(storage, digest, "efficientnet-lite0-1")
        faces = read_faces(storage, digest, "yunet-1-sface-1")
        place = read_place(storage, digest)
        sides[path] = OurSide(
            embedding=embedding,
            faces=len(faces.faces) if faces else 0,
            place={k: v for k, v in _place_fields(place).items() if isinstance(v, str)},
        )
    return sides


def _place_fields(place: object) -> dict[str, Any]:
    import msgspec

    return msgspec.to_builtins(place) if place is not None else {}


def our_quality(photos: list[Path]) -> PreviewQuality:
    """SSIM of the previews our extract makes (the default settings) of the photos."""
    quality = PreviewQuality()
    engine = VipsEngine()
    for path in photos:
        original = decoded_original(path)
        for _, data in engine.render(path, SIZES, 80):
            quality.add(*preview_ssim(original, data))
    return quality


def previews_at(photos: list[Path], quality: int) -> tuple[dict[str, Tally], PreviewQuality]:
    kinds: dict[str, Tally] = defaultdict(Tally)
    ssim = PreviewQuality()
    for path in photos:
        original = decoded_original(path)
        for size, data in chained_previews(path, quality):
            kinds[f"previews {size} px"].add(len(data))
            ssim.add(*preview_ssim(original, data))
    return dict(kinds), ssim


def _row(name: str, ours: Tally | None, theirs: Tally | None) -> str:
    def cell(tally: Tally | None) -> str:
        if tally is None or not tally.files:
            return "| | "
        return f"| {tally.files} | {tally.bytes / 1e3:,.1f} / {tally.on_disk / 1e3:,.1f} kB "

    return f"| {name} {cell(ours)}{cell(theirs)}|"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("photos", type=Path)
    parser.add_argument("storage", type=Path)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    photos = photos_of(args.photos)
    originals = sum(path.stat().st_size for path in args.photos.rglob("*") if path.is_file())
    ours, folders = our_storage(args.storage)
    sides = our_side(photos, Storage(args.storage))
    model: Model = model_photos(photos, sides)
    mine = our_quality(photos)
    # HomeGallery at the quality whose SSIM (luma and YCbCr) is at least ours
    equal: dict[str, Any] = {}
    for quality in range(80, 96, 2):
        kinds, ssim = previews_at(photos, quality)
        if quality == 80 or (ssim.ssim[0] >= mine.ssim[0] and ssim.ssim[1] >= mine.ssim[1]):
            equal = {"quality": quality, "kinds": kinds, "ssim": ssim.ssim}
            if quality > 80:
                break
    folder_bytes = folders * BLOCK
    their_equal = dict(model.kinds)
    their_equal.update(equal["kinds"])
    names = sorted(
        set(ours) | set(model.kinds),
        key=lambda name: (
            not name.startswith("previews"),
            -int(re.sub(r"\D", "", name) or 0),
            name,
        ),
    )
    print(f"{len(photos)} photos, originals {originals / 1e6:.1f} MB; blocks of {BLOCK} bytes")
    print("\n| kind | ours: files | bytes / on disk | HomeGallery model: files | bytes / on disk |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name in names:
        print(_row(name, ours.get(name), model.kinds.get(name)))
    folder_tally = Tally(folders, 0, folder_bytes)
    print(_row("folders (`ab/cd/`)", folder_tally, folder_tally))
    totals = {}
    for side, kinds in (
        ("ours", ours),
        ("HomeGallery Q80", model.kinds),
        ("HomeGallery equal SSIM", their_equal),
    ):
        on_disk = sum(t.on_disk for t in kinds.values()) + folder_bytes
        size = sum(t.bytes for t in kinds.values())
        totals[side] = {
            "bytes": size,
            "on_disk": on_disk,
            "per_original_mb": on_disk / 1e3 / (originals / 1e6),
        }
    print()
    print("| side | previews SSIM luma / YCbCr | bytes | on disk | on disk per original MB |")
    print("| --- | ---: | ---: | ---: | ---: |")
    quality_of = {
        "ours": mine.ssim,
        "HomeGallery Q80": model.quality.ssim,
        "HomeGallery equal SSIM": equal["ssim"],
    }
    for side, total in totals.items():
        name = side if side != "HomeGallery equal SSIM" else f"HomeGallery at Q{equal['quality']}"
        luma, combined = quality_of[side]
        print(
            f"| {name} | {luma:.4f} / {combined:.4f} | {total['bytes'] / 1e3:,.1f} kB"
            f" | {total['on_disk'] / 1e3:,.1f} kB | {total['per_original_mb']:,.1f} kB |"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "photos": len(photos),
                    "originals": originals,
                    "ours": {k: vars(v) for k, v in ours.items()},
                    "homegallery": {k: vars(v) for k, v in model.kinds.items()},
                    "homegallery_equal_quality": equal["quality"],
                    "folders": folders,
                    "totals": totals,
                    "ssim": {k: list(v) for k, v in quality_of.items()},
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
