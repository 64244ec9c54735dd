"""Sessions that logged out, kept on disk so that a restart does not bring them back.

A session cookie is valid by its signature until it expires, so logging out must be
remembered for as long as the cookie would be valid. The ids of ended sessions live
in a small SQLite file beside the server secret: each logout is one transaction
(atomic, seen at once by another server on the same data folder), and rows whose
cookie has expired anyway are pruned on the next logout.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from homegallery.errors import HomeGalleryError
from homegallery.server.private_store import open_private_store

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS revoked "
    "(session TEXT PRIMARY KEY, expires INTEGER NOT NULL) WITHOUT ROWID"
)


class RevocationError(HomeGalleryError, RuntimeError):
    """The file of ended sessions cannot be used (phrased for the server's log)."""


class Revocations:
    """Ended session ids with their expiry; ``path=None`` keeps them in memory only."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        try:
            self._connection = open_private_store(path, _SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise RevocationError(f"{path}: cannot keep ended sessions there: {error}") from None
        self._lock = threading.Lock()

    def revoke(self, session: str, expires: int, now: float | None = None) -> None:
        """Records an ended session and prunes those expired by ``now``."""
        moment = int(now if now is not None else time.time())
        with self._lock:
            connection = self._connection
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute("DELETE FROM revoked WHERE expires < ?", (moment,))
                connection.execute(
                    "INSERT OR REPLACE INTO revoked (session, expires) VALUES (?, ?)",
                    (session, expires),
                )
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def __contains__(self, session: object) -> bool:
        with self._lock:
            row = self._connection.execute(
                "SELECT 1 FROM revoked WHERE session = ?", (session,)
            ).fetchone()
        return row is not None

    def __len__(self) -> int:
        with self._lock:
            return int(self._connection.execute("SELECT count(*) FROM revoked").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._connection.close()
