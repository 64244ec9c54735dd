"""The codes of a catalog in memory, searchable by media id.

Loading codes costs far more than scanning them, so a :class:`SimilarityIndex` is
built once per catalog state and asked many times. It keeps the codes as one
contiguous array the core scans in place, and optionally the int8 vectors of the same
entries for re-ranking.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from homegallery.similarity.codes import as_matrix, quantize, quantize_int8
from homegallery.similarity.formats import HOMEGALLERY, CodeFormat
from homegallery.similarity.scan import Matches, rescore, scan_codes

# How many 2-bit matches re-ranking reads at least, and how far below ``min_score``
# it looks: the 2-bit cosine of a pair differs from its full cosine by a few
# hundredths, so rows just under the threshold in the 2-bit pass may pass it in full.
RERANK_POOL = 1000
RERANK_MARGIN = 0.1


class SimilarityIndex:
    """Packed codes of media ids, searched by cosine, best first.

    ``search`` ranks by the 2-bit codes, as HomeGallery does; with ``vectors`` (int8
    rows aligned with ``ids``), ``search_id`` and ``search(..., vector=...)`` take the
    2-bit pass's best and re-rank them by the int8 cosine.
    """

    def __init__(
        self,
        ids: Sequence[str],
        codes: npt.ArrayLike,
        code_format: CodeFormat = HOMEGALLERY,
        vectors: npt.ArrayLike | None = None,
        threads: int = 0,
    ) -> None:
        self.codes = as_matrix(codes, np.uint8, "codes")
        self.ids = list(ids)
        self.code_format = code_format
        self.threads = threads
        if len(self.ids) != len(self.codes):
            raise ValueError(f"{len(self.ids)} ids but {len(self.codes)} codes")
        if self.codes.shape[1] != code_format.code_bytes:
            raise ValueError(
                f"codes have {self.codes.shape[1]} bytes per row; format "
                f"{code_format.label} makes {code_format.code_bytes} (pass the model's format)"
            )
        self._positions = {media_id: row for row, media_id in enumerate(self.ids)}
        if len(self._positions) != len(self.ids):
            duplicate = next(i for i, count in Counter(self.ids).items() if count > 1)
            raise ValueError(f"media id {duplicate} appears more than once")
        self.vectors = None if vectors is None else as_matrix(vectors, np.int8, "vectors")
        if self.vectors is not None and len(self.vectors) != len(self.ids):
            raise ValueError(f"{len(self.vectors)} vectors for {len(self.ids)} ids")

    @classmethod
    def from_codes(
        cls,
        ids: Sequence[str],
        codes: npt.ArrayLike,
        code_format: CodeFormat = HOMEGALLERY,
        vectors: npt.ArrayLike | None = None,
    ) -> SimilarityIndex:
        """An index of stored codes: ``codes`` rows are the packed codes of ``ids``."""
        return cls(ids, codes, code_format, vectors)

    @classmethod
    def from_vectors(
        cls,
        ids: Sequence[str],
        vectors: npt.ArrayLike,
        code_format: CodeFormat = HOMEGALLERY,
        keep_vectors: bool = False,
    ) -> SimilarityIndex:
        """An index of float vectors, quantised here; ``keep_vectors`` keeps int8 rows."""
        codes = quantize(vectors, code_format)
        return cls(ids, codes, code_format, quantize_int8(vectors)[0] if keep_vectors else None)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, media_id: object) -> bool:
        return media_id in self._positions

    def position(self, media_id: str) -> int:
        """Row of ``media_id``; KeyError (a LookupError) when it has no code."""
        try:
            return self._positions[media_id]
        except KeyError:
            raise KeyError(f"no similarity code for media id {media_id}") from None

    def search(
        self,
        query: npt.ArrayLike | bytes,
        k: int = 100,
        min_score: float = 0.5,
        exclude: str | None = None,
        vector: npt.ArrayLike | None = None,
    ) -> list[tuple[str, float]]:
        """Ids most like a packed code ``query`` (bytes or uint8 row), best first.

        ``exclude`` leaves one id out (usually the query's own entry). ``vector``, the
        query's int8 row, re-ranks by int8 cosine when the index has vectors.
        """
        code = np.frombuffer(query, dtype=np.uint8) if isinstance(query, bytes) else query
        skip = -1 if exclude is None or exclude not in self else self._positions[exclude]
        wanted = k + (skip >= 0)
        if vector is not None and self.vectors is not None:
            pool = scan_codes(
                self.codes,
                code,
                max(RERANK_POOL, wanted),
                min_score - RERANK_MARGIN,
                self.code_format,
                self.threads,
            )
            found = rescore(self.vectors, vector, pool.indices, wanted, min_score)
        else:
            found = scan_codes(self.codes, code, wanted, min_score, self.code_format, self.threads)
        return self._named(found, skip, k)

    def search_id(
        self, media_id: str, k: int = 100, min_score: float = 0.5
    ) -> list[tuple[str, float]]:
        """Ids most like the entry ``media_id``, best first, the entry itself left out."""
        row = self.position(media_id)
        vector = None if self.vectors is None else self.vectors[row]
        return self.search(self.codes[row], k, min_score, exclude=media_id, vector=vector)

    def _named(self, found: Matches, skip: int, k: int) -> list[tuple[str, float]]:
        ids = self.ids
        named = [
            (ids[row], float(score))
            for row, score in zip(found.indices.tolist(), found.scores.tolist(), strict=True)
            if row != skip
        ]
        return named[:k]
