"""The embedding model's vectors in the catalog: which entries need codes, and making them.

A build owns the rows of the embedding model it was told about (``ModelOutputs``):
every entry whose stored files include that model's embedding gets a row in
``vectors``, with the packed 2-bit code the ``similar:`` scan reads and the int8
vector it re-ranks by. The code format is fitted to the model's vectors the first
time a build has some, stored with the catalog (``catalog_info``,
``code_format:<model>``) and kept, so every code of a model is comparable with every
other; a new model (or version) gets its own format, and the rows of the model before
it are dropped in the same transaction.

As new vectors arrive, the build also finds their near-duplicates among all the
model's vectors (cosine ≥ :data:`DUPLICATE_FLOOR`, pairs in ``near_duplicates``):
each new vector is one batched scan of the 2-bit codes and an int8 re-score of the
few it finds, so an import pays for each photo once, and ``duplicates`` only groups
stored pairs. The scans cost new × all vectors: spread over the chunks of an import
that is a few percent of the embedding time, but a build that gets every vector at
once (after a model change) pays it in one go (80 s for 45k vectors here).

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

from homegallery.catalog.query.fields import DUPLICATE_FLOOR
from homegallery.catalog.vectors import write_codes
from homegallery.extract.schema import (
    StoredFileError,
    decode_embedding,
    embedding_kind,
    labels_kind,
)
from homegallery.similarity import (
    CodeFormat,
    Levels,
    fit_format,
    quantize,
    quantize_int8,
    rescore,
    scan_codes_batch,
)
from homegallery.storage import RECORD_KIND, read_record

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
# Pairs at least this alike are kept; `duplicates` asks for 0.9 unless told otherwise.
# Near-copies of one photo (resized, cropped 10%, recompressed, PNG) measured 0.89-1.0,
# different shots of one scene 0.7-0.8.
_DUPLICATE_POOL = 64  # neighbours looked at per new vector (a burst links up through them)
# How far below the floor the 2-bit pass looks: on real photos its cosine of pairs
# above 0.8 was at most 0.094 under the exact one.
_MARGIN = 0.15
_QUERIES_PER_SCAN = 1024


@dataclass(frozen=True)
class ModelOutputs:
    """The embedding model whose stored results a build reads, and the label threshold."""

    model_tag: str  # model name and version, as in the stored kinds
    label_threshold: float = 0.2

    @property
    def labels_kind(self) -> str:
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
    pairs: list[tuple[str, str, float]] = field(default_factory=list)  # near-duplicates
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
    made: set[str] = set()
    for part in part_files:
        if not part.is_file():
            continue
        reader = sqlite3.connect(f"file:{part}?mode=ro", uri=True)
        try:
            made.update(
                row[0] for row in reader.execute("SELECT id FROM entries WHERE has_vector = 1")
            )
        finally:
            reader.close()
    if every:
        made.update(
            row[0] for row in connection.execute("SELECT id FROM entries WHERE has_vector = 1")
        )
        return sorted(made)
    missed = {
        row[0]
        for row in connection.execute(
            "SELECT id FROM entries WHERE has_vector = 1 AND id NOT IN "
            "(SELECT media_id FROM vectors WHERE model = ?)",
            (model,),
        )
    }
    if made:  # entries made anew whose vector is already there need no reading
        made -= {
            row[0]
            for row in connection.execute(
                "SELECT media_id FROM vectors WHERE model = ? AND media_id IN "
                "(SELECT value FROM json_each(?))",
                (model, json.dumps(sorted(made))),
            )
        }
    return sorted(made | missed)


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
    kind = embedding_kind(model)
    found: list[str] = []
    rows: list[npt.NDArray[np.float32]] = []
    problems: list[str] = []
    for media_id in ids:
        for owner in (media_id, *twins.get(media_id, ())):
            stem = f"{root}/{owner[0:2]}/{owner[2:4]}/{owner[4:]}-"
            path = stem + kind
            try:
                data = read_record(stem + RECORD_KIND).get(kind)
                if data is None:
                    with open(path, "rb") as handle:  # noqa: PTH123
                        data = handle.read()
            except FileNotFoundError:
                continue
            except StoredFileError as error:
                problems.append(str(error))
                break
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
    work.pairs = _near_duplicates(connection, work)
    return work


def _stored_rows(
    connection: sqlite3.Connection, model: str, leave_out: set[str]
) -> tuple[list[str], list[bytes], list[bytes]]:
    ids: list[str] = []
    codes: list[bytes] = []
    vectors: list[bytes] = []
    for media_id, code, vector in connection.execute(
        "SELECT media_id, code, vector FROM vectors WHERE model = ? AND vector IS NOT NULL",
        (model,),
    ):
        if media_id not in leave_out:
            ids.append(media_id)
            codes.append(code)
            vectors.append(vector)
    return ids, codes, vectors


def _near_duplicates(
    connection: sqlite3.Connection, work: VectorWork
) -> list[tuple[str, str, float]]:
    """Pairs (a < b, cosine) of each new vector with any vector of the model, new or stored."""
    assert work.model and work.codes is not None and work.vectors is not None
    assert work.code_format is not None
    new = set(work.ids)
    stored_ids, stored_codes, stored_vectors = (
        ([], [], []) if work.new_format else _stored_rows(connection, work.model, new)
    )
    ids = work.ids + stored_ids
    width = work.codes.shape[1]
    codes = np.concatenate(
        [work.codes, np.frombuffer(b"".join(stored_codes), np.uint8).reshape(-1, width)]
    )
    dims = work.vectors.shape[1]
    rows = np.concatenate(
        [work.vectors, np.frombuffer(b"".join(stored_vectors), np.int8).reshape(-1, dims)]
    )
    pairs: dict[tuple[str, str], float] = {}
    for start in range(0, len(work.ids), _QUERIES_PER_SCAN):
        queries = range(start, min(start + _QUERIES_PER_SCAN, len(work.ids)))
        found = scan_codes_batch(
            codes,
            codes[start : queries.stop],
            _DUPLICATE_POOL,
            DUPLICATE_FLOOR - _MARGIN,
            work.code_format,
        )
        for query, matches in zip(queries, found, strict=True):
            candidates = matches.indices[matches.indices != query]
            if not len(candidates):
                continue
            exact = rescore(rows, rows[query], candidates, _DUPLICATE_POOL, DUPLICATE_FLOOR)
            for row, score in zip(exact.indices.tolist(), exact.scores.tolist(), strict=True):
                a, b = sorted((ids[query], ids[row]))
                pairs[(a, b)] = round(min(float(score), 1.0), 4)
    return [(a, b, score) for (a, b), score in sorted(pairs.items())]


def write(connection: sqlite3.Connection, work: VectorWork) -> None:
    """Writes the prepared rows; call inside the build's transaction, after the entries.

    Rows of the model the catalog had before go when the model changed (or is off,
    as its entries no longer have a vector flag from it), and rows of entries that no
    longer have a vector of this model go with them.
    """
    if work.previous and work.previous != work.model:
        connection.execute("DELETE FROM vectors WHERE model = ?", (work.previous,))
        connection.execute("DELETE FROM near_duplicates WHERE model = ?", (work.previous,))
        connection.execute(
            "DELETE FROM catalog_info WHERE key = ?", (f"code_format:{work.previous}",)
        )
    if work.model is None:
        connection.execute("DELETE FROM catalog_info WHERE key = ?", (_MODEL_KEY,))
        return
    if work.new_format:
        # a refit makes every older code of this model incomparable: they go
        connection.execute("DELETE FROM vectors WHERE model = ?", (work.model,))
        connection.execute("DELETE FROM near_duplicates WHERE model = ?", (work.model,))
    if work.ids:
        renewed = json.dumps(work.ids)
        connection.execute(
            "DELETE FROM near_duplicates WHERE model = ? AND (a IN (SELECT value FROM "
            "json_each(?)) OR b IN (SELECT value FROM json_each(?)))",
            (work.model, renewed, renewed),
        )
        connection.executemany(
            "INSERT INTO near_duplicates (model, a, b, score) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (model, a, b) DO UPDATE SET score = excluded.score",
            [(work.model, a, b, score) for a, b, score in work.pairs],
        )
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
    connection.execute(
        "DELETE FROM near_duplicates WHERE model = ?1 AND ("
        "NOT EXISTS (SELECT 1 FROM vectors WHERE media_id = a AND model = ?1) OR "
        "NOT EXISTS (SELECT 1 FROM vectors WHERE media_id = b AND model = ?1))",
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
