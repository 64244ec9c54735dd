"""Index every source of a gallery: the ``index`` stage as one call."""

from __future__ import annotations

import msgspec

from homegallery.config import Config, Source
from homegallery.index.add_limits import AddLimits
from homegallery.index.journal import Journal
from homegallery.index.update import SourceResult, update_source
from homegallery.progress import Progress
from homegallery.within import source_roots


class IndexRunResult(msgspec.Struct, kw_only=True):
    sources: list[SourceResult]
    journals: list[Journal] = []

    def total(self, field: str) -> int:
        return sum(int(getattr(result, field)) for result in self.sources)

    @property
    def ok(self) -> bool:
        return all(result.status != "error" for result in self.sources)

    @property
    def pending(self) -> int:
        return self.total("pending")


def update_index(
    config: Config,
    sources: list[Source] | None = None,
    add_limits: AddLimits | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    threads: int = 0,
) -> IndexRunResult:
    """Updates the index of each source (all of the config's by default).

    A source that fails (unmounted disk, unreadable folder) is reported in its result
    and keeps its index; the other sources are still updated.
    """
    results = []
    journals = []
    for source in config.sources if sources is None else sources:
        roots = source_roots(config.sources, source)
        result, journal = update_source(source, add_limits, dry_run, progress, threads, roots)
        results.append(result)
        if journal is not None:
            journals.append(journal)
    return IndexRunResult(sources=results, journals=journals)
