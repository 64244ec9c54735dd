"""Galleries for the server and browser tests, made by the real pipeline stages.

Photos are linked (never copied) into a source folder, indexed, extracted into a
storage with the real extractors (libvips previews, ffmpeg web video, offline
places), and built into a catalog; the config file written beside them is what the
server loads.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import blake3
import yaml

from homegallery.catalog import SourceFiles, build_catalog
from homegallery.catalog.vector_build import ModelOutputs
from homegallery.config import Config, VideoExtractor, load_config
from homegallery.extract import embed
from homegallery.extract.runner import run_extract
from homegallery.extract.worker import Settings, WorkItem

KINDS = {".jpg": "image", ".jpeg": "image", ".heic": "image", ".heif": "image", ".png": "image",
         ".tif": "image", ".tiff": "image", ".mp4": "video", ".mov": "video", ".xmp": "sidecar"}  # fmt: skip
PREVIEW_SIZES = (1280, 320, 128)


@dataclass(frozen=True)
class IndexedFile:
    """The fields of a file index record that the build reads."""

    path: str
    size: int
    mtime_ns: int
    id: str
    kind: str


class _Quiet:
    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def index_folder(folder: Path) -> list[IndexedFile]:
    records = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            stat = path.stat()
            kind = KINDS.get(path.suffix.lower(), "other")
            digest = blake3.blake3(path.read_bytes()).hexdigest()
            relative = path.relative_to(folder).as_posix()
            records.append(IndexedFile(relative, stat.st_size, stat.st_mtime_ns, digest, kind))
    return records


def make_video(target: Path, seconds: int = 2) -> Path:
    """A short H.264 test video with a date in its metadata (ffmpeg's test pattern)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
         f"testsrc=duration={seconds}:size=640x360:rate=25", "-pix_fmt", "yuv420p",
         "-metadata", "creation_time=2019-07-14T10:30:00Z", "-c:v", "libx264",
         "-preset", "ultrafast", str(target)],
        check=True,
    )  # fmt: skip
    return target


def copy_photos(target: Path, photos: Iterable[Path], base: Path) -> None:
    """Copies ``photos`` into ``target``, keeping their folders below ``base``.

    Copies, not links: a source's links that lead out of it are not indexed or served.
    """
    for photo in photos:
        copy = target / photo.relative_to(base)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(photo, copy)


def write_config(root: Path, sources: Sequence[Path], server: dict[str, object]) -> Path:
    config_file = root / "gallery.yml"
    data = {
        "sources": [{"dir": str(source), "downloadable": True} for source in sources],
        "storage": {"dir": str(root / "storage")},
        "database": {"file": str(root / "catalog.db")},
        "extractor": {"image": {"previewSizes": list(PREVIEW_SIZES)},
                      "video": {"preset": "ultrafast"}, "geoReverse": {"provider": "offline"}},
        "server": server,
    }  # fmt: skip
    config_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config_file


def update_gallery(config: Config, models_dir: Path | None = None) -> None:
    """Indexes, extracts and builds every source of ``config`` (incrementally);
    with ``models_dir``, embeddings and labels by the model installed there too."""
    embeddings = None
    outputs = None
    if models_dir is not None:
        embeddings = embed.settings_for("efficientnet-lite0", models_dir, "fp32", 1, 16, 1)
        outputs = ModelOutputs(embeddings.model_tag)
    sources = []
    for source in config.sources:
        records = index_folder(source.path)
        items = [
            WorkItem(r.id, source.path / r.path, r.kind, (), r.mtime_ns)
            for r in records
            if r.kind in ("image", "video")
        ]
        settings = Settings(
            storage_dir=config.storage.path,
            preview_sizes=PREVIEW_SIZES,
            video=VideoExtractor(preset="ultrafast"),
            embeddings=embeddings,
        )
        run_extract(items, settings, workers=1, progress_factory=lambda label, total: _Quiet())
        sources.append(SourceFiles(source.dir, records))
    build_catalog(config.database.path, config.storage.path, sources, outputs=outputs)


def build_gallery(
    root: Path,
    photos: Iterable[Path],
    base: Path,
    server: dict[str, object] | None = None,
    models_dir: Path | None = None,
) -> Config:
    """A gallery in ``root`` of ``photos`` (copied) and one generated video; with
    ``models_dir``, the photos' embeddings and labels too."""
    source = root / "photos"
    source.mkdir(parents=True)
    copy_photos(source, photos, base)
    make_video(source / "video" / "clip.mp4")
    config = load_config(write_config(root, [source], server or {}))
    update_gallery(config, models_dir)
    return config


SAMPLE_PLACES = ((43.4674, 11.8810), (52.52, 13.405), (36.01, -5.60))


def write_samples(folder: Path, count: int = 10) -> list[Path]:
    """Small generated JPEGs with EXIF: one a year from 2014, every third with GPS."""
    from datetime import datetime

    from homegallery.samples import write_sample_photo

    paths = []
    for number in range(count):
        landscape = number % 4 != 0
        width, height = (480, 320) if landscape else (320, 480)
        year = 2014 + number % 5
        photo = write_sample_photo(
            folder / str(year) / f"IMG_{number:04d}.jpg",
            width,
            height,
            seed=number,
            taken=datetime(year, 1 + number % 12, 10, 12, number),
            gps=SAMPLE_PLACES[(number // 3) % 3] if number % 3 == 0 else None,
        )
        paths.append(photo.path)
    return paths


def build_sample_gallery(root: Path, server: dict[str, object] | None = None) -> Config:
    """A gallery of generated photos and one video (for tests without the real photos)."""
    originals = root / "originals"
    return build_gallery(root, write_samples(originals), originals, server)
