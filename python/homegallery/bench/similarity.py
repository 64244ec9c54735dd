"""Similarity scans: ms per query over 100k and 1M packed codes, one core and all cores.

Each scan is HomeGallery's: one 86-byte code against n random codes, top 100 with
cosine ≥ 0.5. Figures per size:

- ms per query of the Rust scan on one core and on all cores, against the numpy
  reference (``homegallery.similarity.reference``, chunked decode + BLAS matmul);
- the scan's read rate in GB/s against the machine's memory bandwidth measured in the
  same run: a numpy copy of the same bytes (read + write, so its bytes count twice);
- a batch of 8 queries, per query (the codes are read once for all 8).

Also quantising (Rust against numpy) and int8 re-ranking of 1,000 candidates.

    .venv/bin/python benches/bench_similarity.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np

from homegallery.bench.report import Figure, Report, measure, print_report
from homegallery.similarity import (
    HOMEGALLERY,
    quantize,
    quantize_int8,
    reference,
    rescore,
    scan_codes,
    scan_codes_batch,
)

TARGETS_MS = {100_000: 5.0, 1_000_000: 50.0}
K, MIN_SCORE = 100, 0.5


def bench_scan(report: Report, rows: int, repeat: int) -> None:
    rng = np.random.default_rng(rows)
    codes = rng.integers(0, 256, (rows, HOMEGALLERY.code_bytes), dtype=np.uint8)
    query = codes[rows // 2].copy()
    size = f"{rows:,} codes"
    cores = os.cpu_count() or 1

    copy_target = np.empty_like(codes)
    copy = measure("copy", lambda: np.copyto(copy_target, codes), repeat=repeat)
    bandwidth = 2 * codes.nbytes / copy.best / 1e9
    numpy_timing = measure(
        "numpy",
        lambda: reference.scan_codes(codes, query, HOMEGALLERY.values, "sqrt", K, MIN_SCORE),
        repeat=max(1, repeat // 5),
    )
    numpy_ms = numpy_timing.best * 1e3
    target = TARGETS_MS.get(rows)
    for threads, label in ((1, "1 core"), (0, f"{cores} cores")):
        timing = measure(
            label, partial(scan_codes, codes, query, K, MIN_SCORE, threads=threads), repeat
        )
        ms = timing.best * 1e3
        report.add(
            Figure(
                size,
                f"scan, {label}",
                ms,
                "ms/query",
                "numpy reference",
                numpy_ms,
                higher_is_better=False,
                target=f"< {target:g} ms" if target and threads == 1 else "",
            )
        )
        report.add(
            Figure(
                size,
                f"scan read rate, {label}",
                codes.nbytes / timing.best / 1e9,
                "GB/s",
                "memory bandwidth (numpy copy, read + write)",
                bandwidth,
                note="how close the scan comes to reading the codes at memory speed; it "
                "is bound by its arithmetic, so a small share is expected",
            )
        )
    queries = codes[rng.integers(0, rows, 8)]
    batch = measure(
        "batch", lambda: scan_codes_batch(codes, queries, K, MIN_SCORE, threads=1), repeat=repeat
    )
    single = measure("single", lambda: scan_codes(codes, query, K, MIN_SCORE, threads=1), repeat)
    report.add(
        Figure(
            size,
            "batch of 8, 1 core, per query",
            batch.best / 8 * 1e3,
            "ms/query",
            "one query at a time",
            single.best * 1e3,
            higher_is_better=False,
        )
    )


def bench_quantize(report: Report, rows: int, repeat: int) -> None:
    vectors = np.random.default_rng(0).gamma(0.5, 1.0, (rows, 1024)).astype(np.float32)
    ours = measure("rust", lambda: quantize(vectors, threads=1), repeat=repeat)
    numpy_timing = measure(
        "numpy", lambda: reference.quantize(vectors, HOMEGALLERY), repeat=max(1, repeat // 2)
    )
    report.add(
        Figure(
            f"{rows:,} vectors",
            "quantise 1024-d to 86 bytes, 1 core",
            rows / ours.best,
            "vectors/s",
            "numpy reference",
            rows / numpy_timing.best,
        )
    )
    codes, _ = quantize_int8(vectors)
    pool = scan_codes(quantize(vectors), quantize(vectors[:1])[0], 1000, 0.0).indices
    rerank = measure("rescore", lambda: rescore(codes, codes[0], pool, K, 0.0), repeat=repeat)
    numpy_rerank = measure(
        "numpy", lambda: reference.scan_rows(codes, codes[0], K, 0.0, pool), repeat=repeat
    )
    report.add(
        Figure(
            f"{rows:,} vectors",
            f"int8 re-rank of {len(pool)} candidates",
            rerank.best * 1e3,
            "ms",
            "numpy reference",
            numpy_rerank.best * 1e3,
            higher_is_better=False,
        )
    )


def run(quick: bool) -> Report:
    report = Report("similarity scans")
    sizes = (20_000,) if quick else (100_000, 1_000_000)
    repeat = 3 if quick else 10
    for rows in sizes:
        bench_scan(report, rows, repeat)
    bench_quantize(report, 2_000 if quick else 20_000, repeat)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, few repeats")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    print_report(run(args.quick), args.json)
    return 0
