"""Live updates: notice when the catalog changes and tell every open page.

A build or a tag change commits to the catalog's SQLite file in WAL mode, which
changes the ``-wal`` file (and the main file at checkpoints). Polling their size and
modification time twice a second costs two ``stat`` calls and needs no cooperation
from the writer, which may be another process (``homegallery build``). Pages listen
with server-sent events and reload what they show when ``version`` moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from litestar.response import ServerSentEventMessage

from homegallery.catalog.generation import generation
from homegallery.catalog.schema import CatalogError, open_reader

POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0


def file_signature(catalog: Path) -> tuple[int, ...]:
    """What changes when anything commits to the catalog (zeros for missing files)."""
    values: list[int] = []
    for path in (catalog, catalog.with_name(catalog.name + "-wal")):
        try:
            stat = path.stat()
        except FileNotFoundError:
            values.extend((0, 0, 0))
            continue
        values.extend((stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(values)


class CatalogWatcher:
    """Counts catalog changes; ``version`` goes up by one for each change seen."""

    def __init__(self, catalog: Path, poll_seconds: float = POLL_SECONDS) -> None:
        self.catalog = catalog
        self.poll_seconds = poll_seconds
        self.version = 0
        self._signature = file_signature(catalog)
        self._state = self._catalog_state()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # called on the event loop after each change seen; each must return at once
        self.listeners: list[Callable[[], None]] = []

    def check(self) -> bool:
        """Looks at the files once; True (and a new version) when they changed."""
        signature = file_signature(self.catalog)
        if signature == self._signature:
            return False
        self._signature = signature
        state = self._catalog_state()
        if state is not None and state == self._state:
            return False  # a reader opened or closed the WAL file; nothing was committed
        self._state = state
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()
        for listener in self.listeners:
            listener()
        return True

    def _catalog_state(self) -> tuple[int, int] | None:
        """The catalog file and its change counter; None when it cannot be read.

        The files also change without a commit (the first reader creates the ``-wal``
        file, the last one removes it); a page told of such a change would reload for
        nothing. A fresh connection each time: this runs rarely, on several threads.
        """
        try:
            connection = open_reader(self.catalog)
        except CatalogError:
            return None
        try:
            return (self.catalog.stat().st_ino, generation(connection))
        except (OSError, sqlite3.Error):
            return None
        finally:
            connection.close()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            self.check()

    async def start(self) -> None:
        self._changed = asyncio.Event()  # bound to the running loop
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def wait(self, timeout: float) -> bool:
        """Waits for the next change; False when ``timeout`` passed without one."""
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def messages(self) -> AsyncIterator[ServerSentEventMessage]:
        """The event stream of one page: the version now, then each change."""
        yield ServerSentEventMessage(event="catalog", data=str(self.version), retry=2000)
        sent = self.version
        while True:
            if await self.wait(KEEPALIVE_SECONDS) or self.version != sent:
                sent = self.version
                yield ServerSentEventMessage(event="catalog", data=str(sent))
            else:
                yield ServerSentEventMessage(comment="keepalive")
