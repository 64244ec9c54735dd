"""The build takes the embedding model's stored results: labels as words, vectors as codes.

The storage is written with the extract stage's own writers (labels and ``.npy``
embeddings), with vectors made so that which entries are alike is known; the build
runs for real (parts in the Rust core, vectors through the similarity core) and the
catalog is searched through :class:`Searcher` and :class:`Gallery`.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from factories import Indexed, fake_id
from factories import record as indexed_record
from homegallery.catalog import QueryError, SourceFiles, build_catalog
from homegallery.catalog.events import new_event, record_events
from homegallery.catalog.schema import open_reader, open_writer
from homegallery.catalog.search import Searcher
from homegallery.catalog.vector_build import ModelOutputs
from homegallery.catalog.vectors import write_codes
from homegallery.config import Config, Database, Storage
from homegallery.extract.schema import (
    Labels,
    MediaMeta,
    StoredLabel,
    embedding_kind,
    write_embedding,
    write_labels,
    write_meta,
)
from homegallery.gallery import Gallery
from homegallery.similarity import quantize
from homegallery.storage import Storage as StorageFolder

MODEL = ModelOutputs("m-1", label_threshold=0.25)
BEAGLE = StoredLabel(id="n02088364", name="beagle", score=0.6)
HOUND = StoredLabel(id="n02089973", name="English foxhound", score=0.3)
RETRIEVER = StoredLabel(id="n02099601", name="golden retriever", score=0.05)
SPORTS_CAR = StoredLabel(id="n04285008", name="sports car", score=0.9)


def record(number: int, kind: str = "image", name: str = "") -> Indexed:
    return indexed_record(name or f"{number}.jpg", number, kind)


def vectors(count: int, seed: int = 3) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Non-negative unit vectors in two groups: 0-4 near one centre, 5 and on near another."""
    rng = np.random.default_rng(seed)
    centres = np.zeros((2, 64))
    centres[0, :32] = rng.uniform(0.5, 1, 32)
    centres[1, 32:] = rng.uniform(0.5, 1, 32)
    rows = []
    for number in range(count):
        row = centres[0 if number < 5 else 1] + rng.uniform(0, 0.04 * (number % 5 + 1), 64)
        rows.append(row / np.linalg.norm(row))
    return np.array(rows, np.float32)


@pytest.fixture
def gallery(tmp_path: Path) -> tuple[Path, StorageFolder, list[Indexed]]:
    storage = StorageFolder(tmp_path / "storage")
    records = [record(number) for number in range(8)]
    rows = vectors(8)
    for number, entry in enumerate(records):
        write_meta(storage, entry.id, MediaMeta(type="image", keywords=[f"n{number}"]))
        if number == 7:
            continue  # no model results: no labels, no vector
        write_embedding(storage, entry.id, "m-1", rows[number])
        labels = [BEAGLE, HOUND, RETRIEVER] if number < 5 else [SPORTS_CAR]
        write_labels(storage, entry.id, "m-1", Labels(model="m", version="1", labels=labels))
    return tmp_path / "catalog.db", storage, records


def build(
    catalog: Path,
    storage: StorageFolder,
    records: list[Indexed],
    outputs: ModelOutputs | None = MODEL,
) -> Any:
    return build_catalog(catalog, storage.root, [SourceFiles("/p", records)], outputs=outputs)


def search(catalog: Path, query: str) -> list[str]:
    reader = open_reader(catalog)
    try:
        return Searcher(reader).ids(query)
    finally:
        reader.close()


def rows(catalog: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(catalog)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def test_labels_above_the_threshold_become_words_and_keys(
    gallery: tuple[Path, StorageFolder, list[Indexed]],
) -> None:
    catalog, storage, records = gallery
    summary = build(catalog, storage, records)
    assert summary.added == 8 and summary.vectors == 7 and not summary.problems
    dogs = sorted(fake_id(n) for n in range(5))
    assert sorted(search(catalog, "label:dog")) == dogs
    assert sorted(search(catalog, "animal")) == dogs
    assert sorted(search(catalog, "label:foxhound")) == dogs
    assert search(catalog, "label:retriever") == []  # 0.05: under the threshold
    assert sorted(search(catalog, "vehicle")) == sorted(fake_id(n) for n in (5, 6))
    assert search(catalog, "not exists label") == [fake_id(7)]
    entry = Gallery(_config(catalog, storage)).entry(fake_id(0))
    assert entry is not None and [label.name for label in entry.labels] == [
        "beagle",
        "English foxhound",
    ]
    assert entry.labels[0].id == "n02088364" and entry.labels[0].score == pytest.approx(0.6)
    assert entry.has_vector


def _config(catalog: Path, storage: StorageFolder) -> Config:
    return Config(storage=Storage(dir=str(storage.root)), database=Database(file=str(catalog)))


def test_vectors_become_codes_in_a_format_fitted_to_the_model(
    gallery: tuple[Path, StorageFolder, list[Indexed]],
) -> None:
    catalog, storage, records = gallery
    build(catalog, storage, records)
    (stored,) = rows(catalog, "SELECT value FROM catalog_info WHERE key = 'code_format:m-1'")
    code_format = json.loads(stored[0])
    assert code_format["dims"] == 64 and code_format["levels"] == "sqrt"
    assert code_format["stride"] == 2 and code_format["normalize"] is True
    assert rows(
        catalog, "SELECT count(*), min(length(code)), min(length(vector)) FROM vectors"
    ) == [(7, 8, 64)]
    assert search(catalog, f"similar:{fake_id(0)}")[0] == fake_id(0)
    assert sorted(search(catalog, f"similar:{fake_id(0)}")) == sorted(fake_id(n) for n in range(5))
    assert sorted(search(catalog, "exists similar")) == sorted(fake_id(n) for n in range(7))
    found = Gallery(_config(catalog, storage)).similar(fake_id(5), k=3)
    assert [entry.id for entry, _ in found] == [fake_id(6)]
    assert found[0][1] > 0.9


def test_only_what_changed_is_read_and_a_new_embedding_joins(
    gallery: tuple[Path, StorageFolder, list[Indexed]],
) -> None:
    catalog, storage, records = gallery
    build(catalog, storage, records)
    again = build(catalog, storage, records)
    assert (again.unchanged, again.vectors) == (8, 0)
    write_embedding(storage, fake_id(7), "m-1", vectors(8)[0] * 0.5 + vectors(8)[1] * 0.5)
    later = build(catalog, storage, records)
    assert (later.changed, later.vectors) == (1, 1)
    assert fake_id(7) in search(catalog, f"similar:{fake_id(0)}")
    # an embedding removed takes the vector with it
    storage.delete(fake_id(6), embedding_kind("m-1"))
    build(catalog, storage, records)
    assert fake_id(6) not in search(catalog, "exists similar")
    assert rows(catalog, "SELECT count(*) FROM vectors WHERE media_id = ?", fake_id(6)) == [(0,)]
    # a removed entry takes its vector with it
    build(catalog, storage, records[:6])
    assert rows(catalog, "SELECT count(*) FROM vectors") == [(6,)]


def test_a_new_threshold_or_model_makes_every_entry_anew(
    gallery: tuple[Path, StorageFolder, list[Indexed]],
) -> None:
    catalog, storage, records = gallery
    build(catalog, storage, records)
    lower = build(catalog, storage, records, ModelOutputs("m-1", label_threshold=0.01))
    assert lower.added == 8 and lower.vectors == 0  # a full build; the codes stay
    assert sorted(search(catalog, "label:retriever")) == sorted(fake_id(n) for n in range(5))

    # version 2 of the model: nothing is embedded by it yet
    other = build(catalog, storage, records, ModelOutputs("m-2", label_threshold=0.25))
    assert other.added == 8 and other.vectors == 0
    assert search(catalog, "exists similar") == [] and search(catalog, "exists label") == []
    assert rows(catalog, "SELECT count(*) FROM vectors") == [(0,)]
    assert rows(catalog, "SELECT count(*) FROM catalog_info WHERE key LIKE 'code_format:%'") == [
        (0,)
    ]
    write_embedding(storage, fake_id(1), "m-2", vectors(8)[1])
    write_embedding(storage, fake_id(2), "m-2", vectors(8)[2])
    assert build(catalog, storage, records, ModelOutputs("m-2")).vectors == 2
    assert sorted(search(catalog, "exists similar")) == [fake_id(1), fake_id(2)]

    # the task turned off: the model's rows go, the catalog has no vectors
    build(catalog, storage, records, None)
    assert rows(catalog, "SELECT count(*) FROM vectors") == [(0,)]
    assert search(catalog, "exists similar") == []


def test_a_raw_twin_lends_its_labels_and_vector_to_the_jpeg(tmp_path: Path) -> None:
    storage = StorageFolder(tmp_path / "storage")
    jpeg, raw = record(1, name="a/IMG_1.jpg"), record(2, "raw", name="a/IMG_1.CR2")
    write_embedding(storage, raw.id, "m-1", vectors(2)[0])
    write_labels(storage, raw.id, "m-1", Labels(model="m", version="1", labels=[SPORTS_CAR]))
    catalog = tmp_path / "catalog.db"
    summary = build(catalog, storage, [jpeg, raw])
    assert summary.entries == 1 and summary.vectors == 1
    assert search(catalog, "label:car") == [jpeg.id]
    assert rows(catalog, "SELECT media_id FROM vectors") == [(jpeg.id,)]


def test_a_broken_embedding_is_a_problem_and_is_read_again_once_mended(
    gallery: tuple[Path, StorageFolder, list[Indexed]],
) -> None:
    catalog, storage, records = gallery
    storage.write(fake_id(3), embedding_kind("m-1"), b"\x93NUMPY broken")
    summary = build(catalog, storage, records)
    assert summary.vectors == 6
    assert len(summary.problems) == 1 and "not an embedding" in summary.problems[0]
    assert fake_id(3)[4:] in summary.problems[0]
    write_embedding(storage, fake_id(3), "m-1", vectors(8)[3])
    mended = build(catalog, storage, records)
    assert mended.vectors == 1 and not mended.problems
    assert fake_id(3) in search(catalog, f"similar:{fake_id(0)}")


def test_vectors_written_by_other_means_survive_builds(
    gallery: tuple[Path, StorageFolder, list[Indexed]],
) -> None:
    catalog, storage, records = gallery
    build(catalog, storage, records)
    writer = open_writer(catalog)
    writer.execute("BEGIN IMMEDIATE")
    imported = np.zeros((1, 1024), np.float32)
    imported[0, :10] = 1.0
    write_codes(writer, "mobilenet", [fake_id(7)], quantize(imported))
    writer.execute("COMMIT")
    writer.close()
    build(catalog, storage, records, ModelOutputs("m-1", label_threshold=0.5))  # a full build
    assert rows(catalog, "SELECT model FROM vectors WHERE media_id = ?", fake_id(7)) == [
        ("mobilenet",)
    ]
    assert fake_id(7) in search(catalog, "exists similar")


def test_labels_survive_a_user_tag_and_the_rebuild_after_it(
    gallery: tuple[Path, StorageFolder, list[Indexed]],
) -> None:
    catalog, storage, records = gallery
    build(catalog, storage, records)
    writer = open_writer(catalog)
    record_events(writer, [new_event([fake_id(0)], user="me", add_tags=["best"])])
    writer.close()
    assert search(catalog, "tag:best label:dog") == [fake_id(0)]
    write_meta(storage, fake_id(0), MediaMeta(type="image", keywords=["changed"]))
    storage.write(fake_id(0), "place.json", b'{"source":"offline","city":"Rome"}')
    assert build(catalog, storage, records).changed == 1
    assert search(catalog, "tag:best label:dog rome") == [fake_id(0)]


def test_a_sample_fits_like_all() -> None:
    """The build fits the code format on FIT_ROWS rows: the scale and the fidelity it
    reaches are those of a fit on every row (here, vectors shaped like the model's:
    non-negative, a few large values)."""
    from homegallery.catalog.vector_build import FIT_ROWS, LEVELS, STRIDE
    from homegallery.similarity import code_fidelity, fit_format

    rng = np.random.default_rng(11)
    matrix = rng.gamma(0.5, 1.0, (2048, 1280)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    sample = matrix[:: len(matrix) // FIT_ROWS][:FIT_ROWS]
    small = fit_format(sample, levels=LEVELS, stride=STRIDE, normalize=True)
    full = fit_format(matrix, levels=LEVELS, stride=STRIDE, normalize=True)
    assert small.scale == pytest.approx(full.scale, rel=0.03)
    assert code_fidelity(matrix, small) == pytest.approx(code_fidelity(matrix, full), abs=0.002)


def test_near_duplicates_are_found_as_vectors_arrive_and_listed_in_groups(
    gallery: tuple[Path, StorageFolder, list[Indexed]],
) -> None:
    catalog, storage, records = gallery
    matrix = vectors(8)
    exact = matrix @ matrix.T
    build(catalog, storage, records[:6])  # entries 0-5 first, 6 and 7 in a later build
    write_embedding(storage, fake_id(7), "m-1", matrix[5] * 0.98 + matrix[6] * 0.02)
    build(catalog, storage, records)
    stored = {
        (a, b): score for a, b, score in rows(catalog, "SELECT a, b, score FROM near_duplicates")
    }
    expected = {
        (fake_id(i), fake_id(j)): exact[i, j]
        for i in range(7)
        for j in range(i + 1, 7)
        if exact[i, j] >= 0.86
    }
    assert expected and set(expected) <= set(stored)
    for pair, score in stored.items():
        numbers = [int(media_id[:2], 16) for media_id in pair]
        if 7 not in numbers:
            assert score == pytest.approx(exact[numbers[0], numbers[1]], abs=0.02)
    assert (fake_id(5), fake_id(7)) in stored  # a later vector meets the stored ones

    gallery_api = Gallery(_config(catalog, storage))
    groups = [[entry.id for entry in group] for group in gallery_api.duplicates()]
    members = {media_id for group in groups for media_id in group}
    for a, b in (pair for pair, score in stored.items() if score >= 0.9):
        assert any(a in group and b in group for group in groups)
    reader = open_reader(catalog)
    searcher = Searcher(reader)
    found = searcher.ids("duplicates")
    assert found == [media_id for group in groups for media_id in group]
    assert set(searcher.ids("duplicates:0.85")) >= members
    assert searcher.ids("'duplicates'") == []  # quoted: a word like any other
    # a photo whose near-duplicates the rest of the query leaves out is not listed
    # (a viewer's filter must not give away a hidden copy)
    assert searcher.ids("n5 duplicates") == []
    assert searcher.ids("(n5 or n6) and duplicates") == sorted(
        [fake_id(5), fake_id(6)], key=found.index
    )
    reader.close()
    with pytest.raises(QueryError) as caught:
        search(catalog, "tag:x duplicates:0.5")
    assert caught.value.column == 18 and "0.85 to 1" in str(caught.value)
    # an entry gone takes its pairs with it
    build(catalog, storage, records[:6])
    assert not rows(catalog, "SELECT 1 FROM near_duplicates WHERE ? IN (a, b)", fake_id(7))
