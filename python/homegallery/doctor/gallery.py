"""Checks of what the config asks of this machine: folders, models, disk, memory, privacy.

The disk and memory figures are estimates, and say so: storage per photo and per video
minute depends on the pictures, and memory on the largest image a worker meets. The
constants below were measured on this project's imports (24 MP JPEGs, phone videos).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from homegallery.doctor import Finding

if TYPE_CHECKING:
    from homegallery.config import Config

# Previews at 1920/1280/800/320/128 px (JPEG quality 80), metadata and the embedding of
# one photo of a phone or camera take about 0.6 MB; a 720p web video in the baseline
# profile at CRF 23 took about a quarter of its original (phones record at 12-20
# Mbit/s, the web video is capped at 4 Mbit/s), the main profile at CRF 25 takes half
# of that (README, "Storage"), so 0.15 with a margin.
STORAGE_PER_PHOTO = 600_000
VIDEO_STORAGE_SHARE = 0.15
# Peak resident memory of one extract worker with the embedding model loaded, on 24 MP
# photos, and of the import process that feeds the workers.
MEMORY_PER_WORKER = 330 * 2**20
MEMORY_OF_IMPORT = 200 * 2**20
# Counting files stops after this long: a first look, not an index run.
COUNT_SECONDS = 10.0

MB = 1_000_000


@dataclass
class SourceCount:
    photos: int = 0
    videos: int = 0
    video_bytes: int = 0
    complete: bool = True

    def storage_estimate(self) -> int:
        return self.photos * STORAGE_PER_PHOTO + int(self.video_bytes * VIDEO_STORAGE_SHARE)


def check_folders(config: Config) -> list[Finding]:
    found = []
    for source in config.sources:
        path = source.path
        if source.offline and not path.is_dir():
            found.append(Finding("note", "source", f"{path}: offline (its entries are kept)"))
        elif not os.access(path, os.R_OK | os.X_OK):
            found.append(
                Finding(
                    "problem",
                    "source",
                    f"{path}: not readable by this user",
                    f"give this user read access (`chmod -R a+rX {path}`)",
                )
            )
        else:
            found.append(Finding("ok", "source", f"{path}"))
    if not config.sources:
        found.append(
            Finding(
                "problem", "source", "the config lists no sources", "add folders under `sources:`"
            )
        )
    for what, folder in (
        ("storage", config.storage.path),
        ("catalog", config.database.path.parent),
    ):
        existing = _nearest_existing(folder)
        if os.access(existing, os.W_OK | os.X_OK):
            found.append(Finding("ok", what, f"{folder} is writable"))
        else:
            found.append(
                Finding(
                    "problem",
                    what,
                    f"{folder}: this user cannot write to {existing}",
                    f"choose a writable folder in the config or give this user write access "
                    f"to {existing}",
                )
            )
    return found


def check_models(config: Config) -> list[Finding]:
    from homegallery.models import store  # lazy: only the doctor needs it here
    from homegallery.models.spec import (  # lazy: only the doctor needs it here
        MODELS,
        OFF,
        TASK_KEYS,
    )

    models = config.extractor.models
    found = []
    for task, name in models.choices.items():
        if name == OFF:
            found.append(Finding("note", "models", f"{task}: turned off in the config"))
            continue
        installed = store.installed(MODELS[name], models.path)
        if installed is None:
            found.append(
                Finding(
                    "problem",
                    "models",
                    f"{task}: {name} is not installed in {models.path}",
                    f"`homegallery models install {name}` (or set "
                    f"`extractor.models.{TASK_KEYS[task]}: {OFF}`)",
                )
            )
        else:
            size = installed.size_on_disk() / MB
            found.append(Finding("ok", "models", f"{task}: {name} installed ({size:.0f} MB)"))
    return found


def count_sources(config: Config, seconds: float = COUNT_SECONDS) -> SourceCount:
    """Photos and videos in the sources, by file name; stops after ``seconds``."""
    from homegallery.index.kinds import kind_of  # lazy: only the doctor needs it here

    count = SourceCount()
    deadline = time.monotonic() + seconds
    for source in config.sources:
        for folder, _dirs, files in os.walk(source.path):
            here = Path(folder)
            for name in files:
                kind = kind_of(name)
                if kind in ("image", "raw"):
                    count.photos += 1
                elif kind == "video":
                    count.videos += 1
                    try:
                        count.video_bytes += (here / name).stat().st_size
                    except OSError:
                        continue
            if time.monotonic() > deadline:
                count.complete = False
                return count
    return count


def check_disk(config: Config, count: SourceCount) -> list[Finding]:
    storage = _nearest_existing(config.storage.path)
    free = shutil.disk_usage(storage).free
    return [disk_finding(count, free, storage)]


def disk_finding(count: SourceCount, free: int, where: Path) -> Finding:
    need = count.storage_estimate()
    seen = f"{_counted(count.photos, 'photo')} and {_counted(count.videos, 'video')}"
    if not count.complete:
        seen = f"at least {seen} (counting stopped after {COUNT_SECONDS:.0f} s)"
    text = (
        f"{seen} need about {need / MB:,.0f} MB of previews and web videos; "
        f"{free / MB:,.0f} MB free at {where}"
    )
    if need > free:
        return Finding(
            "problem",
            "disk",
            text,
            "free some space or point `storage.dir` at a larger disk",
        )
    if need > free * 0.8:
        return Finding("note", "disk", text + " (little room left after the import)")
    return Finding("ok", "disk", text)


def _available_memory() -> int | None:
    try:
        with Path("/proc/meminfo").open(encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(config: Config, available: int | None = None) -> list[Finding]:
    available = _available_memory() if available is None else available
    workers = config.extractor.workers or os.cpu_count() or 1
    source = "from the config" if config.extractor.workers else "one per core"
    if available is None:
        return [Finding("note", "memory", "available memory unknown (no /proc/meminfo)")]
    need = MEMORY_OF_IMPORT + workers * MEMORY_PER_WORKER
    text = (
        f"{workers} extract workers ({source}) need about {need / 2**20:,.0f} MiB; "
        f"{available / 2**20:,.0f} MiB available"
    )
    if need <= available:
        return [Finding("ok", "memory", text)]
    fitting = max(1, (available - MEMORY_OF_IMPORT) // MEMORY_PER_WORKER)
    return [
        Finding(
            "note",
            "memory",
            text + ": the machine will swap during imports",
            f"set `extractor.workers: {fitting}` in the config",
        )
    ]


def check_privacy(config: Config) -> list[Finding]:
    found = []
    if config.extractor.geo_reverse.provider == "nominatim":
        found.append(
            Finding(
                "note",
                "privacy",
                f"place names come from {config.extractor.geo_reverse.url}: the GPS "
                "position of every photo is sent to it",
                "set `extractor.geoReverse.provider: offline` to keep positions on this machine",
            )
        )
    if config.server.tile_url:
        found.append(
            Finding(
                "note",
                "privacy",
                f"the map loads its tiles from {config.server.tile_url}: the tile server sees "
                "which places a viewer looks at",
            )
        )
    if not found:
        found.append(Finding("ok", "privacy", "nothing leaves this machine"))
    return found


def _counted(number: int, word: str) -> str:
    return f"{number:,} {word}" + ("" if number == 1 else "s")


def _nearest_existing(path: Path) -> Path:
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path
