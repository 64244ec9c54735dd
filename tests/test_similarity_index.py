"""SimilarityIndex: the contract the catalog uses (ids in, (id, score) lists out)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homegallery.similarity import (
    HOMEGALLERY,
    CodeFormat,
    SimilarityIndex,
    fit_format,
    quantize,
    quantize_int8,
    reference,
)


def ids_for(count: int) -> list[str]:
    return [f"{number:064x}" for number in range(count)]


def gallery(count: int, seed: int = 0) -> npt.NDArray[np.float32]:
    """Embeddings in clusters, as photos of a few scenes give."""
    rng = np.random.default_rng(seed)
    centres = rng.gamma(0.5, 1.0, (max(count // 20, 1), 1024))
    members = centres[rng.integers(0, len(centres), count)]
    return (members * rng.uniform(0.6, 1.4, (count, 1024))).astype(np.float32)


def test_search_id_leaves_the_entry_out_and_equals_reference() -> None:
    vectors = gallery(2000)
    codes = quantize(vectors)
    ids = ids_for(2000)
    index = SimilarityIndex.from_codes(ids, codes)
    found = index.search_id(ids[7], k=30, min_score=0.5)
    rows, scores = reference.scan_codes(codes, codes[7], 342, "sqrt", 31, 0.5)
    expected = [(ids[row], score) for row, score in zip(rows, scores, strict=True) if row != 7]
    assert found == expected[:30]
    assert found and all(media_id != ids[7] for media_id, _ in found)
    assert all(score >= 0.5 for _, score in found)


@settings(deadline=None)
@given(st.integers(0, 60), st.sampled_from([0.0, 0.5, 0.95]), st.integers(0, 59), st.booleans())
def test_search_with_exclude_is_the_unexcluded_search_minus_one_id(
    k: int, min_score: float, pick: int, exclude_other: bool
) -> None:
    codes = np.random.default_rng(pick).choice([0, 0x55, 0xAA, 0xFF], (60, 86)).astype(np.uint8)
    ids = ids_for(60)
    index = SimilarityIndex.from_codes(ids, codes)
    excluded = ids[(pick + 1) % 60] if exclude_other else ids[pick]
    everything = index.search(codes[pick], k=61, min_score=min_score)
    expected = [pair for pair in everything if pair[0] != excluded][:k]
    assert index.search(codes[pick], k=k, min_score=min_score, exclude=excluded) == expected


def test_query_as_bytes_like_a_catalog_blob() -> None:
    codes = quantize(gallery(100))
    index = SimilarityIndex.from_codes(ids_for(100), codes)
    assert index.search(codes[3].tobytes(), k=5) == index.search(codes[3], k=5)


def test_bad_input_is_reported() -> None:
    codes = quantize(gallery(10))
    with pytest.raises(ValueError, match="3 ids but 10 codes"):
        SimilarityIndex.from_codes(ids_for(3), codes)
    with pytest.raises(ValueError, match="appears more than once"):
        SimilarityIndex.from_codes(["a"] * 10, codes)
    with pytest.raises(ValueError, match="makes 86"):
        SimilarityIndex.from_codes(ids_for(10), codes[:, :64])
    index = SimilarityIndex.from_codes(ids_for(10), codes)
    with pytest.raises(LookupError, match="no similarity code for media id nope"):
        index.search_id("nope")
    assert len(index) == 10 and ids_for(1)[0] in index


def test_reranking_with_int8_vectors_orders_by_full_cosine() -> None:
    vectors = gallery(3000, seed=5)
    ids = ids_for(3000)
    plain = SimilarityIndex.from_vectors(ids, vectors)
    reranked = SimilarityIndex.from_vectors(ids, vectors, keep_vectors=True)
    found = reranked.search_id(ids[42], k=10, min_score=0.5)
    rows, _ = quantize_int8(vectors)
    rows_exact, scores_exact = reference.scan_rows(rows, rows[42], 11, 0.5)
    expected = [
        (ids[row], score) for row, score in zip(rows_exact, scores_exact, strict=True) if row != 42
    ][:10]
    assert found == expected
    two_bit = plain.search_id(ids[42], k=10, min_score=0.5)
    assert [score for _, score in two_bit] != [score for _, score in found]


def test_generalised_format_for_signed_embeddings() -> None:
    rng = np.random.default_rng(9)
    centres = rng.normal(0, 1, (50, 512))
    vectors = (centres[rng.integers(0, 50, 4000)] + rng.normal(0, 0.4, (4000, 512))).astype(
        np.float32
    )
    code_format = fit_format(vectors, name="clip-like")
    ids = ids_for(4000)
    index = SimilarityIndex.from_vectors(ids, vectors, code_format)
    found = index.search_id(ids[0], k=20, min_score=0.5)
    # Neighbours by code are neighbours by the float vectors too.
    exact_rows, _ = reference.scan_rows(vectors, vectors[0], 81, -1.0)
    exact_top = {ids[row] for row in exact_rows[1:]}
    assert sum(media_id in exact_top for media_id, _ in found) >= 18
    with pytest.raises(ValueError, match="pass the model's format"):
        SimilarityIndex.from_codes(ids, index.codes, HOMEGALLERY)
    assert isinstance(index.code_format, CodeFormat)
