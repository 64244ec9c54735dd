"""The user's tags, ratings and named faces written back as XMP sidecars, for digiKam,
Lightroom, darktable and the next import alike.

One sidecar per file copy: ``IMG_1.jpg.xmp`` beside ``IMG_1.jpg`` (an existing
``IMG_1.xmp`` is updated instead). Only ``dc:subject`` (the tags), ``xmp:Rating`` and
the named face regions (MWG ``mwg-rs:Regions``) are set; every other field of an
existing sidecar stays as it was, and originals are never opened for writing. A face
is written when a user confirmed its person (naming, merging or moving put it there)
and the person has a name; it replaces a region of the same name or one over the same
face, and every other region (other people, pets, focus areas) stays. Names are added
and updated, never taken away. A sidecar changed by someone else since homegallery last
wrote it (or, never written by homegallery, since the last import read it) is not
overwritten but reported: its edits would be lost, and the next import reads them.
What homegallery wrote is remembered by content hash in ``xmp-export.json`` beside
the catalog.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from homegallery import _core
from homegallery.atomic import atomic_path, write_text
from homegallery.catalog.entry import Entry
from homegallery.config import Config, Source
from homegallery.errors import HomeGalleryError
from homegallery.extract.regions import face_regions
from homegallery.within import is_within, real_folder

SUBJECT = "Xmp.dc.subject"
RATING = "Xmp.xmp.Rating"
MEDIA_FILE_KINDS = frozenset({"image", "raw", "video"})
EMPTY_PACKET = (
    '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
    '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
    ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n"
    '<?xpacket end="w"?>\n'
)
# Tag trees other programs keep beside dc:subject, and read before it (digiKam,
# Lightroom): they follow the change, their hierarchy kept.
HIERARCHIES = (("Xmp.digiKam.TagsList", "/"), ("Xmp.lr.hierarchicalSubject", "|"))
REGION_LIST = "Xmp.mwg-rs.Regions/mwg-rs:RegionList"
DIMENSIONS = "Xmp.mwg-rs.Regions/mwg-rs:AppliedToDimensions"
_SAME_FACE = 0.3  # intersection over union from which two regions mark one face
Status = Literal["create", "update", "unchanged", "conflict", "refused"]


class SidecarError(HomeGalleryError):
    """A sidecar export that cannot start (the message says why)."""


@dataclass(frozen=True, order=True)
class NamedRegion:
    """A named face as MWG writes it: centre and size, relative to the stored picture."""

    name: str
    x: float
    y: float
    width: float
    height: float

    def rounded(self) -> NamedRegion:
        return NamedRegion(
            self.name, *(round(v, 4) for v in (self.x, self.y, self.width, self.height))
        )

    def marks_same_face(self, other: NamedRegion) -> bool:
        if self.name.casefold() == other.name.casefold():
            return True
        left = max(self.x - self.width / 2, other.x - other.width / 2)
        right = min(self.x + self.width / 2, other.x + other.width / 2)
        top = max(self.y - self.height / 2, other.y - other.height / 2)
        bottom = min(self.y + self.height / 2, other.y + other.height / 2)
        inter = max(0.0, right - left) * max(0.0, bottom - top)
        union = self.width * self.height + other.width * other.height - inter
        return union > 0 and inter / union >= _SAME_FACE


@dataclass(frozen=True)
class FacesToWrite:
    """An entry's confirmed named faces and the stored picture's size in pixels."""

    regions: list[NamedRegion]
    dimensions: tuple[int, int] | None


@dataclass(frozen=True)
class _Read:
    tags: list[str]
    rating: int | None
    regions: list[NamedRegion]


@dataclass
class SidecarChange:
    sidecar: Path
    entry_id: str
    status: Status
    before: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    rating_before: int | None = None
    rating_after: int | None = None
    reason: str = ""
    template: Path | None = None  # a new mirror sidecar starts as a copy of the source's
    regions_before: list[NamedRegion] = field(default_factory=list)
    faces: FacesToWrite | None = None  # None: the sidecar's regions stay as they are

    @property
    def regions_after(self) -> list[NamedRegion]:
        if self.faces is None:
            return self.regions_before
        ours = self.faces.regions
        kept = [r for r in self.regions_before if not any(r.marks_same_face(o) for o in ours)]
        return kept + ours

    @property
    def regions_change(self) -> bool:
        return sorted(r.rounded() for r in self.regions_after) != sorted(
            r.rounded() for r in self.regions_before
        )

    def diff(self) -> str:
        removed = [f"-{tag}" for tag in self.before if tag not in self.after]
        added = [f"+{tag}" for tag in self.after if tag not in self.before]
        parts = added + removed
        if self.regions_change:
            before = {region.rounded() for region in self.regions_before}
            parts += [f"+face:{r.name}" for r in self.regions_after if r.rounded() not in before]
            after = {region.rounded() for region in self.regions_after}
            parts += [f"-face:{r.name}" for r in self.regions_before if r.rounded() not in after]
        if self.rating_after is not None and self.rating_after != self.rating_before:
            parts.append(f"rating {self.rating_before if self.rating_before is not None else '-'}"
                         f"→{self.rating_after}")  # fmt: skip
        return " ".join(parts)


def state_file(config: Config) -> Path:
    return config.database.path.parent / "xmp-export.json"


def load_state(path: Path) -> dict[str, str]:
    """Sidecar path → blake3 of what homegallery last wrote there."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise SidecarError(f"{path}: unreadable export record: {error}") from None
    written = data.get("written") if isinstance(data, dict) else None
    if not isinstance(written, dict):
        raise SidecarError(f"{path}: not an export record")
    return {str(key): str(value) for key, value in written.items()}


def save_state(path: Path, state: dict[str, str]) -> None:
    write_text(path, json.dumps({"written": dict(sorted(state.items()))}, indent=1) + "\n")


def content_id(path: Path) -> str | None:
    digest, _, error = _core.hash_files([str(path)])[0]
    return None if error else digest


def _read(path: Path) -> _Read:
    import pyexiv2  # lazy: exiv2 loads only when a sidecar is read

    pyexiv2.set_log_level(4)
    with pyexiv2.Image(str(path)) as image:
        xmp = image.read_xmp()
    subject = xmp.get(SUBJECT) or []
    tags = [str(tag) for tag in subject] if isinstance(subject, list) else [str(subject)]
    try:
        rating = int(xmp[RATING]) if RATING in xmp else None
    except (TypeError, ValueError):
        rating = None
    return _Read(tags, rating, _named_regions(xmp))


def _named_regions(xmp: dict[str, object]) -> list[NamedRegion]:
    """The named face regions of a sidecar as stored (orientation 1: no turn)."""
    return [
        NamedRegion(r.name, r.x + r.width / 2, r.y + r.height / 2, r.width, r.height)
        for r in face_regions(xmp)
    ]


@dataclass(frozen=True)
class Target:
    """Where the sidecar of one file goes, and what may already be known of it."""

    sidecar: Path
    root: str  # the real folder it must lie in
    in_place: bool  # beside the original (else in a mirror folder)
    imported_id: str | None  # the sidecar's id in the source's index (in place only)
    template: Path | None = None  # in a mirror: the source's own sidecar of the file


def _target(source: Source, path: str, mirror: Path | None, indexed: dict[str, str]) -> Target:
    name = path.rpartition("/")[2]
    folder = path.rpartition("/")[0]
    stem = name.rpartition(".")[0] or name
    base = mirror / Path(source.dir).name if mirror else Path(source.dir)
    candidates = [f"{folder}/{name}.xmp" if folder else f"{name}.xmp"]
    candidates.append(f"{folder}/{stem}.xmp" if folder else f"{stem}.xmp")
    chosen = next((c for c in candidates if (base / c).exists() or c in indexed), candidates[0])
    return Target(
        sidecar=base / chosen,
        root=real_folder(base) if base.exists() else str(base),
        in_place=mirror is None,
        imported_id=None if mirror else indexed.get(chosen),
        template=Path(source.dir) / chosen if mirror and chosen in indexed else None,
    )


def plan_entry(
    entry: Entry,
    sources: dict[str, tuple[Source, dict[str, str]]],
    state: dict[str, str],
    mirror: Path | None,
    faces: FacesToWrite | None = None,
) -> list[SidecarChange]:
    """What writing this entry's tags, rating and named faces would do to each of its
    files' sidecars."""
    changes: list[SidecarChange] = []
    seen: set[Path] = set()
    for file in entry.files:
        known = sources.get(str(Path(file.source)))
        if file.kind not in MEDIA_FILE_KINDS or known is None:
            continue
        source, indexed = known
        target = _target(source, file.path, mirror, indexed)
        if target.sidecar in seen:
            continue
        seen.add(target.sidecar)
        changes.append(_plan_one(entry, target, state, faces))
    return changes


def _plan_one(
    entry: Entry, target: Target, state: dict[str, str], faces: FacesToWrite | None
) -> SidecarChange:
    change = SidecarChange(
        sidecar=target.sidecar,
        entry_id=entry.id,
        status="create",
        after=list(entry.tags),
        rating_after=entry.rating,
        faces=faces if faces is not None and faces.regions else None,
    )
    path = target.sidecar
    if not is_within(real_folder(path.parent) if path.parent.exists() else str(path.parent),
                     (target.root,)):  # fmt: skip
        change.status, change.reason = "refused", "its folder leads outside the source"
        return change
    if path.is_symlink() or (path.exists() and not path.is_file()):
        change.status, change.reason = "refused", "not a regular file"
        return change
    if not path.exists():
        if target.template is not None and target.template.is_file():
            change.template = target.template
            try:
                _take_read(change, _read(target.template))
            except RuntimeError as error:
                change.status, change.reason = "refused", f"not readable XMP: {error}"
        return change
    current = content_id(path)
    recorded = state.get(str(path))
    # Safe to rewrite: what homegallery wrote last, or what the last import read (its
    # tags are in the catalog then); in a mirror, a file homegallery never wrote.
    known = current is not None and current in (recorded, target.imported_id)
    if not known and (recorded is not None or target.in_place):
        change.status = "conflict"
        change.reason = (
            "changed by another program since the last export"
            if recorded is not None
            else "changed since the last import"
            if target.imported_id is not None
            else "not imported yet"
        ) + " (run the import, then export again)"
        return change
    try:
        _take_read(change, _read(path))
    except RuntimeError as error:
        change.status, change.reason = "refused", f"not readable XMP: {error}"
        return change
    rating_same = entry.rating is None or entry.rating == change.rating_before
    same = change.before == change.after and rating_same and not change.regions_change
    change.status = "unchanged" if same else "update"
    return change


def _take_read(change: SidecarChange, read: _Read) -> None:
    change.before, change.rating_before, change.regions_before = (
        read.tags,
        read.rating,
        read.regions,
    )


def follow_hierarchy(
    paths: list[str], separator: str, before: list[str], after: list[str]
) -> list[str]:
    """A tag tree after the flat tags went from ``before`` to ``after``: paths whose
    last part was removed go, new tags join at the top, every other path stays."""
    removed = {tag.casefold() for tag in before} - {tag.casefold() for tag in after}
    kept = [p for p in map(str, paths) if p.rsplit(separator, 1)[-1].casefold() not in removed]
    leaves = {p.rsplit(separator, 1)[-1].casefold() for p in kept}
    added = [tag for tag in after if tag.casefold() not in leaves]
    return kept + added


def write_change(change: SidecarChange) -> str:
    """Writes one planned sidecar atomically; returns its new content id."""
    import pyexiv2  # lazy: exiv2 loads only when a sidecar is written

    pyexiv2.set_log_level(4)
    path = change.sidecar
    updating = change.status == "update"
    if updating:
        original = path.read_bytes()
    elif change.template is not None:
        original = change.template.read_bytes()
    else:
        original = EMPTY_PACKET.encode()
    mode = path.stat().st_mode & 0o777 if updating else 0o644
    values: dict[str, object] = {SUBJECT: change.after}
    if change.rating_after is not None:
        values[RATING] = str(change.rating_after)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as temporary:
        temporary.write_bytes(original)
        with pyexiv2.Image(str(temporary)) as image:
            present = image.read_xmp()
            for key, separator in HIERARCHIES:
                if isinstance(present.get(key), list):
                    values[key] = follow_hierarchy(
                        present[key], separator, change.before, change.after
                    )
            image.modify_xmp(values)
            if change.faces is not None and change.regions_change:
                _write_regions(image, present, change.faces)
        temporary.chmod(mode)  # the temporary file is private; the sidecar is not
    digest = content_id(path)
    if digest is None:
        raise SidecarError(f"{path}: written but cannot be read back")
    return digest


def _write_regions(image: Any, present: dict[str, Any], faces: FacesToWrite) -> None:
    """Rewrites the region list: every region kept as it was (all its fields) except
    named faces ours replace, then ours."""
    kept = [
        item
        for item in _region_items(present)
        if not any(
            region.marks_same_face(ours)
            for region in _named_regions({f"{REGION_LIST}[1]/{k}": v for k, v in item.items()})
            for ours in faces.regions
        )
    ]
    kept += [_region_item(region) for region in faces.regions]
    image.modify_xmp({key: None for key in present if key.startswith(REGION_LIST + "[")})
    values: dict[str, Any] = {} if REGION_LIST in present else {REGION_LIST: 'type="Bag"'}
    if f"{DIMENSIONS}/stDim:w" not in present and faces.dimensions is not None:
        width, height = faces.dimensions
        values.update({f"{DIMENSIONS}/stDim:w": str(width), f"{DIMENSIONS}/stDim:h": str(height),
                       f"{DIMENSIONS}/stDim:unit": "pixel"})  # fmt: skip
    for position, item in enumerate(kept, start=1):
        for rest, value in item.items():
            values[f"{REGION_LIST}[{position}]" + (f"/{rest}" if rest else "")] = value
    image.modify_xmp(values)


def _region_items(present: dict[str, Any]) -> list[dict[str, Any]]:
    """The sidecar's regions in order, each as its fields below the list item."""
    items: dict[int, dict[str, Any]] = {}
    for key, value in present.items():
        if key.startswith(REGION_LIST + "["):
            position, _, rest = key[len(REGION_LIST) + 1 :].partition("]")
            if position.isdigit():
                items.setdefault(int(position), {})[rest.lstrip("/")] = value
    return [items[position] for position in sorted(items)]


def _region_item(region: NamedRegion) -> dict[str, Any]:
    area = zip("xywh", (region.x, region.y, region.width, region.height), strict=True)
    return {
        "mwg-rs:Name": region.name,
        "mwg-rs:Type": "Face",
        **{f"mwg-rs:Area/stArea:{part}": f"{value:.5f}" for part, value in area},
        "mwg-rs:Area/stArea:unit": "normalized",
    }
