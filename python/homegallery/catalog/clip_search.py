"""``text:`` searches: the CLIP text model's vector of a text, and the photos by cosine.

The text half of the user's CLIP model runs in the process that searches (the server,
the command, a script), loaded at the first ``text:`` query and kept; each distinct
text is run once and its vector kept (the last ``TEXT_CACHE`` texts), so paging
through a result or counting it costs no model run. The photos' vectors are the
catalog's int8 rows (:mod:`.clip_build`), read once per catalog generation and scanned
exactly by the similarity core.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from homegallery.catalog.generation import info_number
from homegallery.catalog.query.errors import QueryError
from homegallery.errors import HomeGalleryError
from homegallery.ml.clip import run_model, session, text_input
from homegallery.ml.clip_tokenizer import ClipTokenizer
from homegallery.similarity import quantize_int8, scan_int8

if TYPE_CHECKING:
    from homegallery.catalog.columns import Columns
    from homegallery.config import Clip

TEXT_CACHE = 256
NOT_CONFIGURED = (
    "text: needs a CLIP model: name its files in the config under extractor.models.clip "
    "(image, text and tokenizer), then run an import"
)


class TextEncoder:
    """The CLIP text model of a config, shared by the threads of one gallery."""

    def __init__(self, clip: Clip) -> None:
        self.clip = clip
        self._lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: ClipTokenizer | None = None
        self._vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self.runs = 0  # texts run through the model so far

    def vector(self, text: str) -> npt.NDArray[np.float32]:
        """The text's L2-normalised vector; :class:`HomeGalleryError` if the model cannot run."""
        with self._lock:
            found = self._vectors.get(text)
            if found is not None:
                self._vectors.move_to_end(text)
                return found
            if self._model is None or self._tokenizer is None:
                self._tokenizer = ClipTokenizer.from_file(Path(self.clip.tokenizer))
                self._model = session(Path(self.clip.text))
            ids = self._tokenizer.model_input(text, self.clip.context_length)
            try:
                found = np.asarray(run_model(self._model, text_input(self._model, ids))[0])
            except Exception as error:  # onnxruntime raises its own untyped errors
                first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
                raise HomeGalleryError(
                    f"{self.clip.text}: the CLIP text model cannot run: {first}"
                ) from None
            self.runs += 1
            self._vectors[text] = found.astype(np.float32)
            while len(self._vectors) > TEXT_CACHE:
                self._vectors.popitem(last=False)
            return found


class ClipRows:
    """The catalog's CLIP vectors, read again only after a build (``rebuilds``: user
    events never change them), one per reader connection, with the last few texts'
    cosines: pages and counts of one text scan once."""

    def __init__(self) -> None:
        self._generation = -1
        self.ids: list[str] = []
        self.matrix: npt.NDArray[np.int8] = np.zeros((0, 0), np.int8)
        self._scores: OrderedDict[bytes, npt.NDArray[np.float64]] = OrderedDict()
        self._rows: tuple[object, npt.NDArray[np.int64]] | None = None

    def load(self, connection: sqlite3.Connection) -> None:
        current = info_number(connection, "rebuilds")
        if current == self._generation:
            return
        ids: list[str] = []
        rows: list[bytes] = []
        for media_id, vector in connection.execute("SELECT media_id, vector FROM clip_vectors"):
            ids.append(media_id)
            rows.append(vector)
        width = len(rows[0]) if rows else 0
        self.ids = ids
        self.matrix = np.frombuffer(b"".join(rows), np.int8).reshape(len(rows), width)
        self._scores.clear()
        self._rows = None
        self._generation = current

    def every(self, connection: sqlite3.Connection) -> list[str]:
        """The ids of every entry with a CLIP vector."""
        self.load(connection)
        return self.ids

    def rows_in(self, columns: Columns) -> npt.NDArray[np.int64]:
        """The snapshot row of each vector (-1: an id the snapshot does not have)."""
        if self._rows is None or self._rows[0] is not columns:
            found = (columns.row_of(media_id) for media_id in self.ids)
            rows = np.fromiter((-1 if r is None else r for r in found), np.int64, len(self.ids))
            self._rows = (columns, rows)
        return self._rows[1]

    def scores(
        self, connection: sqlite3.Connection, vector: npt.NDArray[np.float32], column: int
    ) -> npt.NDArray[np.float64]:
        """Each vector's cosine to ``vector``, in the order of ``ids``."""
        self.load(connection)
        if not self.ids:
            return np.zeros(0)
        if self.matrix.shape[1] != len(vector):
            raise QueryError(
                f"the CLIP text model gives {len(vector)} values, the catalog's image "
                f"vectors {self.matrix.shape[1]}: the two halves are of different models",
                column=column,
                expected="a text and image model of one CLIP model",
            )
        key = vector.tobytes()
        found = self._scores.get(key)
        if found is None:
            query, _ = quantize_int8(vector.reshape(1, -1))
            matches = scan_int8(self.matrix, query[0], len(self.ids), -1.0)
            found = np.zeros(len(self.ids))
            found[matches.indices] = matches.scores
            self._scores[key] = found
            while len(self._scores) > _SCANS_KEPT:
                self._scores.popitem(last=False)
        return found


_SCANS_KEPT = 8
