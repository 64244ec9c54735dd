"""Why an entry has no preview, as a viewer may read it.

The grid shows such an entry as broken and the detail view says why, instead of a
grey box that looks like "not yet". The cause comes from the extract step's stored
failure, with every path on the server replaced by the file's path in its source
(viewers see sources by name, never where they are on the server).
"""

from __future__ import annotations

from pathlib import Path

from homegallery.catalog.entry import Entry
from homegallery.extract.schema import failure_kind, read_failure
from homegallery.extract.steps import Step
from homegallery.storage import Storage

_STEPS: tuple[Step, ...] = ("preview", "video", "meta")  # the first found is told


def entry_problem(storage: Storage, entry: Entry, source_dirs: tuple[str, ...]) -> str:
    """``preview failed: <cause>`` for an entry without previews whose extract failed;
    "" otherwise (it has previews, or they are still to come)."""
    if entry.previews:
        return ""
    for step in _STEPS:
        if not storage.exists(entry.id, failure_kind(step)):
            continue
        try:
            failure = read_failure(storage, entry.id, step)
        except ValueError:
            return f"{step} failed"
        if failure is None:
            continue
        return f"{step} failed: {_hide_paths(failure.message, failure.path, entry, source_dirs)}"
    return ""


def _hide_paths(message: str, original: str, entry: Entry, source_dirs: tuple[str, ...]) -> str:
    """The message with the original's path shown as in its source, and any other path
    inside ``source_dirs`` (the sources, the storage) from there on."""
    relative = next((file.path for file in entry.files if original.endswith(file.path)), "")
    text = message.replace(f"{original}: ", "").replace(original, relative or Path(original).name)
    for folder in sorted(source_dirs, key=len, reverse=True):
        text = text.replace(folder.rstrip("/") + "/", "")
    return text.strip() or "failed"
