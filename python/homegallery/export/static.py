"""``export_static``: a gallery of chosen entries that any static host (or file://) serves.

The export is plain files: ``index.html``, a classic-script viewer (ES modules do not
load from ``file://``), its data as a script (``data.js``: ``fetch`` is refused there
too), the previews and web videos, Leaflet and the world's country outlines. Search
and similar photos run in the browser over the exported entries only: similar photos
compare the entries' int8 embeddings (about 1.3 KB each) by cosine. Nothing names a
path on the machine: files appear by name only, media by content id.

Everything is made in a temporary folder beside the target and moved into place at
the end (an archive is written atomically), so a failed export leaves nothing half.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import sqlite3
import tarfile
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homegallery.atomic import atomic_path
from homegallery.catalog.entry import Entry
from homegallery.catalog.search import DEFAULT_MIN_SCORE
from homegallery.catalog.vectors import VectorCache
from homegallery.config import Config
from homegallery.errors import HomeGalleryError
from homegallery.gallery import Gallery
from homegallery.progress import Progress

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
VIEWER_DIR = WEB_DIR / "static"
WORLD_FILE = WEB_DIR / "world" / "countries-50m.json"
GRID_SIZE = 320
DETAIL_SIZE = 1280
_PREVIEW = re.compile(r"-image-preview-(\d+)\.jpg$")
_VIDEO = re.compile(r"-video-preview-\d+\.mp4$")
_ARCHIVES = (".zip", ".tar.gz", ".tgz")


class StaticExportError(HomeGalleryError):
    """The export cannot be made (the message says why)."""


@dataclass
class StaticReport:
    target: Path
    entries: int = 0
    files: int = 0
    bytes: int = 0
    similar: int = 0  # entries with an embedding (similar search)
    places: int = 0
    folder: str = ""  # the random folder the gallery lies in, if any
    dry_run: bool = False

    def lines(self) -> list[str]:
        verb = "would export" if self.dry_run else "exported"
        where = f"{self.target}" + (f" (in its folder {self.folder}/)" if self.folder else "")
        return [
            f"{verb} {self.entries:,} entries ({self.files:,} files, {self.bytes / 1e6:,.1f} MB; "
            f"{self.similar:,} with similar search, {self.places:,} on the map) to {where}"
        ]


def archive_kind(target: Path) -> str | None:
    name = target.name.lower()
    return next((suffix for suffix in _ARCHIVES if name.endswith(suffix)), None)


def _pick(previews: Sequence[str], wanted: int, at_most: bool) -> str | None:
    """The preview nearest ``wanted`` from above (or, ``at_most``, from below)."""
    sized = sorted(
        (int(match.group(1)), path) for path in previews if (match := _PREVIEW.search(path))
    )
    if not sized:
        return None
    if at_most:
        below = [path for size, path in sized if size <= wanted]
        return below[-1] if below else sized[0][1]
    above = [path for size, path in sized if size >= wanted]
    return above[0] if above else sized[-1][1]


def _int8_vectors(connection: sqlite3.Connection, ids: set[str]) -> dict[str, bytes]:
    try:
        model = VectorCache.default_model(connection)
    except HomeGalleryError:
        return {}
    found: dict[str, bytes] = {}
    rows = connection.execute(
        "SELECT media_id, vector FROM vectors WHERE model = ? AND vector IS NOT NULL", (model,)
    )
    for media_id, vector in rows:
        if media_id in ids:
            found[media_id] = bytes(vector)
    return found


def _record(entry: Entry, media: dict[str, str], vector: bytes | None) -> dict[str, Any]:
    name = entry.files[0].path.rpartition("/")[2] if entry.files else ""
    text = " ".join(
        str(part)
        for part in (
            entry.id,
            name,
            entry.date,
            entry.country,
            entry.city,
            entry.make,
            entry.model,
            entry.title,
            *entry.tags,
        )
        if part
    ).lower()
    record: dict[str, Any] = {
        "id": entry.id,
        "type": entry.type,
        "date": entry.date,
        "year": entry.year,
        "w": entry.width,
        "h": entry.height,
        "name": name,
        "tags": entry.tags,
        "country": entry.country,
        "city": entry.city,
        "make": entry.make,
        "model": entry.model,
        "text": text,
        **media,
    }
    if entry.latitude is not None and entry.longitude is not None:
        record["lat"], record["lon"] = entry.latitude, entry.longitude
    if vector:
        record["v"] = base64.b64encode(vector).decode("ascii")
    return {key: value for key, value in record.items() if value not in (None, [], "")}


def world_features(topology: dict[str, Any]) -> list[dict[str, Any]]:
    """GeoJSON features of a TopoJSON topology's first object (quantised arcs)."""
    transform = topology.get("transform") or {"scale": [1, 1], "translate": [0, 0]}
    (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append([round(x * sx + tx, 4), round(y * sy + ty, 4)])
        arcs.append(points)

    def ring(indices: list[int]) -> list[list[float]]:
        points: list[list[float]] = []
        for index in indices:
            arc = arcs[~index][::-1] if index < 0 else arcs[index]
            points.extend(arc[1:] if points else arc)
        return points

    features = []
    name = next(iter(topology["objects"]))
    for geometry in topology["objects"][name]["geometries"]:
        if geometry["type"] == "Polygon":
            coordinates: Any = [ring(r) for r in geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            coordinates = [[ring(r) for r in polygon] for polygon in geometry["arcs"]]
        else:
            continue
        features.append(
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": geometry["type"], "coordinates": coordinates},
            }
        )
    return features


def _script(name: str, value: Any) -> str:
    # "</" cannot end a script here (a file, not inline), but keep it out anyway.
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    return f"window.{name} = {text};\n"


def _copy_assets(root: Path, base_path: str | None) -> None:
    page = (VIEWER_DIR / "index.html").read_text(encoding="utf-8")
    if base_path:
        from html import escape

        page = page.replace("<!--base-->", f'<base href="{escape(base_path, quote=True)}">')
    (root / "index.html").write_text(page, encoding="utf-8")
    for name in ("viewer.js", "viewer.css"):
        shutil.copyfile(VIEWER_DIR / name, root / name)
    import xstatic.pkg.leaflet as leaflet  # lazy: only exports need Leaflet's files

    vendor = root / "vendor" / "leaflet"
    (vendor / "images").mkdir(parents=True)
    for name in ("leaflet.js", "leaflet.css"):
        shutil.copyfile(Path(leaflet.BASE_DIR) / name, vendor / name)
    for image in (Path(leaflet.BASE_DIR) / "images").iterdir():
        shutil.copyfile(image, vendor / "images" / image.name)
    world = world_features(json.loads(WORLD_FILE.read_text())) if WORLD_FILE.is_file() else None
    (root / "world.js").write_text(_script("WORLD", world), encoding="utf-8")


def _copy_media(
    entry: Entry, storage: Path, root: Path, report: StaticReport, dry_run: bool
) -> dict[str, str]:
    chosen = {
        "grid": _pick(entry.previews, GRID_SIZE, at_most=False),
        "full": _pick(entry.previews, DETAIL_SIZE, at_most=True),
        "video": next((p for p in entry.previews if _VIDEO.search(p)), None),
    }
    media: dict[str, str] = {}
    for role, relative in chosen.items():
        if relative is None:
            continue
        source = storage / relative
        if not source.is_file():
            continue
        name = f"media/{relative.rpartition('/')[2]}"
        media[role] = name
        if not (root / name).exists():
            report.files += 1
            report.bytes += source.stat().st_size
            if not dry_run:
                shutil.copyfile(source, root / name)
    return media


def _archive(folder: Path, target: Path, kind: str) -> None:
    with atomic_path(target) as temporary:
        if kind == ".zip":
            with zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(folder.rglob("*")):
                    if path.is_file():
                        archive.write(path, path.relative_to(folder).as_posix())
        else:
            with tarfile.open(temporary, "w:gz") as archive:
                for path in sorted(folder.rglob("*")):
                    if path.is_file():
                        archive.add(path, path.relative_to(folder).as_posix())


def export_static(
    config: Config,
    query: str,
    target: Path,
    *,
    title: str = "Gallery",
    base_path: str | None = None,
    random_folder: bool = False,
    dry_run: bool = False,
    quiet: bool = False,
) -> StaticReport:
    kind = archive_kind(target)
    if kind is None and target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise StaticExportError(f"{target}: exists and is not an empty folder")
    if base_path is not None and not base_path.startswith("/"):
        raise StaticExportError(f"--base-path {base_path!r}: must start with / (e.g. /album/)")
    if base_path is not None and not base_path.endswith("/"):
        base_path += "/"
    report = StaticReport(target=target, dry_run=dry_run)
    gallery = Gallery(config)
    try:
        entries = gallery.search(query)
        vectors = _int8_vectors(gallery.reader(), {entry.id for entry in entries})
    finally:
        gallery.close()
    report.entries = len(entries)
    report.folder = secrets.token_urlsafe(12) if random_folder else ""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}.") as staging:
        root = Path(staging) / "out" / report.folder if report.folder else Path(staging) / "out"
        (root / "media").mkdir(parents=True)
        records = []
        with Progress("export", total=len(entries), quiet=quiet) as progress:
            for entry in entries:
                media = _copy_media(entry, config.storage.path, root, report, dry_run)
                if "grid" in media or "video" in media:
                    records.append(_record(entry, media, vectors.get(entry.id)))
                progress.advance()
        report.entries = len(records)
        report.similar = sum(1 for record in records if "v" in record)
        report.places = sum(1 for record in records if "lat" in record)
        if dry_run:
            return report
        data = {"title": title, "minScore": DEFAULT_MIN_SCORE, "entries": records}
        (root / "data.js").write_text(_script("GALLERY", data), encoding="utf-8")
        _copy_assets(root, base_path)
        built = Path(staging) / "out"
        _readable(built)
        if kind is not None:
            _archive(built, target, kind)
            target.chmod(0o644 & ~_umask())
        else:
            if target.exists():
                target.rmdir()
            built.rename(target)
    return report


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _readable(folder: Path) -> None:
    """Folders 755 and files 644 (less what the umask takes): a web server running as
    another user must read them, and temporary folders are made private."""
    mask = _umask()
    folder.chmod(0o755 & ~mask)
    for path in folder.rglob("*"):
        path.chmod((0o755 if path.is_dir() else 0o644) & ~mask)
