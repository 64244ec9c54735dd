"""Relevance: word searches ranked by score against the same searches in date order.

Writes a catalog of N generated entries straight through the row writer the build
uses (:func:`homegallery.catalog.rows.insert_entries`; no storage, so 100k entries
take seconds): tags, places, cameras, file paths, ImageNet labels with their
probabilities and detected objects with their scores, drawn as the catalog
benchmark draws them. It then times each query of a mix of word searches through
``Gallery.search(query, limit=100)`` (the page the web app asks for) in turn:
ranked (the default order of a query with words) and with ``order by date`` (what
the same words cost without ranking, the baseline). The ratio is what ranking costs
on top of finding the matches.

    .venv/bin/python benches/bench_relevance.py [--quick] [--entries N] [--json FILE]
    (or as a stage of `homegallery bench`)
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from homegallery.bench.catalog import CAMERAS, PLACES, WORDS
from homegallery.bench.report import Figure, Report, percentile, print_report
from homegallery.catalog.entry import DetectedObject, Entry, EntryFile, Label
from homegallery.catalog.generation import bump_generation
from homegallery.catalog.rows import insert_entries
from homegallery.catalog.schema import open_writer
from homegallery.config import Config, Database, Storage
from homegallery.gallery import Gallery
from homegallery.ml.labels import label_name, label_wnid

OBJECTS = ["person", "dog", "cat", "car", "bicycle", "boat", "bird", "cup", "chair", "kite"]
LABEL_THRESHOLD = 0.2


def generate_entry(number: int, rng: random.Random) -> Entry:
    """One entry as a build would make it from the catalog benchmark's kind of media."""
    year = rng.randint(2005, 2024)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    make, model = rng.choice(CAMERAS)
    place = rng.choice(PLACES) if rng.random() < 0.33 else None
    probabilities = sorted((rng.random() ** 3 * 0.9 for _ in range(5)), reverse=True)
    labels = [
        Label(id=label_wnid(index), name=label_name(index), score=round(p, 4))
        for index, p in zip(rng.sample(range(1000), 5), probabilities, strict=True)
        if p >= LABEL_THRESHOLD
    ]
    objects = [
        DetectedObject(class_=name, score=round(rng.uniform(0.6, 1.0), 3))
        for name in rng.sample(OBJECTS, rng.randint(0, 3))
    ]
    media_id = f"{rng.getrandbits(256):064x}"
    path = f"{year}/{month:02d}/IMG_{number:06d}.jpg"
    return Entry(
        id=media_id, type="image", date=f"{year}-{month:02d}-{day:02d}T12:00:00", year=year,
        month=month, day=day, width=4000, height=3000, make=make, model=model,
        country=place[0] if place else None, state=place[1] if place else None,
        city=place[2] if place else None, tags=rng.sample(WORDS, rng.randint(0, 4)),
        labels=labels, objects=objects,
        files=[EntryFile(source="/photos", path=path, size=1000, kind="image", id=media_id)],
    )  # fmt: skip


def write_catalog(catalog: Path, count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    writer = open_writer(catalog)
    try:
        writer.execute("BEGIN IMMEDIATE")
        insert_entries(writer, [(generate_entry(n, rng), "") for n in range(count)], 1)
        bump_generation(writer)
        writer.execute("COMMIT")
    finally:
        writer.close()


# Words of every source: tags, places, labels by a class name and by general terms
# (hundreds of classes), cameras, file names, several words, words with keys.
WORD_QUERIES = [
    "sea", "beach", "dog", "animal", "vehicle", "florence", "canon", "img_0012", "sea dog",
    "bicycle",
    "sun or snow or night", "florence 2019", "tag17 or tag42 or tag99", "dog year >= 2015",
    "animal not tag:private",
]  # fmt: skip


def _milliseconds(gallery: Gallery, query: str) -> float:
    start = time.perf_counter()
    gallery.search(query, limit=100)
    return (time.perf_counter() - start) * 1000


def run(quick: bool, entries: int | None = None) -> Report:
    count = entries or (1000 if quick else 100_000)
    repeats = 2 if quick else 15
    report = Report(f"relevance: ranked word searches, {count:,} entries")
    work = Path(tempfile.mkdtemp(prefix="bench-relevance-"))
    try:
        catalog = work / "catalog.db"
        print(f"writing a catalog of {count:,} entries …", file=sys.stderr)
        write_catalog(catalog, count)
        config = Config(
            storage=Storage(dir=str(work / "storage")), database=Database(file=str(catalog))
        )
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
    parser.add_argument("--quick", action="store_true", help="1,000 entries, fewer repeats")
    parser.add_argument("--entries", type=int, default=None, help="entries (default 100,000)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    print_report(run(args.quick, args.entries), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
