"""Files the user removed from the gallery: exclude rules the index keeps to itself.

``homegallery remove --keep`` writes one rule per file into a file beside the source's
index (``<index>.removed``), rather than into the user's config, whose comments and
order a rewrite would lose. The index reads these rules after the config's, so no
``!`` pattern of the config brings a removed file back; deleting a line (or the
file) does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from homegallery.atomic import write_text
from homegallery.config import Source

_SPECIAL = re.compile(r"([\\*?\[\]])")


def removed_file(source: Source) -> Path:
    return source.index_path.with_name(source.index_path.name + ".removed")


def exact_pattern(path: str) -> str:
    """A gitignore pattern matching exactly this source-relative path and nothing else."""
    escaped = _SPECIAL.sub(r"\\\1", path)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "
    return "/" + escaped


def removed_patterns(source: Source) -> list[str]:
    try:
        text = removed_file(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def add_removed(source: Source, paths: Iterable[str]) -> int:
    """Adds a rule for each path not ruled out yet (atomically); returns how many."""
    present = removed_patterns(source)
    known = set(present)
    new = [pattern for pattern in map(exact_pattern, paths) if pattern not in known]
    new = list(dict.fromkeys(new))
    if new:
        header = (
            "# files removed with `homegallery remove --keep`; delete a line to bring one back\n"
        )
        write_text(removed_file(source), header + "".join(f"{p}\n" for p in [*present, *new]))
    return len(new)
