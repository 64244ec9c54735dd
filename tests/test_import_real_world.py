"""A folder as phones, cameras and tools leave it, imported: every photo's date, place, turn.

The files are generated the way their makers write them (pillow-heif for HEIC and
Sony's 10-bit HIF, Pillow for MPO, WebP, AVIF, TIFF and PNG, piexif for the EXIF, ffmpeg for
a phone video), including the cases exiv2 reads nothing from: a HEIC located by
extent offsets, a JPEG with a damaged EXIF segment, one whose first directory is cut
short, and a PNG with its eXIf chunk after the image data.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, features

from homegallery.config import Config, load_config
from homegallery.gallery import open_gallery
from homegallery.importer import ImportOptions, import_initial
from homegallery.storage import Storage
from media_fixtures import (
    SHOWN_CORNER,
    Shot,
    exif_bytes,
    marker_corner,
    picture,
    write_broken_exif_jpeg,
    write_heif,
    write_heif_with_extent_offsets,
    write_jpeg,
    write_jpeg_with_unreadable_ifd0,
    write_mpo,
    write_png_exif_after_data,
)

PARIS = (48.8566, 2.3522)
BERLIN = (52.52, 13.405)
FLORENCE = (43.7696, 11.2558)
MADRID = (40.4168, -3.7038)
ROME = (41.9028, 12.4964)
LONDON = (51.5074, -0.1278)
VIENNA = (48.2082, 16.3738)
LISBON = (38.7223, -9.1393)
OSLO = (59.9139, 10.7522)
ZURICH = (47.3769, 8.5417)


def _shot(day: int, gps: tuple[float, float] | None, orientation: int) -> Shot:
    return Shot(datetime(2023, 7, day, 18, 30), "+02:00", gps, orientation=orientation)


Place = tuple[str, str] | None  # (country code, city) as the offline GeoNames data names it
Expected = dict[str, tuple[str, Place, int]]


def _write_folder(source: Path) -> Expected:
    """The files, and for each path the date, place and orientation its entry must show."""
    expected: Expected = {}

    def add(path: Path, shot: Shot, place: Place, shown: int) -> None:
        expected[path.relative_to(source).as_posix()] = (
            shot.taken.strftime("%Y-%m-%dT%H:%M:%S") + (shot.offset or ""),
            place,
            shown,
        )

    def folder(name: str) -> Path:
        (source / name).mkdir(parents=True, exist_ok=True)
        return source / name

    # HEIF turns by its container's rotation, which pillow-heif writes from the EXIF one
    shot = _shot(1, PARIS, 6)
    add(write_heif(folder("iPhone") / "IMG_0001.HEIC", shot), shot, ("FR", "Paris"), 6)
    shot = _shot(2, BERLIN, 8)
    add(write_heif(folder("Sony") / "DSC00001.HIF", shot, ten_bit=True), shot, ("DE", "Mitte"), 8)
    shot = _shot(3, FLORENCE, 6)
    add(write_mpo(folder("Fujifilm") / "DSCF0001.MPO", shot), shot, ("IT", "Florence"), 6)
    shot = _shot(4, MADRID, 1)
    add(
        write_heif_with_extent_offsets(folder("export") / "IMG_0002.HEIC", shot),
        shot,
        ("ES", "Sol"),
        1,
    )
    shot = _shot(5, ROME, 3)
    add(write_jpeg(folder("Pixel") / "PXL_20230705_163000.jpg", shot), shot, ("IT", "Rome"), 3)
    shot = _shot(6, LONDON, 6)
    add(
        write_jpeg_with_unreadable_ifd0(folder("old") / "P1000001.JPG", shot),
        shot,
        ("GB", "London"),
        6,
    )
    shot = _shot(7, VIENNA, 8)
    png = write_png_exif_after_data(folder("magick") / "render.png", shot, (640, 480))
    add(png, shot, ("AT", "Vienna"), 8)
    shot = _shot(8, LISBON, 6)
    webp = folder("web") / "photo.webp"
    picture(640, 480).save(webp, "WEBP", exif=exif_bytes(shot))
    add(webp, shot, ("PT", "Intendente"), 6)
    shot = _shot(11, ZURICH, 6)
    tiff = folder("scanner") / "scan.tif"
    picture(640, 480).save(tiff, "TIFF", exif=exif_bytes(shot))
    add(tiff, shot, ("CH", "Zürich (Kreis 1) / Lindenhof"), 6)
    if features.check("avif"):
        shot = _shot(9, OSLO, 1)
        avif = folder("web") / "photo.avif"
        picture(640, 480).save(avif, "AVIF", exif=exif_bytes(shot))
        add(avif, shot, ("NO", "Oslo"), 1)
    # The EXIF is unreadable: the date comes from the name, there is no place
    broken = write_broken_exif_jpeg(
        folder("scans") / "IMG_20190704_101500.jpg", _shot(10, PARIS, 6)
    )
    expected[broken.relative_to(source).as_posix()] = ("2019-07-04T10:15:00", None, 1)
    return expected


def _write_video(source: Path) -> None:
    subprocess.run(
        [
            "ffmpeg", "-v", "error", "-y", "-f", "lavfi",
            "-i", "testsrc2=size=320x240:rate=25:duration=1",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-metadata", "creation_time=2023-07-11T16:30:00Z",
            "-metadata", "location=+48.8566+002.3522/",
            str(source / "iPhone" / "IMG_0003.MP4"),
        ],
        check=True,
    )  # fmt: skip


def _import(folder: Path) -> tuple[Config, Storage]:
    """Imports ``folder/photos`` as a user would (offline places), into ``folder/data``."""
    config_file = folder / "gallery.yml"
    config_file.write_text(
        "sources: [{dir: photos}]\ndatabase: {file: data/catalog.db}\n"
        "storage: {dir: data/storage}\n"
        "extractor: {workers: 2, image: {previewSizes: [320, 128]},"
        " geoReverse: {provider: offline}, models: {embeddings: off}}\n"
    )
    config = load_config(config_file)
    report = import_initial(config, ImportOptions(quiet=True))
    assert report.ok
    return config, Storage(Path(config.storage.dir))


@pytest.mark.slow
def test_mixed_folder_gets_every_date_place_and_orientation(tmp_path: Path) -> None:
    source = tmp_path / "photos"
    expected = _write_folder(source)
    _write_video(source)
    config, storage = _import(tmp_path)
    with open_gallery(config) as gallery:
        entries = {entry.files[0].path: entry for entry in gallery}
        assert sorted(entries) == sorted([*expected, "iPhone/IMG_0003.MP4"])

        video = entries.pop("iPhone/IMG_0003.MP4")
        assert video.date == "2023-07-11T16:30:00+00:00"
        assert (video.country_code, video.city) == ("FR", "Paris")

        wrong = {}
        for path, (date, place, shown) in expected.items():
            entry = entries[path]
            with Image.open(storage.path(entry.id, "image-preview-320.jpg")) as preview:
                corner = marker_corner(preview)
            found_place = (entry.country_code, entry.city) if entry.country_code else None
            found = (entry.date, found_place, corner)
            wanted = (date, place, SHOWN_CORNER[shown])
            turned = shown >= 5
            if found != wanted or (entry.width, entry.height) != (
                (480, 640) if turned else (640, 480)
            ):
                wrong[path] = (found, (entry.width, entry.height), "wanted", wanted)
        assert not wrong, wrong


@pytest.mark.slow
def test_real_phone_and_camera_photos_keep_date_place_and_orientation(
    photos_dir: Path, tmp_path: Path
) -> None:
    """The shared real files: an iPhone HEIC, a HEIF exiv2 reads nothing from, GPS
    photos, and the orientation charts, whose landscapes must all come out wide."""
    source = tmp_path / "photos"
    for folder in ("heic", "gps", "orientation"):
        shutil.copytree(photos_dir / folder, source / folder)
    config, storage = _import(tmp_path)
    with open_gallery(config) as gallery:
        entries = {entry.files[0].path: entry for entry in gallery}
        assert len(entries) == 2 + 9 + 16

        iphone = entries["heic/IMG_5195.HEIC"]
        assert iphone.date == "2021-04-11T15:47:53-05:00" and iphone.country_code == "US"
        assert (iphone.width, iphone.height) == (2566, 3313)
        assert entries["heic/samplefilehub.heif"].previews

        for path, entry in entries.items():
            if path.startswith("gps/"):
                assert (entry.country_code, entry.state) == ("IT", "Tuscany"), path
                assert (entry.date or "").startswith("2008-10"), path
            if path.startswith("orientation/"):
                wide = path.startswith("orientation/landscape")
                with Image.open(storage.path(entry.id, "image-preview-320.jpg")) as preview:
                    shown = preview.size
                assert (shown[0] > shown[1]) == wide, (path, shown)
                assert ((entry.width or 0) > (entry.height or 0)) == wide, path
