"""Watch mode: follow file changes in the sources and import them within seconds.

``watchfiles`` (inotify on Linux) reports changes in batches; a short debounce lets a
camera upload or a folder copy settle, then one incremental pass imports it. Changes
that arrive during a pass are picked up by the next one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

from homegallery.config import Config
from homegallery.importer.loop import ImportOptions, ImportReport, import_update
from homegallery.progress import counted

log = logging.getLogger("homegallery.import")


def _storage_and_catalog_filter(config: Config) -> Callable[[watchfiles.Change, str], bool]:
    """Ignores our own output when the storage or catalog lies inside a source."""
    own = [config.storage.path.resolve(), config.database.path.parent.resolve()]

    def accept(change: watchfiles.Change, path: str) -> bool:
        resolved = Path(path)
        return not any(folder == resolved or folder in resolved.parents for folder in own)

    return accept


def watch_and_import(
    config: Config,
    options: ImportOptions | None = None,
    stop: threading.Event | None = None,
    debounce_ms: int = 800,
    on_import: Callable[[ImportReport], None] | None = None,
) -> None:
    """Runs until ``stop`` is set (or Ctrl-C): one update first, then one per change."""
    options = options or ImportOptions()
    folders = [
        source.dir for source in config.sources if not source.offline and Path(source.dir).is_dir()
    ]
    if not folders:
        raise ValueError("no online source folder to watch")
    report = import_update(config, options)
    if on_import:
        on_import(report)
    log.info("watching %s for changes", counted(len(folders), "source folder"))
    for changes in watchfiles.watch(
        *folders,
        watch_filter=_storage_and_catalog_filter(config),
        debounce=debounce_ms,
        step=50,
        stop_event=stop,
        yield_on_timeout=False,
        raise_interrupt=False,
    ):
        log.info("%s seen; importing", counted(len(changes), "change"))
        report = import_update(config, options)
        if on_import:
            on_import(report)
