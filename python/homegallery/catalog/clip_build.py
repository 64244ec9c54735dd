"""A CLIP model's image vectors in the catalog: read from the storage, kept as int8 rows.

The ``embeddings`` step stores a photo's CLIP vector under the image model file's
hash (``embedding-clip-<hash>.npy``); the build copies each entry's (or its RAW twin's)
into ``clip_vectors`` as an int8 row with its scale, the form the similarity core
scans exactly (:func:`homegallery.similarity.scan_int8`). A new model file names
another tag: its first build reads every entry's file and drops the old model's
rows; later builds read only the entries they made anew (a new stored file changes
an entry's signature, so an entry whose vector arrived is among them).

As in :mod:`.vector_build`, the reading happens before the build's write lock
(:func:`prepare`) and only the writing inside its transaction (:func:`write`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from homegallery.catalog.vector_build import read_vectors
from homegallery.similarity import quantize_int8

_MODEL_KEY = "clip_model"
KEEP = ""  # the model could not be named (its file is missing): leave the rows as they are


@dataclass
class ClipWork:
    """What a build writes into ``clip_vectors``: made before its transaction."""

    model: str | None  # None: no CLIP model, every row goes; KEEP: nothing changes
    renamed: bool = False  # another model than the catalog's: the old rows go
    ids: list[str] = field(default_factory=list)
    vectors: npt.NDArray[np.int8] | None = None
    scales: npt.NDArray[np.float32] | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return self.model != KEEP and (bool(self.ids) or self.renamed)


def stored_model(connection: sqlite3.Connection) -> str | None:
    row = connection.execute(
        "SELECT value FROM catalog_info WHERE key = ?", (_MODEL_KEY,)
    ).fetchone()
    return str(row[0]) if row else None


def _part_ids(part_files: Sequence[Path]) -> set[str]:
    made: set[str] = set()
    for part in part_files:
        if part.is_file():
            reader = sqlite3.connect(f"file:{part}?mode=ro", uri=True)
            try:
                made.update(row[0] for row in reader.execute("SELECT id FROM entries"))
            finally:
                reader.close()
    return made


def prepare(
    connection: sqlite3.Connection,
    storage_dir: Path,
    model: str | None,
    part_files: Sequence[Path],
    twins: Mapping[str, Sequence[str]],
) -> ClipWork:
    """Reads and quantises the CLIP vectors the build must add (before its write lock)."""
    if model == KEEP:
        return ClipWork(KEEP)
    previous = stored_model(connection)
    work = ClipWork(model, renamed=previous != model)
    if model is None:
        return work
    ids = _part_ids(part_files)
    if work.renamed:
        ids.update(row[0] for row in connection.execute("SELECT id FROM entries"))
    else:
        ids -= {
            row[0]
            for row in connection.execute(
                "SELECT media_id FROM clip_vectors WHERE model = ? AND media_id IN "
                "(SELECT value FROM json_each(?))",
                (model, json.dumps(sorted(ids))),
            )
        }
    found, matrix, work.problems = read_vectors(storage_dir, sorted(ids), twins, model)
    if matrix is not None:
        work.ids = found
        work.vectors, work.scales = quantize_int8(matrix)
    return work


def write(connection: sqlite3.Connection, work: ClipWork) -> None:
    """Writes the prepared rows; call inside the build's transaction, after the entries."""
    if work.model == KEEP:
        return
    if work.model is None:
        connection.execute("DELETE FROM clip_vectors")
        connection.execute("DELETE FROM catalog_info WHERE key = ?", (_MODEL_KEY,))
        return
    connection.execute("DELETE FROM clip_vectors WHERE model != ?", (work.model,))
    if work.ids:
        assert work.vectors is not None and work.scales is not None
        connection.executemany(
            "INSERT INTO clip_vectors (media_id, model, vector, scale) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (media_id) DO UPDATE SET model = excluded.model, "
            "vector = excluded.vector, scale = excluded.scale",
            [
                (media_id, work.model, row.tobytes(), float(scale))
                for media_id, row, scale in zip(
                    work.ids, work.vectors, work.scales.tolist(), strict=True
                )
            ],
        )
    connection.execute("DELETE FROM clip_vectors WHERE media_id NOT IN (SELECT id FROM entries)")
    connection.execute(
        "INSERT INTO catalog_info (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (_MODEL_KEY, work.model),
    )
