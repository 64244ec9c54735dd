"""Reproducible sample photos, for the demo gallery, tests and benchmarks.

The pictures are smooth gradients with a few shapes (so JPEG sizes and decode costs are
like real photos, not like flat colour) and carry real EXIF: date, camera, orientation
and, for some, GPS. The same seed always gives the same bytes.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

from PIL import Image, ImageDraw

from homegallery.atomic import atomic_path

_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_MAKE, _MODEL, _ORIENTATION, _DATETIME = 0x010F, 0x0110, 0x0112, 0x0132
_DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 0x9003, 0x9011

# (make, model) pairs of cameras people own, for plausible metadata.
_CAMERAS = [
    ("Canon", "Canon EOS 80D"),
    ("NIKON CORPORATION", "NIKON D7500"),
    ("SONY", "ILCE-7M3"),
    ("FUJIFILM", "X-T30"),
    ("Apple", "iPhone 12"),
    ("samsung", "SM-G991B"),
]
# Places for GPS tags: (latitude, longitude).
_PLACES = [(43.7696, 11.2558), (48.8566, 2.3522), (52.52, 13.405), (40.4168, -3.7038)]


@dataclass(frozen=True)
class SamplePhoto:
    path: Path
    width: int
    height: int
    taken: datetime
    make: str
    model: str
    gps: tuple[float, float] | None


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return Fraction(degrees), Fraction(minutes), Fraction(seconds).limit_denominator(10000)


def _picture(width: int, height: int, rng: random.Random) -> Image.Image:
    small_w, small_h = max(2, width // 16), max(2, height // 16)
    base = Image.linear_gradient("L").resize((small_w, small_h))
    colours = [tuple(rng.randrange(256) for _ in range(3)) for _ in range(2)]
    image = Image.merge(
        "RGB",
        [
            base.point(lambda v, a=a, b=b: a + (b - a) * v // 255)
            for a, b in zip(colours[0], colours[1], strict=True)
        ],
    ).resize((width, height), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(max(2, min(width, height) // 20), max(3, min(width, height) // 4))
        fill = tuple(rng.randrange(256) for _ in range(3))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)
    return image


def write_sample_photo(
    path: Path,
    width: int,
    height: int,
    seed: int,
    taken: datetime | None = None,
    gps: tuple[float, float] | None = None,
    orientation: int = 1,
    quality: int = 90,
) -> SamplePhoto:
    """One JPEG with EXIF, written atomically."""
    rng = random.Random(seed)
    make, model = _CAMERAS[seed % len(_CAMERAS)]
    taken = taken or datetime(2015, 1, 1, 9, 0, 0) + timedelta(hours=seed * 37)
    exif = Image.Exif()
    exif[_MAKE] = make
    exif[_MODEL] = model
    exif[_ORIENTATION] = orientation
    stamp = taken.strftime("%Y:%m:%d %H:%M:%S")
    exif[_DATETIME] = stamp
    exif_ifd = exif.get_ifd(_EXIF_IFD)
    exif_ifd[_DATETIME_ORIGINAL] = stamp
    exif_ifd[_OFFSET_TIME_ORIGINAL] = "+01:00"
    if gps is not None:
        gps_ifd = exif.get_ifd(_GPS_IFD)
        gps_ifd[1] = "N" if gps[0] >= 0 else "S"
        gps_ifd[2] = _dms(gps[0])
        gps_ifd[3] = "E" if gps[1] >= 0 else "W"
        gps_ifd[4] = _dms(gps[1])
    with atomic_path(path) as temporary:
        _picture(width, height, rng).save(temporary, "JPEG", quality=quality, exif=exif)
    return SamplePhoto(path, width, height, taken, make, model, gps)


def write_sample_gallery(folder: Path, count: int = 24, seed: int = 1) -> list[SamplePhoto]:
    """A small gallery: several years, cameras, sizes and some photos with GPS."""
    photos = []
    for number in range(count):
        year_folder = folder / str(2015 + number % 5)
        landscape = number % 3 != 0
        width, height = (1600, 1200) if landscape else (1200, 1600)
        gps = _PLACES[number % len(_PLACES)] if number % 2 == 0 else None
        photos.append(
            write_sample_photo(
                year_folder / f"IMG_{seed:02d}{number:04d}.jpg",
                width,
                height,
                seed=seed * 1000 + number,
                gps=gps,
            )
        )
    return photos


# python/homegallery/samples.py → the repository's parent holds shared/testdata.
_REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_photos() -> Path | None:
    """The real test photos, if this checkout sits beside them (or the variable says where)."""
    configured = os.environ.get("HOMEGALLERY_TEST_PHOTOS")
    candidate = (
        Path(configured) if configured else _REPO_ROOT.parent / "shared" / "testdata" / "photos"
    )
    return candidate if candidate.is_dir() else None
