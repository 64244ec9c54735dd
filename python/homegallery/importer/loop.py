"""The import loop: index → extract → build, chunk by chunk, until nothing is left.

``import_initial`` takes a big archive with add-limits so the catalog holds photos
after the first chunk, and shows both what is indexed and what the sources hold.
``import_update`` is one full pass for cron or after a change. Every stage is
resumable on its own (atomic index files, extract skips finished outputs, the build
is one transaction), so a run killed at any moment simply continues next time.
With ``defer_videos`` the web videos of all chunks are made after every image is in.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from homegallery.catalog.build import BuildSummary, build_from_config
from homegallery.config import Config
from homegallery.extract.failures import failure_lines
from homegallery.extract.runner import Summary, extract_gallery
from homegallery.extract.steps import STEPS, Step
from homegallery.importer.lock import import_lock
from homegallery.index import AddLimits, IndexRunResult, update_index
from homegallery.progress import Progress, counted

log = logging.getLogger("homegallery.import")


@dataclass
class ChunkReport:
    """One round of the loop."""

    number: int
    index: IndexRunResult
    extract: Summary
    build: BuildSummary
    seconds: float


@dataclass
class ImportReport:
    chunks: list[ChunkReport] = field(default_factory=list)
    videos: Summary | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(chunk.index.ok for chunk in self.chunks)

    @property
    def source_errors(self) -> list[str]:
        errors: list[str] = []
        for chunk in self.chunks[-1:]:
            errors += [f"{s.source}: {s.error}" for s in chunk.index.sources if s.error]
        return errors

    def lines(self, verbose: bool = False) -> list[str]:
        if not self.chunks:
            return ["nothing imported"]
        last = self.chunks[-1]
        added = sum(chunk.index.total("added") for chunk in self.chunks)
        changed = sum(chunk.index.total("changed") for chunk in self.chunks)
        removed = sum(chunk.index.total("removed") for chunk in self.chunks)
        failed_files = [f for chunk in self.chunks for f in chunk.extract.failed_files]
        if self.videos is not None:
            failed_files += self.videos.failed_files
        failed = len({failed_file.path for failed_file in failed_files})
        lines = [
            f"import: {counted(len(self.chunks), 'chunk')} in {self.seconds:.1f} s; "
            f"{counted(added, 'file')} added, {changed:,} changed, {removed:,} removed; "
            f"{counted(last.index.total('entries'), 'file')} indexed, "
            f"{counted(last.build.entries, 'catalog entry', 'catalog entries')}; "
            f"{counted(failed, 'file')} failed to extract"
        ]
        lines += [f"  source error: {error}" for error in self.source_errors]
        if failed_files:
            lines.append("failed files:")
            hint = "all with -v; `homegallery extract --failed` lists every failed file"
            lines += failure_lines(failed_files, verbose, hint)
        return lines


@dataclass
class ImportOptions:
    add_limits: AddLimits | None = None
    defer_videos: bool = False
    workers: int | None = None
    quiet: bool = False
    cluster: str | None = None
    """A Dask scheduler's address: extract on its workers (``extract --cluster``)."""
    on_chunk: Callable[[ChunkReport], None] | None = None
    """Called after every chunk (the catalog then holds the chunk's photos)."""


@contextmanager
def _served(config: Config, options: ImportOptions) -> Iterator[ImportOptions]:
    """The options with a scheduler served here (``--serve-cluster``) for the whole
    import, so that the workers of other machines stay joined from chunk to chunk."""
    if options.cluster is None:
        yield options
        return
    from homegallery.extract.cluster import serving  # lazy: the cluster's own module

    workers = config.extractor.workers if options.workers is None else options.workers
    with serving(options.cluster, workers) as address:
        yield dataclasses.replace(options, cluster=address)


def _steps(defer_videos: bool) -> Sequence[Step]:
    return [step for step in STEPS if not (defer_videos and step == "video")]


def _chunk(
    config: Config, number: int, options: ImportOptions, limits: AddLimits | None
) -> ChunkReport:
    started = time.monotonic()
    with Progress(f"index (chunk {number})", quiet=options.quiet) as progress:
        index = update_index(config, add_limits=limits, progress=progress)
    seen = index.total("seen")
    indexed = index.total("entries")
    if not options.quiet:
        pending = f", {index.pending:,} wait for later chunks" if index.pending else ""
        log.info("chunk %d: %s of %s files indexed%s", number, f"{indexed:,}", f"{seen:,}", pending)
    extract = extract_gallery(
        config,
        steps=_steps(options.defer_videos),
        workers=options.workers,
        progress_factory=lambda label, total: Progress(label, total, quiet=options.quiet),
        cluster=options.cluster,
    )
    build = build_from_config(config)
    report = ChunkReport(number, index, extract, build, time.monotonic() - started)
    if options.on_chunk is not None:
        options.on_chunk(report)
    return report


def import_initial(config: Config, options: ImportOptions | None = None) -> ImportReport:
    """Imports every file of every source, in chunks bounded by add-limits."""
    options = options or ImportOptions()
    limits = options.add_limits or AddLimits()
    report = ImportReport()
    started = time.monotonic()
    with import_lock(config.database.path), _served(config, options) as options:
        number = 1
        while True:
            chunk = _chunk(config, number, options, limits)
            report.chunks.append(chunk)
            changed = any(
                chunk.index.total(field) for field in ("added", "changed", "moved", "removed")
            )
            if chunk.index.pending == 0 or not changed:
                break
            number += 1
        if options.defer_videos:
            report.videos = extract_gallery(
                config,
                steps=["video"],
                workers=options.workers,
                progress_factory=lambda label, total: Progress(label, total, quiet=options.quiet),
                cluster=options.cluster,
            )
            build_from_config(config)
    report.seconds = time.monotonic() - started
    return report


def import_update(config: Config, options: ImportOptions | None = None) -> ImportReport:
    """One incremental pass over all sources, without add-limits."""
    options = options or ImportOptions()
    report = ImportReport()
    started = time.monotonic()
    with import_lock(config.database.path), _served(config, options) as options:
        report.chunks.append(_chunk(config, 1, options, None))
    report.seconds = time.monotonic() - started
    return report
