"""``fetch_gallery``: a remote gallery's entries (a query's subset), their previews and
web videos, and the tag changes of both sides, merged into the local gallery.

One round: the local tag changes on fetched entries go there first (each under its
own uid, so the remote records it once), then the remote's changes come here (the
log keeps each uid once), then the entries as the remote has them now replace the
fetched ones here; an entry the remote no longer gives is removed. The entries are
kept with a ``fetched:<url>`` signature, which builds leave alone. Each side's
position in the other's log is kept beside the catalog, so a round reads only what
is new.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from homegallery.atomic import write_text
from homegallery.catalog.build import FETCHED_SIGNATURE
from homegallery.catalog.entry import Entry
from homegallery.catalog.events import Event, EventError, add_events, make_event, read_events
from homegallery.catalog.generation import bump_generation
from homegallery.catalog.rows import delete_entries, replace_entries
from homegallery.catalog.schema import open_writer, write_transaction
from homegallery.config import Config
from homegallery.fetch.remote import FetchError, Remote
from homegallery.importer.lock import import_lock
from homegallery.progress import Progress
from homegallery.storage import Storage

_PREVIEW_PATH = re.compile(
    r"^([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{4,124})-"
    r"(image-preview-\d{2,5}\.jpg|video-preview-\d{3,4}\.mp4|video-frame-\d+\.jpg)$"
)


FETCHED_SOURCE = "fetched:"


@dataclass
class FetchReport:
    entries: int = 0
    added: int = 0
    removed: int = 0
    files: int = 0
    bytes: int = 0
    pushed: int = 0
    pulled: int = 0
    refused: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [
            f"entries: {self.entries:,} ({self.added:,} new, {self.removed:,} gone); "
            f"{self.files:,} previews and videos fetched ({self.bytes / 1e6:,.1f} MB)",
            f"tag changes: {self.pushed:,} sent, {self.pulled:,} received",
        ]
        lines += [f"  refused there: {reason}" for reason in self.refused[:20]]
        return lines


def _state_file(config: Config, url: str) -> Path:
    digest = hashlib.blake2b(url.encode(), digest_size=6).hexdigest()
    return config.database.path.parent / f"fetch-{digest}.json"


def _load_state(path: Path) -> dict[str, int]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"remote": 0, "local": 0}
    return {key: int(data.get(key, 0)) for key in ("remote", "local")}


def _fetched_ids(connection: sqlite3.Connection, signature: str) -> set[str]:
    rows = connection.execute("SELECT id FROM entries WHERE signature = ?", (signature,))
    return {row[0] for row in rows}


def _push(remote: Remote, events: list[Event], ids: set[str], report: FetchReport) -> None:
    for event in events:
        mine = [media_id for media_id in event.ids if media_id in ids]
        if not mine or not (event.add_tags or event.remove_tags):
            continue
        refused = remote.push(msgspec.structs.replace(event, ids=mine))
        if refused is None:
            report.pushed += 1
        else:
            report.refused.append(f"change {event.uid[:12]}: {refused}")


def _checked(events: list[Event]) -> list[Event]:
    """The remote's events that are events (a broken one is left out)."""
    good = []
    for event in events:
        try:
            good.append(
                make_event(
                    event.ids,
                    uid=event.uid,
                    time=event.time,
                    user=event.user,
                    add_tags=event.add_tags,
                    remove_tags=event.remove_tags,
                    favorite=event.favorite,
                    rating=event.rating,
                )
            )
        except EventError:
            continue
    return good


def _copy_files(remote: Remote, entry: Entry, storage: Storage, report: FetchReport) -> list[str]:
    """Fetches the entry's previews this storage lacks; returns those it has then."""
    kept = []
    for relative in entry.previews:
        match = _PREVIEW_PATH.match(relative)
        if match is None:
            continue
        media_id, kind = "".join(match.group(1, 2, 3)), match.group(4)
        if not storage.exists(media_id, kind):
            data = remote.file(entry.id, kind)
            if data is None:
                continue
            storage.write(media_id, kind, data)
            report.files += 1
            report.bytes += len(data)
        kept.append(relative)
    return kept


def _local_form(entry: Entry) -> Entry:
    """The remote's entry as this catalog keeps it: its files named under ``fetched:``
    so that no file of the remote's can ever be taken for one of the local sources
    (whose originals the server hands out)."""
    plain = msgspec.convert(msgspec.to_builtins(entry), Entry)
    files = [
        msgspec.structs.replace(file, source=FETCHED_SOURCE + Path(file.source).name)
        for file in plain.files
    ]
    return msgspec.structs.replace(plain, files=files)


def fetch_once(config: Config, remote: Remote, query: str, *, quiet: bool = False) -> FetchReport:
    report = FetchReport()
    signature = FETCHED_SIGNATURE + remote.url
    state_path = _state_file(config, remote.url)
    state = _load_state(state_path)
    storage = Storage(config.storage.path)
    with import_lock(config.database.path):
        connection = open_writer(config.database.path)
        try:
            fetched = _fetched_ids(connection, signature)
            local = read_events(connection, state["local"])
            _push(remote, [event for _, event in local], fetched, report)
            for last, events in remote.events(state["remote"]):
                report.pulled += add_events(connection, _checked(events))[0]
                state["remote"] = last
            row = connection.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()
            state["local"] = int(row[0])
            entries: list[tuple[Entry, str]] = []
            with Progress("entries", quiet=quiet) as progress:
                for entry in remote.entries(query):
                    previews = _copy_files(remote, entry, storage, report)
                    plain = _local_form(entry)
                    entries.append(
                        (
                            msgspec.structs.replace(plain, previews=previews, has_vector=False),
                            signature,
                        )
                    )
                    progress.advance()
            current = {entry.id for entry, _ in entries}
            gone = sorted(fetched - current)
            with write_transaction(connection):
                delete_entries(connection, gone)
                replace_entries(connection, entries)
                bump_generation(connection)
        finally:
            connection.close()
    write_text(state_path, json.dumps(state) + "\n")
    report.entries, report.removed = len(entries), len(gone)
    report.added = len(current - fetched)
    return report


def fetch_gallery(
    config: Config,
    url: str,
    query: str = "",
    *,
    username: str | None = None,
    password: str | None = None,
    watch_seconds: float | None = None,
    quiet: bool = False,
    on_round: Callable[[FetchReport], None] | None = None,
) -> FetchReport:
    """One round, or with ``watch_seconds`` a round every so often until interrupted."""
    remote = Remote(url)
    try:
        if username:
            remote.login(username, password or "")
        while True:
            report = fetch_once(config, remote, query, quiet=quiet)
            if on_round is not None:
                on_round(report)
            if watch_seconds is None:
                return report
            time.sleep(watch_seconds)
    except FetchError:
        raise
    finally:
        remote.close()
