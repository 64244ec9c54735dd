"""``remove_by_query``: entries out of the catalog, their events kept.

The catalog is made from the index, so an entry removed from it alone comes back
with the next build; with ``keep_out`` each of its files gets an exclude rule of the
index's own (:mod:`homegallery.index.removed`) and its source is indexed again at
once, so no later build, import or watch brings it back. Events are never removed:
a file brought back later gets its tags back with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from homegallery.catalog.entry import Entry
from homegallery.catalog.generation import bump_generation
from homegallery.catalog.rows import delete_entries
from homegallery.catalog.schema import open_writer, write_transaction
from homegallery.config import Config, Source
from homegallery.errors import HomeGalleryError
from homegallery.gallery import Gallery
from homegallery.importer.lock import import_lock
from homegallery.index import update_index
from homegallery.index.removed import add_removed
from homegallery.progress import Progress


class RemoveError(HomeGalleryError):
    """Nothing was removed (the message says why)."""


@dataclass
class RemoveReport:
    entries: int = 0
    files: int = 0
    rules: int = 0  # new exclude rules
    sample: list[str] = field(default_factory=list)  # a few of the files, as "source: path"
    dry_run: bool = False
    keep_out: bool = False

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        lines = [f"{verb} {self.entries:,} entries ({self.files:,} files) from the catalog"]
        lines += [f"  {item}" for item in self.sample]
        if self.files > len(self.sample):
            lines.append(f"  … and {self.files - len(self.sample):,} more files")
        if self.keep_out:
            rules = "would add" if self.dry_run else "added"
            lines.append(f"{rules} {self.rules:,} exclude rules: the next index leaves them out")
        elif self.entries:
            lines.append("the next build brings them back (--keep keeps them out)")
        lines.append("their tags, favourites and ratings stay in the event log")
        return lines


def _by_source(config: Config, entries: list[Entry]) -> dict[str, tuple[Source, list[str]]]:
    sources = {str(Path(source.dir)): source for source in config.sources}
    grouped: dict[str, tuple[Source, list[str]]] = {}
    for entry in entries:
        for file in entry.files:
            source = sources.get(str(Path(file.source)))
            if source is not None:
                grouped.setdefault(source.dir, (source, []))[1].append(file.path)
    return grouped


def remove_by_query(
    config: Config,
    query: str,
    *,
    keep_out: bool = False,
    dry_run: bool = False,
    quiet: bool = False,
) -> RemoveReport:
    """Removes the entries ``query`` matches (a QueryError for a query it cannot read)."""
    if not query.strip():
        raise RemoveError("give a query; an empty one would remove every entry")
    report = RemoveReport(dry_run=dry_run, keep_out=keep_out)
    with import_lock(config.database.path):
        gallery = Gallery(config)
        try:
            entries = gallery.search(query)
        finally:
            gallery.close()
        by_source = _by_source(config, entries)
        report.entries = len(entries)
        report.files = sum(len(entry.files) for entry in entries)
        report.sample = [
            f"{Path(file.source).name}: {file.path}"
            for entry in entries[:5]
            for file in entry.files
        ][:10]
        if keep_out:
            report.rules = sum(len(set(paths)) for _, paths in by_source.values())
        if dry_run or not entries:
            return report
        if keep_out:
            report.rules = sum(add_removed(source, paths) for source, paths in by_source.values())
            with Progress("index", quiet=quiet) as progress:
                update_index(
                    config, sources=[source for source, _ in by_source.values()], progress=progress
                )
        connection = open_writer(config.database.path)
        try:
            with write_transaction(connection):
                delete_entries(connection, [entry.id for entry in entries])
                bump_generation(connection)
        finally:
            connection.close()
    return report
