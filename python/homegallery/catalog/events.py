"""User changes (tags, favourite, rating, people) as an append-only log in the catalog.

Changes are never written into entries alone: a build makes every entry anew from
the index and the storage, and would lose them. Each change is an :class:`Event`
with its time and user, appended to ``events`` and applied to the entries it names;
every build applies the whole log again, so changes survive rebuilds. Events carry a
unique ``uid`` so that importing the same export twice adds nothing.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path

import msgspec

from homegallery.atomic import atomic_open
from homegallery.catalog.doc import decode_doc
from homegallery.catalog.entry import Entry
from homegallery.catalog.fold import fold
from homegallery.catalog.generation import bump_generation
from homegallery.catalog.rows import mark_updated, now_text, replace_entries
from homegallery.catalog.schema import write_transaction
from homegallery.errors import HomeGalleryError


class EventError(HomeGalleryError, ValueError):
    """An event that cannot be recorded (bad rating, empty tag, unreadable line …)."""


class PeopleChange(msgspec.Struct, kw_only=True, omit_defaults=True):
    """A change to one person, kept as faces and names so every regrouping replays it.

    ``person`` is the person's key; faces are ``<media id>:<index>`` (the face's place
    in its photo's stored faces). ``add``: faces that belong to this person whatever
    their descriptors say (naming, merging and moving put a person's faces here);
    ``remove``: faces that never join it again; ``merge_into``: every face of this
    person belongs to that one from now on.
    """

    person: str
    add: list[str] = msgspec.field(default_factory=list)
    remove: list[str] = msgspec.field(default_factory=list)
    name: str | None = None  # "" takes the name away
    merge_into: str | None = None
    hidden: bool | None = None


class Event(msgspec.Struct, kw_only=True, omit_defaults=True):
    uid: str
    time: str  # ISO 8601, UTC
    user: str
    ids: list[str]
    add_tags: list[str] = msgspec.field(default_factory=list)
    remove_tags: list[str] = msgspec.field(default_factory=list)
    favorite: bool | None = None
    rating: int | None = None
    people: PeopleChange | None = None


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder(Event)


MAX_TAG_LENGTH = 200  # characters, after runs of spaces become one
# Control characters (Unicode category Cc, NUL among them), lone surrogates and line
# or paragraph separators: nothing a tag is typed with, and each would break a line
# of the event export or a page.
_REFUSED_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _tag_problem(tag: object) -> str | None:
    """Why ``tag`` cannot be a tag, or None when it can."""
    if not isinstance(tag, str) or not tag.strip():
        return f"a tag must be non-empty text, got {tag!r}"
    refused = _REFUSED_CHARS.search(tag)
    if refused is not None:
        return (
            f"a tag must not hold control characters (U+{ord(refused.group()):04X} in {tag[:40]!r})"
        )
    return None


def _clean_tags(tags: Iterable[str], what: str) -> list[str]:
    """Tags with runs of spaces made one, each once (without case), in their order.

    One pass with a set: the list may come from a request, so its work must stay
    linear in its length.
    """
    if isinstance(tags, str):
        tags = [tags]
    cleaned: list[str] = []
    seen: set[str] = set()
    for tag in tags:
        problem = _tag_problem(tag)
        if problem is not None:
            raise EventError(f"{what}: {problem}")
        text = " ".join(tag.split())
        if len(text) > MAX_TAG_LENGTH:
            raise EventError(
                f"{what}: a tag has at most {MAX_TAG_LENGTH} characters, got {len(text)}"
            )
        folded = fold(text)
        if folded not in seen:
            seen.add(folded)
            cleaned.append(text)
    return cleaned


def _check(event: Event) -> Event:
    if event.people is not None:
        return _check_people(event)
    if not event.ids:
        raise EventError("an event needs at least one media id")
    if any(not isinstance(media_id, str) or not media_id for media_id in event.ids):
        raise EventError(f"invalid media id in {event.ids!r}")
    if not event.user:
        raise EventError("an event needs a user")
    if event.rating is not None and not -1 <= event.rating <= 5:
        raise EventError(f"rating {event.rating} is outside -1 (rejected) … 5")
    if not (event.add_tags or event.remove_tags or event.favorite is not None
            or event.rating is not None):  # fmt: skip
        raise EventError("the event changes nothing (no tags, favourite or rating)")
    return event


MAX_NAME_LENGTH = 200


def _check_people(event: Event) -> Event:
    change = event.people
    assert change is not None
    if not event.user:
        raise EventError("an event needs a user")
    if not change.person or len(change.person) > MAX_NAME_LENGTH:
        raise EventError("a person change needs the person's key")
    for face in (*change.add, *change.remove):
        media_id, _, index = face.rpartition(":")
        if not media_id or not index.isdigit():
            raise EventError(f"{face!r} is not a face (<media id>:<index>)")
    if change.name:
        problem = _tag_problem(change.name)
        if problem is not None or len(change.name) > MAX_NAME_LENGTH:
            raise EventError(f"name: {problem or 'too long'}")
    if not (change.add or change.remove or change.name is not None
            or change.merge_into or change.hidden is not None):  # fmt: skip
        raise EventError("the event changes nothing about the person")
    return event


def new_people_event(change: PeopleChange, *, user: str) -> Event:
    """A checked person change stamped with a fresh uid and the current UTC time."""
    if change.name:
        change = msgspec.structs.replace(change, name=" ".join(change.name.split()))
    faces = [*change.add, *change.remove]
    return _check(
        Event(
            uid=uuid.uuid4().hex,
            time=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
            user=user,
            ids=list(dict.fromkeys(face.rpartition(":")[0] for face in faces)),
            people=change,
        )
    )


def new_event(
    ids: Sequence[str],
    *,
    user: str,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    favorite: bool | None = None,
    rating: int | None = None,
) -> Event:
    """A checked event stamped with a fresh uid and the current UTC time."""
    return make_event(
        ids,
        uid=uuid.uuid4().hex,
        time=datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
        user=user,
        add_tags=add_tags,
        remove_tags=remove_tags,
        favorite=favorite,
        rating=rating,
    )


def make_event(
    ids: Sequence[str],
    *,
    uid: str,
    time: str,
    user: str,
    add_tags: Iterable[str] = (),
    remove_tags: Iterable[str] = (),
    favorite: bool | None = None,
    rating: int | None = None,
) -> Event:
    """A checked event with a given uid and time: one carried over from another log,
    whose uid keeps a second import of the same log from adding it again."""
    if not uid:
        raise EventError("an event needs a uid")
    return _check(
        Event(
            uid=uid,
            time=time,
            user=user,
            ids=list(dict.fromkeys(ids)),
            add_tags=_clean_tags(add_tags, "add"),
            remove_tags=_clean_tags(remove_tags, "remove"),
            favorite=favorite,
            rating=rating,
        )
    )


def apply_event(entry: Entry, event: Event) -> Entry:
    """The entry with one event's changes (tags compare without case)."""
    tags = list(entry.tags)
    if event.remove_tags:
        removed = {fold(tag) for tag in event.remove_tags}
        tags = [tag for tag in tags if fold(tag) not in removed]
    present = {fold(tag) for tag in tags}
    for tag in event.add_tags:
        if fold(tag) not in present:
            tags.append(tag)
            present.add(fold(tag))
    favorite = entry.favorite if event.favorite is None else event.favorite
    rating = entry.rating if event.rating is None else event.rating
    return msgspec.structs.replace(entry, tags=tags, favorite=favorite, rating=rating)


def read_events(
    connection: sqlite3.Connection, after: int = 0, limit: int = -1
) -> list[tuple[int, Event]]:
    """Events in the order they were recorded, after sequence number ``after`` (at most
    ``limit`` of them; -1: all)."""
    return [
        (seq, _DECODER.decode(data))
        for seq, data in connection.execute(
            "SELECT seq, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
        )
    ]


def events_by_entry(connection: sqlite3.Connection) -> dict[str, list[Event]]:
    """Every event, grouped by the media id it applies to, in recorded order."""
    grouped: dict[str, list[Event]] = {}
    for _, event in read_events(connection):
        if event.people is not None:  # applied to people, not to entries
            continue
        for media_id in event.ids:
            grouped.setdefault(media_id, []).append(event)
    return grouped


def _append(connection: sqlite3.Connection, events: Sequence[Event]) -> list[Event]:
    """Appends events whose uid is new; returns those appended."""
    added: list[Event] = []
    for event in events:
        cursor = connection.execute(
            "INSERT OR IGNORE INTO events (uid, time, user, data) VALUES (?, ?, ?, ?)",
            (event.uid, event.time, event.user, _ENCODER.encode(event)),
        )
        if cursor.rowcount:
            added.append(event)
    return added


def append_events(connection: sqlite3.Connection, events: Sequence[Event]) -> list[Event]:
    """Checks and appends events (inside the caller's transaction); returns those new."""
    return _append(connection, [_check(event) for event in events])


def _effects(
    connection: sqlite3.Connection, events: Sequence[Event]
) -> tuple[list[Event], dict[str, tuple[Entry, str]]]:
    """The events that change something, and the entries they change (new form, signature).

    An event naming an entry the catalog does not hold (yet) counts as a change: the
    build that adds the entry applies it.
    """
    current: dict[str, tuple[Entry, str] | None] = {}
    changed: dict[str, tuple[Entry, str]] = {}
    effective: list[Event] = []
    for event in events:
        if event.people is not None:  # people changes are applied by catalog.people
            effective.append(event)
            continue
        effect = False
        for media_id in event.ids:
            if media_id not in current:
                row = connection.execute(
                    "SELECT d.doc, e.signature FROM entries e JOIN entry_docs d "
                    "ON d.entry = e.rowid WHERE e.id = ?",
                    (media_id,),
                ).fetchone()
                current[media_id] = (decode_doc(row[0]), row[1]) if row else None
            held = current[media_id]
            if held is None:
                effect = True
                continue
            entry, signature = held
            after = apply_event(entry, event)
            if (after.tags, after.favorite, after.rating) != (
                entry.tags,
                entry.favorite,
                entry.rating,
            ):
                current[media_id] = changed[media_id] = (after, signature)
                effect = True
        if effect:
            effective.append(event)
    return effective, changed


def _write(connection: sqlite3.Connection, changed: dict[str, tuple[Entry, str]]) -> int:
    if changed:
        bump_generation(connection, rebuilt=False)
        replace_entries(connection, list(changed.values()))
        mark_updated(connection, changed, now_text())
    return len(changed)


def apply_to_catalog(connection: sqlite3.Connection, events: Sequence[Event]) -> int:
    """Rewrites the entries the events change; returns how many entries changed."""
    return _write(connection, _effects(connection, events)[1])


def record_events(connection: sqlite3.Connection, events: Sequence[Event]) -> int:
    """Appends and applies events in one transaction; returns the entries changed.

    An event that would change nothing (a tag the entries have already, a removal of
    one they lack) is not appended: repeating a request must not grow the log.
    """
    for event in events:
        _check(event)
    with write_transaction(connection):
        effective, changed = _effects(connection, events)
        added = _append(connection, effective)
        if len(added) != len(effective):  # some were recorded before: apply only the rest
            changed = _effects(connection, added)[1]
        count = _write(connection, changed)
    return count


def export_events(connection: sqlite3.Connection, target: Path) -> int:
    """Writes every event as one JSON line (atomically); returns how many."""
    count = 0
    with atomic_open(target) as handle:
        for _, event in read_events(connection):
            handle.write(_ENCODER.encode(event) + b"\n")
            count += 1
    return count


def parse_event_lines(source: Path) -> list[Event]:
    """Events of a JSON-lines file; a bad line is an error naming file and line."""
    events: list[Event] = []
    with source.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                events.append(_check(_DECODER.decode(line)))
            except (msgspec.DecodeError, msgspec.ValidationError, EventError) as error:
                raise EventError(f"{source}:{number}: not a valid event: {error}") from None
    return events


def import_events(connection: sqlite3.Connection, source: Path) -> tuple[int, int]:
    """Records the events of a JSON-lines export; returns (added, already present).

    The whole file is checked before anything is recorded, so a bad line loses nothing
    and adds nothing.
    """
    return add_events(connection, parse_event_lines(source))


def add_events(connection: sqlite3.Connection, events: Sequence[Event]) -> tuple[int, int]:
    """Records events carried over from another log, each once by its uid, in one
    transaction; returns (added, already present)."""
    for event in events:
        _check(event)
    with write_transaction(connection):
        added = _append(connection, events)
        apply_to_catalog(connection, added)
    return len(added), len(events) - len(added)
