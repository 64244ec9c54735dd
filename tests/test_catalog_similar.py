"""``similar:<id>`` and ``Gallery.similar`` over codes made by the similarity core.

Vectors are random but built in two clusters with disjoint support, so which entries
are similar is known; their codes come from ``homegallery.similarity.quantize`` and are
stored with the catalog's own writer, as an embedding stage would store them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from factories import Indexed
from factories import record as factory_record
from homegallery.catalog import CatalogError, QueryError, SourceFiles, build_catalog
from homegallery.catalog.schema import open_reader, open_writer
from homegallery.catalog.search import Searcher
from homegallery.catalog.vectors import write_codes
from homegallery.config import Config, Database, Storage
from homegallery.extract.schema import MediaMeta, write_meta
from homegallery.gallery import Gallery
from homegallery.similarity import quantize, quantize_int8
from homegallery.storage import Storage as StorageFolder


def fake_id(number: int) -> str:
    """Ids told apart by their first byte, so a short prefix names one entry."""
    return f"{number:02x}" + "5a" * 31


def record(path: str, number: int) -> Indexed:
    return factory_record(path, number, media=fake_id(number))


CLUSTER_A = [fake_id(n) for n in range(1, 6)]
CLUSTER_B = [fake_id(n) for n in range(6, 11)]
WITHOUT = fake_id(11)


def _vectors(rng: np.random.Generator) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Five vectors around each of two centres that share no dimension."""
    centres = np.zeros((2, 1024), np.float32)
    centres[0, :300] = rng.uniform(0.5, 2.5, 300)
    centres[1, 600:900] = rng.uniform(0.5, 2.5, 300)
    rows = []
    for centre in centres:
        for spread in (0.0, 0.1, 0.2, 0.3, 0.4):
            noise = rng.uniform(0, spread, 1024).astype(np.float32) * (centre > 0)
            rows.append(centre + noise)
    return np.stack(rows)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("similar")
    storage = StorageFolder(folder / "storage")
    for number in range(1, 12):
        write_meta(storage, fake_id(number), MediaMeta(type="image", keywords=[f"n{number}"]))
    path = folder / "catalog.db"
    build_catalog(
        path, storage.root, [SourceFiles("/p", [record(f"{n}.jpg", n) for n in range(1, 12)])]
    )
    vectors = _vectors(np.random.default_rng(5))
    writer = open_writer(path)
    writer.execute("BEGIN IMMEDIATE")
    int8, scales = quantize_int8(vectors)
    write_codes(writer, "mobilenet", CLUSTER_A + CLUSTER_B, quantize(vectors), int8, scales)
    writer.execute("COMMIT")
    writer.close()
    return path


@pytest.fixture
def searcher(catalog: Path) -> Iterator[Searcher]:
    reader = open_reader(catalog)
    yield Searcher(reader)
    reader.close()


def test_similar_finds_the_cluster_best_first(searcher: Searcher) -> None:
    found = searcher.ids(f"similar:{CLUSTER_A[0][:12]}")
    assert found[0] == CLUSTER_A[0]
    assert sorted(found) == sorted(CLUSTER_A)
    assert searcher.ids(f"similar:{CLUSTER_B[2]} order by similar")[0] == CLUSTER_B[2]
    assert sorted(searcher.ids(f"similar:{CLUSTER_B[2]}")) == sorted(CLUSTER_B)
    # the order follows the distance from the centre: spread 0.0 … 0.4
    assert searcher.ids(f"similar:{CLUSTER_A[0]}") == CLUSTER_A


def test_similar_combines_with_other_terms(searcher: Searcher) -> None:
    assert searcher.ids(f"similar:{CLUSTER_A[0]} n3") == [CLUSTER_A[2]]
    assert searcher.ids(f"similar:{CLUSTER_A[0]} or tag:n11", limit=1) == [CLUSTER_A[0]]
    assert searcher.count(f"not similar:{CLUSTER_A[0]}") == 6
    assert sorted(searcher.ids("exists similar")) == sorted(CLUSTER_A + CLUSTER_B)
    assert searcher.ids(f"similar:{CLUSTER_A[0]} order by date desc")[0] in CLUSTER_A


def test_an_entry_without_a_vector_is_a_query_error(searcher: Searcher) -> None:
    with pytest.raises(QueryError) as caught:
        searcher.ids(f"tag:n1 similar:{WITHOUT}")
    assert caught.value.column == 16 and "no similarity vector" in str(caught.value)
    with pytest.raises(QueryError, match="no entry with id"):
        searcher.ids("similar:abcdef")


def test_gallery_similar_returns_entries_and_scores(catalog: Path, tmp_path: Path) -> None:
    gallery = Gallery(
        Config(storage=Storage(dir=str(tmp_path)), database=Database(file=str(catalog)))
    )
    found = gallery.similar(CLUSTER_B[0], k=3)
    assert [entry.id for entry, _ in found] == CLUSTER_B[1:4]
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True) and all(0.5 <= s <= 1.0 for s in scores)
    # a threshold between the scores keeps exactly the ones above it
    threshold = (scores[1] + scores[2]) / 2
    close = gallery.similar(CLUSTER_B[0], k=10, min_score=threshold)
    assert [entry.id for entry, _ in close] == CLUSTER_B[1:3]
    with pytest.raises(CatalogError, match="has no similarity vector"):
        gallery.similar(WITHOUT)
