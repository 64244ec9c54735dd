"""Saved albums: a name, a query, a cover and an order, kept for the user who saved them.

Hand-picked albums need no store: they are tags with the prefix ``album:`` (an entry
is in ``Trips/2019`` when it has the tag ``album:Trips/2019``), so they live in the
catalog's event log, survive every build and follow the editing rights of tags. A
saved album is only a query: it changes nothing anyone sees (the query runs with each
viewer's own filter), so it is private to the user who saved it. Names are paths
(``Trips/2019/Italy``) and nest on the Albums page.

Saved albums live in ``server-albums.db`` beside the catalog (owner-only; one
transaction per change).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from homegallery.errors import HomeGalleryError
from homegallery.server.private_store import open_private_store
from homegallery.server.scope import split_order

AlbumOrder = Literal["newest", "oldest"]
ORDERS: dict[str, str] = {"newest": "order by date desc", "oldest": "order by date asc"}
MAX_NAME = 200
MAX_ALBUMS_PER_USER = 1000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS albums (
    id INTEGER PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    cover TEXT NOT NULL,
    sort TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (owner, name)
)
"""


class AlbumStoreError(HomeGalleryError, RuntimeError):
    """The file of saved albums cannot be used (phrased for the server's log)."""


class AlbumNameError(HomeGalleryError, ValueError):
    """An album name that cannot be used (phrased for the user)."""


def clean_name(name: str) -> str:
    """A name path with single slashes and no empty parts; raises :class:`AlbumNameError`."""
    parts = [" ".join(part.split()) for part in name.split("/")]
    cleaned = "/".join(part for part in parts if part)
    if not cleaned:
        raise AlbumNameError("give the album a name")
    if len(cleaned) > MAX_NAME:
        raise AlbumNameError(f"an album name has at most {MAX_NAME} characters")
    if any(ord(char) < 32 or char in "\"'" for char in cleaned):
        raise AlbumNameError("an album name has no quotes or control characters")
    return cleaned


@dataclass(frozen=True)
class SavedAlbum:
    id: int
    owner: str
    name: str
    query: str
    cover: str  # a media id, or "" for the first entry
    order: AlbumOrder

    def full_query(self) -> str:
        """The query with the album's order, unless the query orders itself."""
        if split_order(self.query)[1]:
            return self.query
        return f"{self.query} {ORDERS[self.order]}".strip()


class AlbumStore:
    """Saved albums on disk; ``path=None`` keeps them in memory (tests)."""

    def __init__(self, path: Path | None = None) -> None:
        try:
            self._connection = open_private_store(path, _SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise AlbumStoreError(f"{path}: cannot keep albums there: {error}") from None
        self._lock = threading.Lock()

    def save(self, owner: str, name: str, query: str, cover: str, order: AlbumOrder) -> SavedAlbum:
        """Saves the album, replacing the owner's album of the same name."""
        with self._lock:
            self._connection.execute(
                "INSERT INTO albums (owner, name, query, cover, sort, created) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (owner, name) DO UPDATE SET "
                "query = excluded.query, cover = excluded.cover, sort = excluded.sort",
                (owner, name, query, cover, order, int(time.time())),
            )
            row = self._connection.execute(
                "SELECT id FROM albums WHERE owner = ? AND name = ?", (owner, name)
            ).fetchone()
        return SavedAlbum(int(row[0]), owner, name, query, cover, order)

    def owned_by(self, owner: str) -> list[SavedAlbum]:
        with self._lock:
            rows = self._connection.execute(
                "SELECT id, owner, name, query, cover, sort FROM albums WHERE owner = ? "
                "ORDER BY name",
                (owner,),
            ).fetchall()
        return [
            SavedAlbum(int(id_), str(who), str(name), str(query), str(cover), sort)
            for id_, who, name, query, cover, sort in rows
        ]

    def count_owned_by(self, owner: str) -> int:
        with self._lock:
            row = self._connection.execute(
                "SELECT count(*) FROM albums WHERE owner = ?", (owner,)
            ).fetchone()
        return int(row[0])

    def delete(self, owner: str, album_id: int) -> bool:
        with self._lock:
            cursor = self._connection.execute(
                "DELETE FROM albums WHERE id = ? AND owner = ?", (album_id, owner)
            )
        return cursor.rowcount > 0

    def close(self) -> None:
        with self._lock:
            self._connection.close()
