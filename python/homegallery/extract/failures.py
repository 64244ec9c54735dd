"""Which files failed which step, and why: for the run summary and ``extract --failed``.

A count per reason says something broke; the user needs the files, to look at them,
replace them or report them. Failures are stored per media id and step (see
:class:`~homegallery.extract.schema.Failure`); this names them by their path.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from homegallery.extract.listing import StorageListing
from homegallery.extract.schema import failure_kind, read_failure
from homegallery.extract.steps import STEPS
from homegallery.storage import Storage

SHOWN = 5  # failed files a summary names without -v


@dataclass(frozen=True)
class FailedFile:
    path: str
    step: str
    reason: str
    message: str

    def line(self) -> str:
        """``<path>: <step> failed (<reason>): <cause>``, the path said once."""
        cause = self.message.replace(f"{self.path}: ", "").strip() or self.reason
        return f"{self.path}: {self.step} failed ({self.reason}): {cause}"


class _Item(Protocol):
    @property
    def media_id(self) -> str: ...
    @property
    def path(self) -> Path: ...


def stored_failures(items: Iterable[_Item], storage_dir: Path) -> Iterator[FailedFile]:
    """The stored failures of ``items``, by path and then step."""
    listing = StorageListing(storage_dir)
    storage = Storage(storage_dir)
    found: list[FailedFile] = []
    for item in sorted(items, key=lambda item: item.media_id):
        kinds = listing.kinds(item.media_id)
        for step in STEPS:
            if failure_kind(step) not in kinds:
                continue
            try:
                failure = read_failure(storage, item.media_id, step)
            except ValueError as error:
                found.append(FailedFile(str(item.path), step, "unreadable", str(error)))
                continue
            if failure is not None:
                found.append(FailedFile(str(item.path), step, failure.reason, failure.message))
    order: dict[str, int] = {step: number for number, step in enumerate(STEPS)}
    yield from sorted(found, key=lambda failed: (failed.path, order[failed.step]))


def failure_lines(failed: Sequence[FailedFile], verbose: bool, hint: str = "") -> list[str]:
    """The failed files as summary lines: every one with ``verbose``, else the first
    few files (each with all its failed steps) and how many more (``hint``: how to see
    them all)."""
    if not failed:
        return []
    failed = sorted(failed, key=lambda failed_file: failed_file.path)  # steps keep their order
    files = list(dict.fromkeys(failed_file.path for failed_file in failed))
    shown_files = set(files if verbose else files[:SHOWN])
    lines = [f"  {f.line()}" for f in failed if f.path in shown_files]
    rest = len(files) - len(shown_files)
    if rest:
        more = f"{rest:,} more {'file' if rest == 1 else 'files'}"
        lines.append(f"  … and {more}{f' ({hint})' if hint else ''}")
    return lines
