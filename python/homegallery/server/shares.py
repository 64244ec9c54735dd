"""Share links: a token that shows one photo, an album or a query's result to whoever
has it, read-only.

A share is stored as the query of the set it shows (``id:<id>``, ``tag:"album:…"``,
or the query the user wrote). A visitor with the link is a viewer whose filter is
that query joined to the current filter of the user who made it, so every route
scopes it exactly as it scopes a logged-in user's filter, and a share never shows
more than its maker may see now: a maker who is removed from the config or loses the
right to share takes their links with them.

Shares live in ``server-shares.db`` beside the catalog (SQLite, owner-only, one
transaction per change, so a second server on the same data folder sees a new or
revoked link at once). The token is 32 characters from :func:`secrets.token_urlsafe`
(192 random bits); it is the only key, so an unknown, revoked and expired link all
look the same.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from homegallery.errors import HomeGalleryError
from homegallery.server.private_store import open_private_store

ShareKind = Literal["photo", "album", "query"]
SHARE_KINDS: tuple[ShareKind, ...] = ("photo", "album", "query")

TOKEN_BYTES = 24
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS shares (
    id INTEGER PRIMARY KEY,
    token TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    kind TEXT NOT NULL,
    target TEXT NOT NULL,
    filter TEXT NOT NULL,
    title TEXT NOT NULL,
    password TEXT NOT NULL,
    originals INTEGER NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER
)
"""
_COLUMNS = "id, token, owner, kind, target, filter, title, password, originals, created, expires"


class ShareStoreError(HomeGalleryError, RuntimeError):
    """The file of share links cannot be used (phrased for the server's log)."""


@dataclass(frozen=True)
class Share:
    id: int
    token: str
    owner: str  # the user who made it
    kind: ShareKind
    target: str  # what the user chose: a media id, an album's name, a query
    filter: str  # the set it shows, as a query
    title: str
    password: str  # an argon2 hash, or "" for none
    originals: bool  # originals may be downloaded (where their source allows it)
    created: int  # unix seconds
    expires: int | None  # unix seconds; None: until revoked

    def expired(self, now: float | None = None) -> bool:
        return self.expires is not None and self.expires <= (
            now if now is not None else time.time()
        )


def _share(row: tuple[object, ...]) -> Share:
    id_, token, owner, kind, target, filter_, title, password, originals, created, expires = row
    return Share(
        id=int(str(id_)),
        token=str(token),
        owner=str(owner),
        kind=str(kind),  # type: ignore[arg-type]
        target=str(target),
        filter=str(filter_),
        title=str(title),
        password=str(password),
        originals=bool(originals),
        created=int(str(created)),
        expires=int(str(expires)) if expires is not None else None,
    )


def is_token(text: str) -> bool:
    return bool(_TOKEN.match(text))


class ShareStore:
    """Share links on disk; ``path=None`` keeps them in memory (tests)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        try:
            self._connection = open_private_store(path, _SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise ShareStoreError(f"{path}: cannot keep share links there: {error}") from None
        self._lock = threading.Lock()

    def create(
        self,
        *,
        owner: str,
        kind: ShareKind,
        target: str,
        filter: str,
        title: str,
        password: str = "",
        originals: bool = False,
        expires: int | None = None,
        now: float | None = None,
    ) -> Share:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        created = int(now if now is not None else time.time())
        with self._lock:
            cursor = self._connection.execute(
                "INSERT INTO shares (token, owner, kind, target, filter, title, password, "
                "originals, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (token, owner, kind, target, filter, title, password, int(originals), created,
                 expires),
            )  # fmt: skip
            share_id = cursor.lastrowid
        assert share_id is not None
        return Share(share_id, token, owner, kind, target, filter, title, password, originals,
                     created, expires)  # fmt: skip

    def find(self, token: str, now: float | None = None) -> Share | None:
        """The current share of a token; None for an unknown or expired one."""
        if not is_token(token):
            return None
        with self._lock:
            row = self._connection.execute(
                f"SELECT {_COLUMNS} FROM shares WHERE token = ?", (token,)
            ).fetchone()
        if row is None:
            return None
        share = _share(row)
        return None if share.expired(now) else share

    def owned_by(self, owner: str) -> list[Share]:
        """The user's shares, newest first (expired ones too, until revoked)."""
        with self._lock:
            rows = self._connection.execute(
                f"SELECT {_COLUMNS} FROM shares WHERE owner = ? ORDER BY id DESC", (owner,)
            ).fetchall()
        return [_share(row) for row in rows]

    def count_owned_by(self, owner: str) -> int:
        with self._lock:
            row = self._connection.execute(
                "SELECT count(*) FROM shares WHERE owner = ?", (owner,)
            ).fetchone()
        return int(row[0])

    def revoke(self, owner: str, share_id: int) -> bool:
        """Deletes one of the owner's shares; False when they have none with that id."""
        with self._lock:
            cursor = self._connection.execute(
                "DELETE FROM shares WHERE id = ? AND owner = ?", (share_id, owner)
            )
        return cursor.rowcount > 0

    def filters(self, now: float | None = None) -> list[str]:
        """The set queries of every current share (their tags decide what visitors see)."""
        moment = int(now if now is not None else time.time())
        with self._lock:
            rows = self._connection.execute(
                "SELECT DISTINCT filter FROM shares WHERE expires IS NULL OR expires > ?",
                (moment,),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._connection.close()
