"""Relevance: word searches ranked by score against the same searches in date order.

Generates the catalog benchmark's synthetic gallery (:func:`homegallery.bench.catalog.generate`:
tags, places, cameras, file paths, five ImageNet labels per image with probabilities)
and builds it once with the labels, then times each query of a mix of word searches
through ``Gallery.search(query, limit=100)`` (the page the web app asks for) twice in
turn: ranked (the default order of a query with words) and with ``order by date``
(the order the same words had before ranking, the baseline). The ratio is what
ranking costs on top of finding the matches.

    .venv/bin/python benches/bench_relevance.py [--quick] [--entries N] [--json FILE]
    (or as a stage of `homegallery bench`)
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from homegallery.bench.catalog import MODEL, generate
from homegallery.bench.report import Figure, Report, percentile, print_report
from homegallery.catalog import SourceFiles, build_catalog
from homegallery.config import Config, Database, Storage
from homegallery.gallery import Gallery

# Words of every source: tags, places, labels by a class name and by general terms
# (hundreds of classes), cameras, file names, several words, words with keys.
WORD_QUERIES = [
    "sea", "beach", "dog", "animal", "vehicle", "florence", "canon", "img_0012", "sea dog",
    "sun or snow or night", "florence 2019", "tag17 or tag42 or tag99", "dog year >= 2015",
    "animal not tag:private",
]  # fmt: skip


def _milliseconds(gallery: Gallery, query: str) -> float:
    start = time.perf_counter()
    gallery.search(query, limit=100)
    return (time.perf_counter() - start) * 1000


def run(quick: bool, entries: int | None = None) -> Report:
    count = entries or (2000 if quick else 100_000)
    repeats = 3 if quick else 15
    report = Report(f"relevance: ranked word searches, {count:,} entries")
    work = Path(tempfile.mkdtemp(prefix="bench-relevance-"))
    try:
        storage_dir, catalog = work / "storage", work / "catalog.db"
        print(f"generating {count:,} media in the storage …", file=sys.stderr)
        records = generate(storage_dir, count)
        build_catalog(catalog, storage_dir, [SourceFiles("/photos", records)], outputs=MODEL)
        config = Config(storage=Storage(dir=str(storage_dir)), database=Database(file=str(catalog)))
        gallery = Gallery(config)
        try:
            for query in WORD_QUERIES:  # read the columns and scores once, check each query
                gallery.search(query, limit=100)
                gallery.search(f"{query} order by date", limit=100)
            ranked: list[float] = []
            dated: list[float] = []
            for _ in range(repeats):
                for query in WORD_QUERIES:  # in turn, so both see the same load
                    ranked.append(_milliseconds(gallery, query))
                    dated.append(_milliseconds(gallery, f"{query} order by date"))
        finally:
            gallery.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for name, share in (("p50", 0.5), ("p95", 0.95)):
        report.add(Figure("relevance", f"ranked word search, page of 100, {name}",
                          percentile(ranked, share), "ms", "the same words by date",
                          percentile(dated, share), higher_is_better=False,
                          target="< 50 ms at 100k" if name == "p95" else "", at=count))  # fmt: skip
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="2,000 entries, fewer repeats")
    parser.add_argument("--entries", type=int, default=None, help="entries (default 100,000)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    print_report(run(args.quick, args.entries), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
