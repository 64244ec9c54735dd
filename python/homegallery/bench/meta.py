"""Metadata readers: files per second and what each finds, on real camera photos.

Reads every file of ../shared/testdata/photos (or, without it, a generated gallery)
with each candidate and counts the files where it found the fields a gallery needs
(make, model, capture date, GPS, orientation, XMP keywords). exiftool is the coverage
reference and the speed baseline; it runs in ``-stay_open`` mode, its fastest, and is
left out where it is not installed. "homegallery" is the extractor as shipped
(exiv2 through pyexiv2 with EXIF, IPTC and XMP parsed into a MediaMeta, plus libvips'
header read for the decoded size); "pyexiv2" is exiv2's raw read alone.

    .venv/bin/python benches/bench_meta.py  (or: homegallery bench) [--quick] [--json FILE]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from homegallery.bench.report import Figure, Report, quick_stage_main
from homegallery.extract.meta import MetaError, read_image_meta
from homegallery.samples import shared_photos, write_sample_gallery

FIELDS = ("make", "model", "date", "gps", "orientation", "keywords")
Reader = Callable[[Path], set[str]]


def _present(**values: object) -> set[str]:
    return {name for name, value in values.items() if value}


def read_homegallery(path: Path) -> set[str]:
    meta = read_image_meta(path)
    return _present(
        make=meta.make,
        model=meta.model,
        date=meta.date if meta.date_source in ("exif", "xmp") else None,
        gps=meta.latitude,
        orientation=meta.orientation if meta.orientation != 1 else None,
        keywords=meta.keywords,
    )


def read_pyexiv2(path: Path) -> set[str]:
    import pyexiv2

    pyexiv2.set_log_level(4)
    with pyexiv2.Image(str(path)) as image:
        exif, xmp = image.read_exif(), image.read_xmp()
    return _present(
        make=exif.get("Exif.Image.Make"),
        model=exif.get("Exif.Image.Model"),
        date=exif.get("Exif.Photo.DateTimeOriginal"),
        gps=exif.get("Exif.GPSInfo.GPSLatitude"),
        orientation=exif.get("Exif.Image.Orientation") not in (None, "1"),
        keywords=xmp.get("Xmp.dc.subject"),
    )


def read_exifread(path: Path) -> set[str]:
    import exifread

    with path.open("rb") as handle:
        tags = exifread.process_file(handle, details=False)
    orientation = tags.get("Image Orientation")
    return _present(
        make=tags.get("Image Make"),
        model=tags.get("Image Model"),
        date=tags.get("EXIF DateTimeOriginal"),
        gps=tags.get("GPS GPSLatitude"),
        orientation=orientation if orientation and orientation.values != [1] else None,
    )


def read_pillow(path: Path) -> set[str]:
    from PIL import Image

    with Image.open(path) as image:
        exif = image.getexif()
        detail = exif.get_ifd(0x8769)
        gps = exif.get_ifd(0x8825)
        xmp = image.info.get("xmp") or b""
        return _present(
            make=exif.get(0x010F),
            model=exif.get(0x0110),
            date=detail.get(0x9003),
            gps=gps.get(2),
            orientation=exif.get(0x0112) if exif.get(0x0112) not in (None, 1) else None,
            keywords=b"dc:subject" in xmp,
        )


def read_pyvips(path: Path) -> set[str]:
    import pyvips

    image = pyvips.Image.new_from_file(str(path), access="sequential")
    fields = set(image.get_fields())

    def get(name: str) -> Any:
        return image.get(name) if name in fields else None

    xmp = get("xmp-data") or b""
    return _present(
        make=get("exif-ifd0-Make"),
        model=get("exif-ifd0-Model"),
        date=get("exif-ifd2-DateTimeOriginal"),
        gps=get("exif-ifd3-GPSLatitude"),
        orientation=get("orientation") if get("orientation") not in (None, 1) else None,
        keywords=b"dc:subject" in xmp,
    )


class ExifTool:
    """One exiftool process kept open, fed a file at a time (its fastest mode)."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["exiftool", "-stay_open", "True", "-@", "-"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def __call__(self, path: Path) -> set[str]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"-json\n-n\n-G1\n-fast\n{path}\n-execute\n".encode())
        self.process.stdin.flush()
        output = b""
        while not output.endswith(b"{ready}\n"):
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("exiftool stopped")
            output += line
        found = json.loads(output[: -len(b"{ready}\n")] or b"[{}]")[0]
        return _present(
            make=found.get("IFD0:Make"),
            model=found.get("IFD0:Model"),
            date=found.get("ExifIFD:DateTimeOriginal"),
            gps=found.get("GPS:GPSLatitude"),
            orientation=found.get("IFD0:Orientation") not in (None, 1) or None,
            keywords=found.get("XMP-dc:Subject"),
        )

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"-stay_open\nFalse\n")
        self.process.stdin.flush()
        self.process.wait(timeout=10)


def _files(quick: bool, folder: Path, data: Path | None = None) -> list[Path]:
    photos = data or shared_photos()
    if photos is not None:
        files = sorted(p for p in photos.rglob("*") if p.is_file() and p.suffix.lower() != ".md")
        return files[:20] if quick else files
    return [photo.path for photo in write_sample_gallery(folder, count=8 if quick else 40)]


def _measure(reader: Reader, files: list[Path], rounds: int) -> tuple[float, int]:
    """(best files per second, files read without error) over ``rounds`` passes."""
    best = 0.0
    found: dict[str, int] = {}
    for _ in range(rounds):
        found = dict.fromkeys(FIELDS, 0)
        started = time.perf_counter()
        for path in files:
            try:
                fields = reader(path)
            except (MetaError, OSError, ValueError, RuntimeError, KeyError, TypeError):
                continue
            for name in fields:
                found[name] += 1
        best = max(best, len(files) / (time.perf_counter() - started))
    return best, sum(found.values())


def run(quick: bool, data: Path | None = None) -> Report:
    """``data``: the user's own photo folder instead of the test or generated photos."""
    rounds = 1 if quick else 3
    with tempfile.TemporaryDirectory() as folder:
        files = _files(quick, Path(folder), data)
        readers: dict[str, Reader] = {
            "homegallery": read_homegallery,
            "pyexiv2": read_pyexiv2,
            "exifread": read_exifread,
            "pillow": read_pillow,
            "pyvips": read_pyvips,
        }
        exiftool = ExifTool() if shutil.which("exiftool") else None
        if exiftool is not None:
            readers["exiftool"] = exiftool
        try:
            for reader in readers.values():  # warm-up: imports, page cache
                _measure(reader, files[:5], 1)
            results = {name: _measure(reader, files, rounds) for name, reader in readers.items()}
        finally:
            if exiftool is not None:
                exiftool.close()
    baseline = "exiftool" if "exiftool" in results else "exifread"
    base_rate, base_found = results[baseline]
    report = Report(f"metadata readers ({len(files)} files, fields: {', '.join(FIELDS)})")
    for name, (rate, found) in results.items():
        if name == baseline:
            continue
        report.add(Figure("speed", name, rate, "files/s", baseline, base_rate))
        report.add(Figure("coverage", name, found, "fields", baseline, base_found,
                          note=f"fields found over all files: {', '.join(FIELDS)}"
                          if name == "homegallery" else ""))  # fmt: skip
    return report


def main(argv: Sequence[str] | None = None) -> int:
    return quick_stage_main(__doc__, "fewer files, one pass", run, argv)


if __name__ == "__main__":
    sys.exit(main())
