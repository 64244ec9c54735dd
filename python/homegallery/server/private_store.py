"""The small SQLite files the server keeps beside the catalog (ended sessions, share
links, saved albums): one way to open them, so each is private and safe alike."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


def open_private_store(path: Path | None, schema: str) -> sqlite3.Connection:
    """A connection to ``path`` (made owner-only before SQLite writes a byte), or to
    memory when ``path`` is None (tests), with ``schema`` applied.

    The connection is shared by the server's threads (callers serialise writes with a
    lock of their own) and in WAL mode, so readers never wait for a write, here or in
    another server on the same data folder. Raises OSError or sqlite3.Error.
    """
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    connection = sqlite3.connect(
        str(path) if path is not None else ":memory:",
        isolation_level=None,
        check_same_thread=False,
        timeout=5.0,
    )
    try:
        if path is not None:
            connection.execute("PRAGMA journal_mode = WAL")
        connection.executescript(schema)
    except sqlite3.Error:
        connection.close()
        raise
    return connection
