"""The embedding model's vectors in the catalog: which entries need codes, and making them.

A build owns the rows of the embedding model it was told about (``ModelOutputs``):
every entry whose stored files include that model's embedding gets a row in
``vectors``, with the packed 2-bit code the ``similar:`` scan reads and the int8
vector it re-ranks by. The code format is fitted to the model's vectors the first
time a build has some, stored with the catalog (``catalog_info``,
``code_format:<model>``) and kept, so every code of a model is comparable with every
other; a new model (or version) gets its own format, and the rows of the model before
it are dropped in the same transaction.

The work is split like the rest of the build: what to read is decided and read
before the write lock is taken (:func:`prepare`), and only the writing happens inside
the build's transaction (:func:`write`).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from homegallery.catalog.vectors import write_codes
from homegallery.extract.schema import StoredFileError, decode_embedding, embedding_kind
from homegallery.similarity import CodeFormat, Levels, fit_format, quantize, quantize_int8

log = logging.getLogger("homegallery.catalog")

# Levels and stride of the codes of this build's models: their embeddings are
# averages of ReLU6 outputs (never negative), which HomeGallery's square-root levels
# suit; keeping every second value halves the bytes a scan reads for the same mean
# cosine of vector to code (0.952 against 0.954 on real photos), and the int8
# re-ranking puts the best matches in their exact order.
LEVELS: Levels = "sqrt"
STRIDE = 2
FIT_ROWS = 512  # a fit reads each row 72 times; see test_a_sample_fits_like_all
_MODEL_KEY = "vector_model"


@dataclass(frozen=True)
class ModelOutputs:
    """The embedding model whose stored results a build reads, and the label threshold."""

    model_tag: str  # model name and version, as in the stored kinds
    label_threshold: float = 0.2

    @property
    def labels_kind(self) -> str:
        from homegallery.extract.schema import labels_kind

        return labels_kind(self.model_tag)

    @property
    def vector_kind(self) -> str:
        return embedding_kind(self.model_tag)

    def describe(self) -> str:
        """What the entries are made with: a change makes the whole catalog anew."""
        return f"{self.model_tag}@{self.label_threshold:g}"


@dataclass
class VectorWork:
    """What a build writes into ``vectors``: made before its transaction."""

    model: str | None
    previous: str | None
    ids: list[str] = field(default_factory=list)
    codes: npt.NDArray[np.uint8] | None = None
    vectors: npt.NDArray[np.int8] | None = None
    scales: npt.NDArray[np.float32] | None = None
    code_format: CodeFormat | None = None
    new_format: bool = False
    problems: list[str] = field(default_factory=list)


def managed_model(connection: sqlite3.Connection) -> str | None:
    """The model whose rows the last build wrote (None before any)."""
    row = connection.execute(
        "SELECT value FROM catalog_info WHERE key = ?", (_MODEL_KEY,)
    ).fetchone()
    return str(row[0]) if row and row[0] else None


def stored_format(connection: sqlite3.Connection, model: str) -> CodeFormat | None:
    """The code format stored for ``model``; None when there is none (or it is unreadable)."""
    row = connection.execute(
        "SELECT value FROM catalog_info WHERE key = ?", (f"code_format:{model}",)
    ).fetchone()
    if row is None:
        return None
    try:
        return CodeFormat.from_dict(json.loads(row[0]))
    except (ValueError, TypeError) as error:
        log.warning("catalog: the code format of %s is unreadable (%s); fitting anew", model, error)
        return None


def foreign_vector_ids(connection: sqlite3.Connection, managed: Iterable[str | None]) -> set[str]:
    """Ids with vectors of models no build writes (so no stored embedding explains them)."""
    models = sorted({model for model in managed if model})
    marks = ", ".join("?" * len(models))
    where = f"WHERE model NOT IN ({marks})" if models else ""
    return {
        row[0]
        for row in connection.execute(f"SELECT DISTINCT media_id FROM vectors {where}", models)
    }


def ids_needing_vectors(
    connection: sqlite3.Connection, part_files: Sequence[Path], model: str, every: bool = False
) -> list[str]:
    """Entries with a vector flag but no row of ``model``: made in this build, or missed.

    The parts hold the entries this build made (their flag comes from the stored
    embedding); the catalog holds the others, of which only ones whose embedding
    could not be read before lack a row. ``every``: all entries with the flag, rows or
    not (their codes are made anew with a new format).
    """
    wanted: set[str] = set()
    for part in part_files:
        if not part.is_file():
            continue
        reader = sqlite3.connect(f"file:{part}?mode=ro", uri=True)
        try:
            wanted.update(
                row[0] for row in reader.execute("SELECT id FROM entries WHERE has_vector = 1")
            )
        finally:
            reader.close()
    if every:
        wanted.update(
            row[0] for row in connection.execute("SELECT id FROM entries WHERE has_vector = 1")
        )
        return sorted(wanted)
    wanted.update(
        row[0]
        for row in connection.execute(
            "SELECT id FROM entries WHERE has_vector = 1 AND id NOT IN "
            "(SELECT media_id FROM vectors WHERE model = ?)",
            (model,),
        )
    )
    have = {
        row[0]
        for row in connection.execute("SELECT media_id FROM vectors WHERE model = ?", (model,))
    }
    return sorted(wanted - have)


def read_vectors(
    storage_dir: Path, ids: Sequence[str], twins: Mapping[str, Sequence[str]], model: str
) -> tuple[list[str], npt.NDArray[np.float32] | None, list[str]]:
    """(ids found, their embeddings as rows, problems): an entry's own or its twin's file.

    An entry with no file of this model is left out quietly (its vector is another
    model's); a file that cannot be read, or whose length differs from the others',
    is a problem named with its path. (Paths are plain strings here: pathlib costs
    more than the read of a small file, and a full build reads one per entry.)
    """
    root = os.fspath(storage_dir)
    suffix = "-" + embedding_kind(model)
    found: list[str] = []
    rows: list[npt.NDArray[np.float32]] = []
    problems: list[str] = []
    for media_id in ids:
        for owner in (media_id, *twins.get(media_id, ())):
            path = f"{root}/{owner[0:2]}/{owner[2:4]}/{owner[4:]}{suffix}"
            try:
                with open(path, "rb") as handle:  # noqa: PTH123
                    data = handle.read()
            except FileNotFoundError:
                continue
            except OSError as error:
                problems.append(f"{path}: cannot read the embedding: {error.strerror or error}")
                break
            try:
                vector = decode_embedding(data, path)
            except StoredFileError as error:
                problems.append(str(error))
                break
            if rows and len(vector) != len(rows[0]):
                problems.append(
                    f"{path}: the embedding has {len(vector)} values, the others {len(rows[0])}"
                )
                break
            found.append(media_id)
            rows.append(vector)
            break
    return found, (np.stack(rows) if rows else None), problems


def prepare(
    connection: sqlite3.Connection,
    storage_dir: Path,
    outputs: ModelOutputs | None,
    part_files: Sequence[Path],
    twins: Mapping[str, Sequence[str]],
) -> VectorWork:
    """Reads and quantises the vectors the build must add (before its write lock)."""
    previous = managed_model(connection)
    if outputs is None:
        return VectorWork(model=None, previous=previous)
    model = outputs.model_tag
    work = VectorWork(model=model, previous=previous)
    code_format = stored_format(connection, model)
    ids = ids_needing_vectors(connection, part_files, model, every=code_format is None)
    if not ids:
        return work
    found, matrix, work.problems = read_vectors(storage_dir, ids, twins, model)
    if matrix is None:
        return work
    if code_format is not None and code_format.dims != matrix.shape[1]:
        log.warning(
            "catalog: %s vectors have %d values, its stored code format %d; fitting anew",
            model,
            matrix.shape[1],
            code_format.dims,
        )
        code_format = None
        ids = ids_needing_vectors(connection, part_files, model, every=True)
        found, matrix, work.problems = read_vectors(storage_dir, ids, twins, model)
        assert matrix is not None
    if code_format is None:
        sample = matrix[:: max(1, len(matrix) // FIT_ROWS)][:FIT_ROWS]
        code_format = fit_format(sample, levels=LEVELS, stride=STRIDE, normalize=True, name=model)
        work.new_format = True
    work.ids = found
    work.code_format = code_format
    work.codes = quantize(matrix, code_format)
    work.vectors, work.scales = quantize_int8(matrix)
    return work


def write(connection: sqlite3.Connection, work: VectorWork) -> None:
    """Writes the prepared rows; call inside the build's transaction, after the entries.

    Rows of the model the catalog had before go when the model changed (or is off,
    as its entries no longer have a vector flag from it), and rows of entries that no
    longer have a vector of this model go with them.
    """
    if work.previous and work.previous != work.model:
        connection.execute("DELETE FROM vectors WHERE model = ?", (work.previous,))
        connection.execute(
            "DELETE FROM catalog_info WHERE key = ?", (f"code_format:{work.previous}",)
        )
    if work.model is None:
        connection.execute("DELETE FROM catalog_info WHERE key = ?", (_MODEL_KEY,))
        return
    if work.new_format:
        # a refit makes every older code of this model incomparable: they go
        connection.execute("DELETE FROM vectors WHERE model = ?", (work.model,))
    if work.ids:
        assert work.codes is not None and work.code_format is not None
        write_codes(
            connection,
            work.model,
            work.ids,
            work.codes,
            work.vectors,
            work.scales,
            mark_entries=False,
        )
    connection.execute(
        "DELETE FROM vectors WHERE model = ? AND media_id NOT IN "
        "(SELECT id FROM entries WHERE has_vector = 1)",
        (work.model,),
    )
    settings: list[tuple[str, Any]] = [(_MODEL_KEY, work.model)]
    if work.new_format and work.code_format is not None:
        settings.append(
            (f"code_format:{work.model}", json.dumps(work.code_format.as_dict(), sort_keys=True))
        )
    connection.executemany(
        "INSERT INTO catalog_info (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        settings,
    )
