"""Similarity codes in the catalog and the ``similar`` search over them.

The ``vectors`` table holds, per media id and model, the packed code the similarity
scan reads (``code``), and optionally the int8 vector with its scale for exact
re-ranking. A model's code format is stored in ``catalog_info`` (``code_format:<model>``,
written by the build, :mod:`.vector_build`); codes without one are HomeGallery's. The scan itself is :class:`homegallery.similarity.SimilarityIndex`;
this module loads the codes once per catalog state and keeps the index between
searches, because loading 100k codes costs far more than one scan.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np

from homegallery.catalog.columns import bump_generation
from homegallery.errors import HomeGalleryError

NO_VECTORS = (
    "no similarity vectors in this catalog yet (the embeddings step makes them: "
    "`homegallery models install efficientnet-lite0`, then extract and build)"
)


class NoSimilarityError(HomeGalleryError, LookupError):
    """The catalog (or this entry) has no similarity vectors."""


def write_codes(
    connection: sqlite3.Connection,
    model: str,
    ids: Sequence[str],
    codes: np.ndarray[Any, np.dtype[np.uint8]],
    vectors: np.ndarray[Any, np.dtype[np.int8]] | None = None,
    scales: Sequence[float] | np.ndarray[Any, np.dtype[np.float32]] | None = None,
    mark_entries: bool = True,
) -> None:
    """Stores codes (one row of ``codes`` per id), replacing earlier ones of ``model``.

    ``mark_entries`` sets the entries' vector flag; a build that made the entries with
    the flag already passes False.
    """
    if len(ids) != len(codes):
        raise ValueError(f"{len(ids)} ids but {len(codes)} codes")
    rows = []
    for index, media_id in enumerate(ids):
        vector = vectors[index].tobytes() if vectors is not None else None
        scale = float(scales[index]) if scales is not None else None
        rows.append((media_id, model, codes[index].tobytes(), vector, scale))
    connection.executemany(
        "INSERT INTO vectors (media_id, model, code, vector, scale) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (media_id, model) DO UPDATE SET code = excluded.code, "
        "vector = excluded.vector, scale = excluded.scale",
        rows,
    )
    bump_generation(connection)
    if mark_entries:
        connection.execute(
            "UPDATE entries SET has_vector = 1 WHERE id IN "
            "(SELECT media_id FROM vectors WHERE model = ?)",
            (model,),
        )


class VectorCache:
    """The similarity index of the catalog's codes, rebuilt when the catalog changes."""

    def __init__(self) -> None:
        self._key: tuple[int, int, str] | None = None
        self._index: Any = None
        self._groups_key: tuple[int, int, float] | None = None
        self._groups: list[list[str]] = []

    @staticmethod
    def default_model(connection: sqlite3.Connection) -> str:
        """The model the build keeps vectors of, else the one with the most rows."""
        row = connection.execute(
            "SELECT value FROM catalog_info WHERE key = 'vector_model' AND EXISTS "
            "(SELECT 1 FROM vectors WHERE model = catalog_info.value)"
        ).fetchone()
        if row is None:
            row = connection.execute(
                "SELECT model FROM vectors GROUP BY model ORDER BY count(*) DESC, model LIMIT 1"
            ).fetchone()
        if row is None:
            raise NoSimilarityError(NO_VECTORS)
        return str(row[0])

    def _load(self, connection: sqlite3.Connection, model: str | None) -> Any:
        if model is None:
            model = self.default_model(connection)
        version = int(connection.execute("PRAGMA data_version").fetchone()[0])
        key = (id(connection), version, model)
        if key == self._key:
            return self._index
        rows = connection.execute(
            "SELECT media_id, code, vector FROM vectors WHERE model = ? ORDER BY media_id",
            (model,),
        ).fetchall()
        if not rows:
            raise NoSimilarityError(f"no similarity vectors of model {model!r} in this catalog")
        from homegallery.similarity import HOMEGALLERY, CodeFormat, SimilarityIndex

        ids = [row[0] for row in rows]
        codes = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.uint8).reshape(
            len(rows), -1
        )
        vectors = None
        if all(row[2] is not None for row in rows) and len({len(row[2]) for row in rows}) == 1:
            joined = b"".join(row[2] for row in rows)
            vectors = np.frombuffer(joined, dtype=np.int8).reshape(len(rows), -1)
        stored = connection.execute(
            "SELECT value FROM catalog_info WHERE key = ?", (f"code_format:{model}",)
        ).fetchone()
        try:
            code_format = CodeFormat.from_dict(json.loads(stored[0])) if stored else HOMEGALLERY
            self._index = SimilarityIndex.from_codes(ids, codes, code_format, vectors=vectors)
        except (ValueError, TypeError) as error:
            raise NoSimilarityError(
                f"the similarity codes of {model!r} are unusable: {error}"
            ) from None
        self._key = key
        return self._index

    def similar(
        self,
        connection: sqlite3.Connection,
        media_id: str,
        k: int | None,
        min_score: float,
        model: str | None = None,
    ) -> list[tuple[str, float]]:
        """Entries most like ``media_id``, best first, the entry itself first of all."""
        index = self._load(connection, model)
        assert self._key is not None
        model = self._key[2]
        row = connection.execute(
            "SELECT 1 FROM vectors WHERE media_id = ? AND model = ?", (media_id, model)
        ).fetchone()
        if row is None:
            raise NoSimilarityError(f"entry {media_id} has no similarity vector")
        found = index.search_id(media_id, k if k is not None else len(index), min_score)
        pairs = [(str(found_id), float(score)) for found_id, score in found]
        # the entry itself is the most similar of all (HomeGallery lists it first)
        return [(media_id, 1.0), *pairs]

    def duplicate_groups(self, connection: sqlite3.Connection, min_score: float) -> list[list[str]]:
        """Groups of entries linked by near-duplicate pairs at least ``min_score`` alike.

        A group is what the pairs connect: a burst of five shots is one group even when
        its first and last shot are less alike than the threshold. Pairs come from the
        build (``near_duplicates``, of the model the build keeps vectors of); the groups
        are kept until the catalog changes.
        """
        version = int(connection.execute("PRAGMA data_version").fetchone()[0])
        key = (id(connection), version, min_score)
        if self._groups_key == key:
            return self._groups
        row = connection.execute(
            "SELECT value FROM catalog_info WHERE key = 'vector_model'"
        ).fetchone()
        pairs: list[tuple[str, str]] = []
        if row is not None:
            pairs = connection.execute(
                "SELECT a, b FROM near_duplicates WHERE model = ? AND score >= ? ORDER BY a, b",
                (row[0], min_score),
            ).fetchall()
        self._groups = _groups_of(pairs)
        self._groups_key = key
        return self._groups


def _groups_of(pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Connected groups of ids (union-find), each sorted, in order of their first id."""
    parent: dict[str, str] = {}

    def root(media_id: str) -> str:
        parent.setdefault(media_id, media_id)
        while parent[media_id] != media_id:
            parent[media_id] = parent[parent[media_id]]
            media_id = parent[media_id]
        return media_id

    for a, b in pairs:
        first, second = root(a), root(b)
        if first != second:
            parent[max(first, second)] = min(first, second)
    groups: dict[str, list[str]] = {}
    for media_id in parent:
        groups.setdefault(root(media_id), []).append(media_id)
    return sorted(sorted(members) for members in groups.values())
