"""``migrate_from_homegallery``: a HomeGallery installation as a homegallery one.

Order matters: the config first (our sources), then our file index of them (our ids),
then the tags: HomeGallery's events mapped onto our entries through the files and
recorded as events of our log, each under its HomeGallery id so that running the move
again adds nothing twice. Nothing of HomeGallery's is changed.
"""

from __future__ import annotations

import copy
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import yaml

from homegallery.atomic import write_text
from homegallery.catalog.events import Event, EventError, add_events, make_event
from homegallery.catalog.schema import open_writer
from homegallery.config import Config, load_config, parse_config
from homegallery.errors import HomeGalleryError
from homegallery.importer.lock import import_lock
from homegallery.index import load_index, update_index
from homegallery.migrate.hg_config import Translation, read_homegallery_config, translate
from homegallery.migrate.hg_events import EventLog, read_event_log
from homegallery.migrate.hg_files import SourceListing, entry_ids_of, read_homegallery_index
from homegallery.progress import Progress

log = logging.getLogger(__name__)

EVENT_USER = "homegallery-import"
UID_PREFIX = "homegallery:"
_SHOWN = 10  # unfound ids and skipped lines listed by name, the rest counted


class MigrateError(HomeGalleryError):
    """The move cannot go on (the message says why and what to do)."""


@dataclass
class MigrateReport:
    config_file: Path
    config_action: str  # "written", "kept", "would write"
    sources: int = 0
    users: int = 0
    indexed_files: int = 0
    events_read: int = 0
    events_carried: int = 0
    events_added: int = 0  # new in our log (the rest were carried before)
    targets: int = 0
    targets_found: int = 0
    unfound: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    dry_run: bool = False

    def lines(self) -> list[str]:
        would = "would " if self.dry_run else ""
        lines = [
            f"config: {self.config_action} {self.config_file} ({self.sources} sources, "
            f"{self.users} users)",
            f"files: {self.indexed_files:,} in the sources' index",
            f"tags: {self.events_read:,} HomeGallery events; {self.targets_found:,} of "
            f"{self.targets:,} tagged files found; {would}carry {self.events_carried:,} events"
            + ("" if self.dry_run else f" ({self.events_added:,} new)"),
        ]
        if self.unfound:
            shown = ", ".join(sha1[:12] for sha1 in self.unfound[:_SHOWN])
            more = f" and {len(self.unfound) - _SHOWN:,} more" if len(self.unfound) > _SHOWN else ""
            lines.append(
                f"not carried: tags of {len(self.unfound):,} files no source holds any more "
                f"(sha1 {shown}{more})"
            )
        lines += [f"note: {note}" for note in self.notes]
        if not self.dry_run:
            lines.append("next: `homegallery run import` makes previews and applies the tags")
        return lines


def _config_text(translation: Translation, origin: Path) -> str:
    header = (
        f"# homegallery config, carried over from HomeGallery's {origin}\n"
        f"# on {datetime.now(timezone.utc):%Y-%m-%d}; every key: README, Configuration.\n"
    )
    body = yaml.safe_dump(translation.config, sort_keys=False, allow_unicode=True)
    return header + body


def _event_time(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _our_events(event_log: EventLog, ids: dict[str, str], report: MigrateReport) -> list[Event]:
    events: list[Event] = []
    other = 0
    for theirs in event_log.events:
        other += len(theirs.other_actions)
        targets = [ids[sha1] for sha1 in theirs.target_ids if sha1 in ids]
        if not targets or not (theirs.add_tags or theirs.remove_tags):
            continue
        try:
            events.append(
                make_event(
                    targets,
                    uid=UID_PREFIX + theirs.id,
                    time=_event_time(theirs.date),
                    user=EVENT_USER,
                    add_tags=theirs.add_tags,
                    remove_tags=theirs.remove_tags,
                )
            )
        except EventError as error:
            report.notes.append(f"event {theirs.id}: not carried: {error}")
    if other:
        report.notes.append(f"{other:,} actions other than addTag/removeTag not carried")
    return events


def _index(config: Config, dry_run: bool, quiet: bool, scratch: Path) -> Config:
    """Our index of every source (in ``scratch`` for a dry run); the config it is under."""
    if dry_run:
        config = msgspec.structs.replace(
            config,
            sources=[
                msgspec.structs.replace(source, index=str(scratch / f"{number}.idx"))
                for number, source in enumerate(config.sources)
            ],
        )
    with Progress("index", quiet=quiet) as progress:
        result = update_index(config, progress=progress)
    for source in result.sources:
        if source.status == "error":
            raise MigrateError(f"indexing {source.source} failed: {source.error}")
    return config


def _listings(config: Config, translation: Translation, notes: list[str]) -> list[SourceListing]:
    hints = {str(source.dir): source.index for source in translation.sources}
    listings = []
    for source in config.sources:
        hint_file = hints.get(str(Path(source.dir)))
        known = read_homegallery_index(hint_file) if hint_file else {}
        if hint_file and not known:
            notes.append(
                f"{hint_file}: no readable HomeGallery index, so the photos of {source.dir} "
                "are hashed until every tagged one is found"
            )
        listings.append(
            SourceListing(folder=Path(source.dir), files=load_index(source.index_path), hints=known)
        )
    return listings


def migrate_from_homegallery(
    homegallery_config: Path,
    target: Path,
    *,
    force: bool = False,
    dry_run: bool = False,
    quiet: bool = False,
) -> MigrateReport:
    """Writes our config for HomeGallery's (unless one exists and not ``force``), indexes
    the sources and carries every tag its users set over into the catalog's events."""
    translation = translate(read_homegallery_config(homegallery_config), homegallery_config)
    keep = target.exists() and not force
    if keep:
        config = load_config(target)
        action = "kept (--force replaces it)"
    else:
        config = parse_config(copy.deepcopy(translation.config), target)
        action = "would write" if dry_run else "written"
        if not dry_run:
            write_text(target, _config_text(translation, homegallery_config))
    report = MigrateReport(
        config_file=target,
        config_action=action,
        sources=len(config.sources),
        users=len(config.server.auth.users),
        notes=list(translation.notes),
        dry_run=dry_run,
    )
    if not config.sources:
        raise MigrateError(f"{homegallery_config}: no sources to carry over")
    event_log = read_event_log(translation.events_file)
    report.events_read = len(event_log.events)
    report.notes += [f"{translation.events_file}: {problem}" for problem in event_log.problems]
    with tempfile.TemporaryDirectory() as scratch:
        if dry_run:
            indexed = _index(config, True, quiet, Path(scratch))
            return _carry(indexed, translation, event_log, report, None, quiet)
        with import_lock(config.database.path):
            indexed = _index(config, False, quiet, Path(scratch))
            return _carry(indexed, translation, event_log, report, config, quiet)


def _carry(
    config: Config,
    translation: Translation,
    event_log: EventLog,
    report: MigrateReport,
    record_into: Config | None,
    quiet: bool,
) -> MigrateReport:
    listings = _listings(config, translation, report.notes)
    report.indexed_files = sum(len(listing.files) for listing in listings)
    wanted = event_log.target_ids()
    with Progress("tagged files", quiet=quiet) as progress:
        ids = entry_ids_of(listings, wanted, progress)
    report.targets, report.targets_found = len(wanted), len(ids)
    report.unfound = sorted(wanted - set(ids))
    events = _our_events(event_log, ids, report)
    report.events_carried = len(events)
    if record_into is not None and events:
        connection = open_writer(record_into.database.path)
        try:
            report.events_added = add_events(connection, events)[0]
        finally:
            connection.close()
    return report
