"""HomeGallery's event log: newline-delimited JSON, a header line, then user actions.

Each action line names its targets by sha1 of the file (``targetIds``) and holds
``addTag``/``removeTag`` actions. A line that is not JSON (a write cut off by a crash)
is skipped and reported with its number, since the lines around it still hold the
user's work.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from homegallery.errors import HomeGalleryError

HEADER_PREFIX = "home-gallery/events@1."
_SHA1 = re.compile(r"^[0-9a-f]{40}$")


class HomeGalleryEventsError(HomeGalleryError):
    """An events file that is not HomeGallery's (or cannot be read at all)."""


@dataclass
class HomeGalleryEvent:
    id: str
    date: str
    target_ids: list[str]
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)
    other_actions: list[str] = field(default_factory=list)  # names we cannot carry


@dataclass
class EventLog:
    events: list[HomeGalleryEvent] = field(default_factory=list)
    created: str = ""
    problems: list[str] = field(default_factory=list)  # "line 7: …", one per skipped line

    def target_ids(self) -> set[str]:
        return {target for event in self.events for target in event.target_ids}


def _event(data: object, number: int, created: str) -> HomeGalleryEvent | str:
    """The event of one decoded line, or why it is skipped."""
    if not isinstance(data, dict):
        return f"line {number}: not an event object"
    if data.get("type") != "userAction":
        return f"line {number}: event type {str(data.get('type'))[:40]!r} is not a user action"
    targets = data.get("targetIds")
    actions = data.get("actions")
    if not isinstance(targets, list) or not isinstance(actions, list):
        return f"line {number}: no targetIds or actions"
    ids = [t.lower() for t in targets if isinstance(t, str) and _SHA1.match(t.lower())]
    if not ids:
        return f"line {number}: no sha1 among its targetIds"
    event_id = data.get("id")
    date = data.get("date")
    event = HomeGalleryEvent(
        id=event_id if isinstance(event_id, str) and event_id else f"line-{number}",
        date=date if isinstance(date, str) and date else created,
        target_ids=list(dict.fromkeys(ids)),
    )
    for action in actions:
        if not isinstance(action, dict):
            continue
        name, value = action.get("action"), action.get("value")
        if name == "addTag" and isinstance(value, str):
            event.add_tags.append(value)
        elif name == "removeTag" and isinstance(value, str):
            event.remove_tags.append(value)
        else:
            event.other_actions.append(str(name)[:40])
    return event


def read_event_log(path: Path) -> EventLog:
    """Every user action of a HomeGallery events file, in recorded order."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return EventLog(problems=[f"{path}: no events file (no tags to carry)"])
    except OSError as error:
        raise HomeGalleryEventsError(f"{path}: cannot read: {error.strerror or error}") from None
    log = EventLog()
    with handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                log.problems.append(f"line {number}: not JSON (skipped)")
                continue
            if number == 1 and isinstance(data, dict) and "targetIds" not in data:
                kind = str(data.get("type", ""))
                if not kind.startswith(HEADER_PREFIX):
                    raise HomeGalleryEventsError(
                        f"{path}: not a HomeGallery events file (header type {kind[:60]!r})"
                    )
                log.created = str(data.get("created") or "")
                continue
            result = _event(data, number, log.created)
            if isinstance(result, str):
                log.problems.append(result)
            else:
                log.events.append(result)
    return log
