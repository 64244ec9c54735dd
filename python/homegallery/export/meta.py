"""``export_meta``: the sidecars of the entries users changed (tags, ratings, people),
planned then written.

An entry is exported when a user changed it (it has events; with ``changes_after``,
events after that moment) and it matches the query. Each sidecar is written
atomically and recorded at once, so an interrupted export resumes without taking its
own sidecars for someone else's edits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from homegallery.catalog.entry import Entry
from homegallery.catalog.events import read_events
from homegallery.config import Config, Source
from homegallery.export.sidecars import (
    FacesToWrite,
    NamedRegion,
    SidecarChange,
    SidecarError,
    load_state,
    plan_entry,
    save_state,
    state_file,
    write_change,
)
from homegallery.extract.regions import stored_area
from homegallery.gallery import Gallery
from homegallery.index import load_index
from homegallery.progress import Progress

_SHOWN = 20


@dataclass
class MetaExportReport:
    changes: list[SidecarChange] = field(default_factory=list)
    entries: int = 0
    dry_run: bool = False

    def counts(self) -> Counter[str]:
        return Counter(change.status for change in self.changes)

    def lines(self, diff: bool = False) -> list[str]:
        counts = self.counts()
        verb = "would write" if self.dry_run else "wrote"
        lines = [
            f"{self.entries:,} changed entries: {verb} {counts['create']:,} new and "
            f"{counts['update']:,} updated sidecars, {counts['unchanged']:,} already up to "
            f"date, {counts['conflict']:,} edited elsewhere (left as they are), "
            f"{counts['refused']:,} refused"
        ]
        if diff:
            lines += [
                f"  {change.sidecar}: {change.diff()}"
                for change in self.changes
                if change.status in ("create", "update")
            ]
        troubles = [c for c in self.changes if c.status in ("conflict", "refused")]
        lines += [f"  {c.status}: {c.sidecar}: {c.reason}" for c in troubles[:_SHOWN]]
        if len(troubles) > _SHOWN:
            lines.append(f"  … and {len(troubles) - _SHOWN:,} more")
        return lines


def parse_moment(text: str) -> datetime:
    """``2024-05-01`` or an ISO time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SidecarError(
            f"not a date: {text!r} (use e.g. 2024-05-01 or 2024-05-01T18:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _changed_ids(gallery: Gallery, after: datetime | None) -> tuple[set[str], set[str]]:
    """The entries users changed, and the faces whose person a user confirmed."""
    changed: set[str] = set()
    confirmed: set[str] = set()
    for _, event in read_events(gallery.reader()):
        if event.people is not None:
            confirmed.update(event.people.add)
            confirmed.difference_update(event.people.remove)
        if after is None or parse_moment(event.time) > after:
            changed.update(event.ids)
    return changed, confirmed


def _faces_to_write(gallery: Gallery, entry: Entry, confirmed: set[str]) -> FacesToWrite:
    """The entry's named faces a user confirmed, as MWG regions of the stored picture."""
    regions = [
        NamedRegion(face.name, *stored_area(face.box, entry.orientation))
        for face in gallery.faces(entry.id)
        if face.name and face.key in confirmed
    ]
    dimensions = None
    if entry.width and entry.height:
        turned = entry.orientation in (5, 6, 7, 8)
        dimensions = (entry.height, entry.width) if turned else (entry.width, entry.height)
    return FacesToWrite(regions, dimensions)


def _sources(config: Config) -> dict[str, tuple[Source, dict[str, str]]]:
    """Each source by folder, with its indexed sidecars (path → id)."""
    return {
        str(Path(source.dir)): (
            source,
            {e.path: e.id for e in load_index(source.index_path) if e.kind == "sidecar"},
        )
        for source in config.sources
    }


def export_meta(
    config: Config,
    query: str = "",
    *,
    changes_after: datetime | None = None,
    mirror: Path | None = None,
    dry_run: bool = False,
    quiet: bool = False,
) -> MetaExportReport:
    report = MetaExportReport(dry_run=dry_run)
    gallery = Gallery(config)
    try:
        changed, confirmed = _changed_ids(gallery, changes_after)
        entries = [entry for entry in gallery.search(query) if entry.id in changed]
        faces = {entry.id: _faces_to_write(gallery, entry, confirmed) for entry in entries}
    finally:
        gallery.close()
    report.entries = len(entries)
    sources = _sources(config)
    record = state_file(config)
    state = load_state(record)
    try:
        with Progress("sidecars", total=len(entries), quiet=quiet) as progress:
            for entry in entries:
                for change in plan_entry(entry, sources, state, mirror, faces[entry.id]):
                    if not dry_run and change.status in ("create", "update"):
                        try:
                            state[str(change.sidecar)] = write_change(change)
                        except (OSError, RuntimeError) as error:
                            change.status, change.reason = "refused", str(error)
                    report.changes.append(change)
                progress.advance()
    finally:
        if not dry_run and any(c.status in ("create", "update") for c in report.changes):
            save_state(record, state)
    return report
