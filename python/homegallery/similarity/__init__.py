"""Similarity of media by their embeddings: 2-bit codes, top-k cosine scans, an index.

Why codes: a 1024-float embedding is 4 KB; 100k of them are 400 MB to keep and to
read for every ``similar:`` query. A 2-bit code of the same vector is 86 bytes, 8.6 MB
for 100k, and scanning it ranks neighbours almost as the full vectors would. The
full vector can be kept as well, as int8 rows, to re-rank the best few hundred.

Code layout, HomeGallery's form (:data:`HOMEGALLERY`)
    The vector is MobileNet v1's 1024-value penultimate layer (ReLU, never negative).

    1. Keep every third value: indices 0, 3, 6, … 1023, 342 values.
    2. Quantise each kept value v to q = round(3·sqrt(clamp(v / 2.875, 0, 1))), so
       q ∈ {0, 1, 2, 3}; round is half up (JavaScript's ``Math.round``), computed in
       f64 as the browser does.
    3. Pack four q per byte, the first value in the two highest bits:
       byte j = q[4j] << 6 | q[4j+1] << 4 | q[4j+2] << 2 | q[4j+3]. 342 values fill
       86 bytes; the last byte's two unused slots are 0.
    4. In HomeGallery's database the code is base64 with padding: 116 characters.

    A scan decodes q as (q/3)², the value q stands for up to the 2.875 factor, and
    ranks by cosine of the decoded vectors; ``similar:`` keeps cosine ≥ 0.5. The scans
    here use q² (cosine ignores a common factor) with exact integer sums.

Generalised form (:func:`fit_format`)
    For other models (CLIP 512-d and others) a :class:`CodeFormat` keeps every value
    (stride 1), divides each vector by its L2 norm, and uses a scale fitted to the
    model's vectors instead of 2.875. Its "signed" levels suit embeddings with both
    signs: q = round(1.5·(clamp(v / scale, -1, 1) + 1)), decoded as (2q - 3)/3, i.e.
    -1, -1/3, 1/3, 1. The packing is the same: four per byte, first value highest.
    A 512-d vector makes 128 bytes.

Full-precision form
    :func:`quantize_int8` stores each vector as int8 with one float32 scale
    (value ≈ code · scale); :func:`scan_int8` and :func:`rescore` rank by its cosine.

The heavy work runs in the Rust core (``homegallery._core``) with the GIL released and
rows split across ``threads`` (0: every core); :mod:`.reference` holds the same
functions in plain numpy, which the tests hold the core to and the benchmarks compare.
"""

from __future__ import annotations

from homegallery.similarity.codes import (
    decode,
    dequantize_int8,
    pack_base64,
    quantize,
    quantize_int8,
    unpack_base64,
)
from homegallery.similarity.fit import code_fidelity, fit_format
from homegallery.similarity.formats import HOMEGALLERY, CodeFormat, Levels
from homegallery.similarity.index import SimilarityIndex
from homegallery.similarity.scan import (
    Matches,
    rescore,
    scan_codes,
    scan_codes_batch,
    scan_float32,
    scan_int8,
)

__all__ = [
    "HOMEGALLERY",
    "CodeFormat",
    "Levels",
    "Matches",
    "SimilarityIndex",
    "code_fidelity",
    "decode",
    "dequantize_int8",
    "fit_format",
    "pack_base64",
    "quantize",
    "quantize_int8",
    "rescore",
    "scan_codes",
    "scan_codes_batch",
    "scan_float32",
    "scan_int8",
    "unpack_base64",
]
