"""The catalog's change counters, kept in ``catalog_info``.

``generation`` moves with every change a reader may see (a build, a user event), so a
reader holding anything derived from the catalog (a column snapshot, the live page
updates) compares one number to know whether it is stale. ``rebuilds`` moves only
with builds: user events alone can be patched into a snapshot instead of reloading it.
"""

from __future__ import annotations

import sqlite3


def info_number(connection: sqlite3.Connection, key: str) -> int:
    row = connection.execute("SELECT value FROM catalog_info WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else 0


def generation(connection: sqlite3.Connection) -> int:
    """The catalog's change counter (moved by every build and every user event)."""
    return info_number(connection, "generation")


def bump_generation(connection: sqlite3.Connection, rebuilt: bool = True) -> None:
    """Marks a change; call inside the writing transaction.

    ``rebuilt=False`` says only user events changed entries (tags, favourite,
    rating), which a snapshot can patch instead of reading everything again.
    """
    keys = ("generation", "rebuilds") if rebuilt else ("generation",)
    for key in keys:
        connection.execute(
            "INSERT INTO catalog_info (key, value) VALUES (?, '1') "
            "ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
            (key,),
        )
