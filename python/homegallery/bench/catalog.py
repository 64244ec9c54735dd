"""Catalog: full and incremental builds, and search latency, on synthetic entries.

Generates a storage of N media (metadata for every one, places for a third, previews
as empty files: the build only lists them; the embedding model's labels and a
1280-value embedding for the images) and a matching file index, then measures

- a full build into a fresh catalog, against reading the same storage with the extract
  stage's plain per-file readers (``Storage.kinds``, ``read_meta``, ``read_place``);
- a full build that also takes the labels and vectors, against one that does not;
- an incremental build with nothing changed, and with 1% of the media changed;
- p50/p95 latency of a mix of queries through ``Gallery.search(query, limit=100)``
  (the page the web app asks for) and ``Gallery.count``, against filtering all
  decoded entries in Python, which is how HomeGallery searches (in the browser);
  and the first pass over the mix after a build, which reads the columns it needs;
- the memory of one reader's column snapshot (traced by ``tracemalloc``): as first
  loaded, after the mix, and after every key of the query table was searched once,
  which is the most any queries can make it hold.

    .venv/bin/python benches/bench_catalog.py [--quick] [--entries N] [--json FILE]
    (or as a stage of `homegallery bench`)
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
import numpy as np

from homegallery.bench.report import Figure, Report, percentile, print_report
from homegallery.catalog import QueryError, SourceFiles, build_catalog
from homegallery.catalog.entry import Entry
from homegallery.catalog.query.fields import FIELDS
from homegallery.catalog.schema import open_reader
from homegallery.catalog.search import Searcher
from homegallery.catalog.vector_build import ModelOutputs
from homegallery.config import Config, Database, Storage
from homegallery.extract.schema import (
    META_KIND,
    PLACE_KIND,
    Labels,
    MediaMeta,
    Place,
    StoredLabel,
    embedding_kind,
    encode_embedding,
    labels_kind,
    preview_kind,
    read_meta,
    read_place,
    video_kind,
)
from homegallery.gallery import Gallery
from homegallery.ml.labels import label_name, label_wnid
from homegallery.storage import Storage as StorageFolder
from homegallery.storage import relative_path, split_id

CAMERAS = [("Canon", "Canon EOS 5D"), ("Canon", "Canon EOS R"), ("NIKON", "D750"),
           ("Apple", "iPhone 12"), ("Google", "Pixel 7"), ("SONY", "ILCE-7M3"),
           ("FUJIFILM", "X100V"), (None, None)]  # fmt: skip
PLACES = [("Italy", "Tuscany", "Florence", 43.77, 11.25), ("Germany", "Berlin", "Berlin", 52.5, 13.4),
          ("Spain", "Andalusia", "Tarifa", 36.0, -5.6), ("France", "Brittany", "Brest", 48.4, -4.5),
          ("United States", "New York", "New York", 40.7, -74.0)]  # fmt: skip
SIZES = [(4000, 3000), (3000, 4000), (6000, 4000), (1920, 1080), (12000, 3000), (800, 600)]
MODEL = ModelOutputs("efficientnet-lite0-1", label_threshold=0.2)
EMBEDDING_SIZE = 1280
WORDS = ["sea", "alps", "vacation", "family", "private", "sun", "beach", "food", "party",
         "birthday", "hike", "snow", "city", "night"] + [f"tag{n}" for n in range(200)]  # fmt: skip

QUERIES = [
    "", "tag:sea", "tags in (sea, alps)", "tags all in (vacation, sea)", "year:2021",
    "year in [2015:2018] month:6", "city:berlin", "country:italy not tag:private", "sea",
    "florence 2019", "exists geo", "count(faces) > 2", "type:video duration > 1:30",
    "width > 4000 landscape order by date asc", "file:img_1234", "order by count(tags) desc",
    "date in [2019-06:2019-08] order by date asc", "id:ab12", "not (sea or alps) and year >= 2020",
    "make:canon model ~ eos", "panorama", "tag17 or tag42 or tag99", "label:dog", "animal",
]  # fmt: skip

# A value each kind of key takes, to read every key once (see every_key_queries).
_SAMPLE_VALUES = {
    "number": "1", "count": "1", "date": "2020", "ratio": "1.5", "text": "qq", "values": "qq",
    "files": "qq", "id": "ab", "type": "image", "bool": "true",
}  # fmt: skip

# The baseline: the same questions as Python predicates over decoded entries.
PYTHON_FILTERS: dict[str, Callable[[Entry], bool]] = {
    "tag:sea": lambda e: any(t.casefold() == "sea" for t in e.tags),
    "year:2021": lambda e: e.year == 2021,
    "city:berlin": lambda e: e.city is not None and "berlin" in e.city.casefold(),
    "exists geo": lambda e: e.latitude is not None,
    "sea": lambda e: (
        any("sea" in t.casefold() for t in e.tags)
        or any("sea" in f.path.casefold() for f in e.files)
    ),
}


@dataclass(frozen=True)
class Indexed:
    path: str
    size: int
    mtime_ns: int
    id: str
    kind: str


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as handle:  # noqa: PTH123 - bench setup, speed over atomicity
        handle.write(data)


def _stored(root: Path, media_id: str, kind: str) -> str:
    return os.path.join(root, relative_path(media_id, kind))  # noqa: PTH118


def _model_results(
    root: Path, media_id: str, rng: random.Random, vectors: np.random.Generator
) -> None:
    """Labels (five classes, the first often above the threshold) and an embedding."""
    probabilities = sorted((rng.random() ** 3 for _ in range(5)), reverse=True)
    labels = [
        StoredLabel(id=label_wnid(index), name=label_name(index), score=round(p * 0.9, 4))
        for index, p in zip(rng.sample(range(1000), 5), probabilities, strict=True)
    ]
    _write(_stored(root, media_id, labels_kind(MODEL.model_tag)),
           msgspec.json.encode(Labels(model="efficientnet-lite0", version="1", labels=labels)))  # fmt: skip
    vector = vectors.gamma(0.5, 1.0, EMBEDDING_SIZE).astype(np.float32)
    _write(
        _stored(root, media_id, embedding_kind(MODEL.model_tag)),
        encode_embedding(vector / np.linalg.norm(vector)),
    )


def generate(
    root: Path, count: int, seed: int = 7, first: int = 0, with_model: bool = True
) -> list[Indexed]:
    """A storage of ``count`` media and the index records that point at them
    (``first``: the number of the first file, for a part of a larger storage; ``with_model``:
    with the model's labels and embeddings, most of the bytes)."""
    rng = random.Random(seed)
    vectors = np.random.default_rng(seed)
    records: list[Indexed] = []
    made: set[str] = set()
    for number in range(first, first + count):
        media_id = f"{rng.getrandbits(256):064x}"
        video = rng.random() < 0.1
        width, height = rng.choice(SIZES)
        make, model = rng.choice(CAMERAS)
        year = rng.randint(2005, 2024)
        date = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00"
        place = rng.choice(PLACES) if rng.random() < 0.33 else None
        meta = MediaMeta(
            type="video" if video else "image", mime="video/mp4" if video else "image/jpeg",
            width=width, height=height, date=date, date_source="exif", make=make, model=model,
            iso=rng.choice([100, 200, 400, 800, 3200]), aperture=rng.choice([1.8, 2.8, 4.0, 8.0]),
            exposure_time=1 / rng.choice([60, 125, 250, 1000]), focal_length=rng.choice([24.0, 50.0, 85.0]),
            latitude=place[3] + rng.random() if place else None,
            longitude=place[4] + rng.random() if place else None,
            keywords=rng.sample(WORDS, rng.randint(0, 4)),
            duration=rng.uniform(3, 300) if video else None,
        )  # fmt: skip
        folder = split_id(media_id)[0]
        if folder not in made:
            (root / folder).mkdir(parents=True, exist_ok=True)
            made.add(folder)
        _write(_stored(root, media_id, META_KIND), msgspec.json.encode(meta))
        if place:
            _write(_stored(root, media_id, PLACE_KIND), msgspec.json.encode(
                Place(source="offline", country=place[0], state=place[1], city=place[2])))  # fmt: skip
        for size in (320, 128):
            _write(_stored(root, media_id, preview_kind(size)), b"")
        if video:
            _write(_stored(root, media_id, video_kind(720)), b"")
        elif with_model:
            _model_results(root, media_id, rng, vectors)
        extension = "mp4" if video else "jpg"
        path = f"{year}/{date[5:7]}/IMG_{number:06d}.{extension}"
        records.append(Indexed(path, rng.randint(10**5, 10**7), 1_700_000_000 * 10**9 + number,
                               media_id, "video" if video else "image"))  # fmt: skip
    return records


CACHE_ROOT = Path(tempfile.gettempdir()) / "homegallery-bench"


def cached_generate(count: int, seed: int = 7, model: bool = True) -> tuple[Path, list[Indexed]]:
    """The storage of :func:`generate` kept under the temporary folder between runs: a
    million media take minutes and gigabytes to write. Whoever changes its files for a
    measurement puts them back."""
    folder = CACHE_ROOT / (f"catalog-{count}-{seed}" + ("" if model else "-no-model"))
    storage, listing = folder / "storage", folder / "records.msgpack"
    if listing.exists():
        return storage, msgspec.msgpack.decode(listing.read_bytes(), type=list[Indexed])
    shutil.rmtree(folder, ignore_errors=True)
    records = generate_in_parts(storage, count, seed, model)
    part = listing.with_suffix(".part")
    part.write_bytes(msgspec.msgpack.encode(records))
    part.replace(listing)
    return storage, records


PART = 100_000


def _generate_part(root: Path, count: int, seed: int, first: int, model: bool) -> list[Indexed]:
    return generate(root, count, seed + first // PART, first, with_model=model)


def generate_in_parts(root: Path, count: int, seed: int = 7, model: bool = True) -> list[Indexed]:
    """:func:`generate` in parts of 100,000 on two processes: the first part is the
    100k storage itself, so figures at 100k and 1M compare like with like."""
    from concurrent.futures import ProcessPoolExecutor  # lazy: only for large storages

    if count <= PART:
        return generate(root, count, seed, with_model=model)
    starts = range(0, count, PART)
    with ProcessPoolExecutor(2) as pool:
        parts = pool.map(
            _generate_part, [root] * len(starts), [min(PART, count - s) for s in starts],
            [seed] * len(starts), starts, [model] * len(starts),
        )  # fmt: skip
        return [record for part in parts for record in part]


def read_plainly(root: Path, records: Sequence[Indexed]) -> None:
    """The baseline reader: the extract stage's per-file functions, one id at a time."""
    storage = StorageFolder(root)
    for record in records:
        storage.kinds(record.id)
        read_meta(storage, record.id)
        read_place(storage, record.id)


def every_key_queries() -> list[str]:
    """Queries that read every column a query can: each key of the query table with
    ``:``, ``=``, ``~`` (where it applies), ``exists``, and as an order; free text."""
    queries = ["qq", "order by date asc"]
    for key, field in FIELDS.items():
        value = _SAMPLE_VALUES.get(field.kind)
        if value is None:  # similar: needs vectors, which this catalog has none of
            continue
        queries += [f"exists {key}", f"{key}:{value}", f"{key} = {value}", f"{key} ~ {value}"]
        if field.count:
            queries.append(f"order by count({key}) desc")
        if field.orderable:
            queries.append(f"order by {key} desc")
    return queries


def snapshot_mebibytes(catalog: Path) -> tuple[float, float, float]:
    """MiB one reader's column snapshot holds: as loaded, after QUERIES, after every key."""
    searcher = Searcher(open_reader(catalog))
    tracemalloc.start()
    try:
        searcher.count("")
        loaded = tracemalloc.get_traced_memory()[0]
        for query in QUERIES:
            searcher.count(query)
        mixed = tracemalloc.get_traced_memory()[0]
        for query in every_key_queries():
            try:
                searcher.count(query)
            except QueryError:  # `~` where a key does not take it
                continue
        everything = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        searcher.connection.close()
    return loaded / 2**20, mixed / 2**20, everything / 2**20


def _seconds(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def run(quick: bool, entries: int | None = None) -> Report:
    count = entries or (2000 if quick else 100_000)
    repeats = 3 if quick else 15
    report = Report(f"catalog: build and search, {count:,} entries")
    work = Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    try:
        storage_dir, catalog = work / "storage", work / "catalog.db"
        print(f"generating {count:,} media in the storage …", file=sys.stderr)
        records = generate(storage_dir, count)
        sources = [SourceFiles("/photos", records)]

        plain = _seconds(lambda: read_plainly(storage_dir, records))
        full = _seconds(lambda: build_catalog(catalog, storage_dir, sources, full=True))
        report.add(Figure("build", "full build", full, "s", "read storage per file", plain,
                          higher_is_better=False, target="< 10 s at 100k", at=count,
                          note="baseline: reading what extract stored for each file, without building"))  # fmt: skip
        report.add(Figure("build", "full build per entry", full / count * 1e6, "µs",
                          higher_is_better=False))  # fmt: skip
        first = _seconds(
            lambda: build_catalog(catalog, storage_dir, sources, full=True, outputs=MODEL)
        )
        report.add(Figure("build", "full build, every vector new (near-duplicates: new x all)",
                          first, "s", "without model results", full, higher_is_better=False))  # fmt: skip
        with_model = _seconds(
            lambda: build_catalog(catalog, storage_dir, sources, full=True, outputs=MODEL)
        )
        report.add(Figure("build", "full build with labels, vectors kept", with_model, "s",
                          "without model results", full, higher_is_better=False))  # fmt: skip
        unchanged = _seconds(lambda: build_catalog(catalog, storage_dir, sources, outputs=MODEL))
        report.add(Figure("build", "incremental, nothing changed", unchanged, "s", "full build",
                          full, higher_is_better=False))  # fmt: skip
        for record in records[::100]:
            _write(
                os.fspath(StorageFolder(storage_dir).path(record.id, "image-preview-800.jpg")), b""
            )
        some = _seconds(lambda: build_catalog(catalog, storage_dir, sources, outputs=MODEL))
        report.add(Figure("build", "incremental, 1% changed", some, "s", "full build", full,
                          higher_is_better=False))  # fmt: skip

        config = Config(storage=Storage(dir=str(storage_dir)), database=Database(file=str(catalog)))
        gallery = Gallery(config)
        cold = _seconds(lambda: [gallery.search(query, limit=100) for query in QUERIES])
        report.add(Figure("search", "first pass over the mix after a build", cold * 1000, "ms",
                          higher_is_better=False, note="includes reading the columns the "
                          "queries need into memory, once per build"))  # fmt: skip
        for query in QUERIES:  # warm the page cache and the compiled-query cache
            gallery.search(query, limit=100)
        pages: list[float] = []
        counts: list[float] = []
        for _ in range(repeats):
            for query in QUERIES:
                pages.append(_seconds(lambda q=query: gallery.search(q, limit=100)) * 1000)  # type: ignore[misc]
                counts.append(_seconds(lambda q=query: gallery.count(q)) * 1000)  # type: ignore[misc]
        everything = list(gallery)
        python: list[float] = []
        ours: list[float] = []
        for _ in range(repeats):
            for query, predicate in PYTHON_FILTERS.items():
                python.append(_seconds(lambda p=predicate: [e for e in everything if p(e)]) * 1000)  # type: ignore[misc]
                ours.append(_seconds(lambda q=query: gallery.search_ids(q)) * 1000)  # type: ignore[misc]
        report.add(Figure("search", "page of 100, p50", percentile(pages, 0.5), "ms",
                          higher_is_better=False))  # fmt: skip
        report.add(Figure("search", "page of 100, p95", percentile(pages, 0.95), "ms",
                          higher_is_better=False, target="< 50 ms at 100k", at=count))  # fmt: skip
        report.add(Figure("search", "count, p95", percentile(counts, 0.95), "ms",
                          higher_is_better=False))  # fmt: skip
        report.add(Figure("search", "all matching ids, p50", percentile(ours, 0.5), "ms",
                          "Python filter of decoded entries", percentile(python, 0.5),
                          higher_is_better=False))  # fmt: skip
        slowest = max(QUERIES, key=lambda q: _seconds(lambda: gallery.search(q, limit=100)))
        print(f"slowest query: {slowest!r}", file=sys.stderr)
        gallery.close()
        everything.clear()  # the decoded entries of the baseline: not part of the snapshot
        as_loaded, after_mix, every_key = snapshot_mebibytes(catalog)
        for what, mebibytes in (("as loaded (ids, dates)", as_loaded),
                                ("after the query mix", after_mix),
                                ("after every key once", every_key)):  # fmt: skip
            report.add(Figure("search", f"column snapshot, {what}", mebibytes, "MiB",
                              higher_is_better=False))  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)
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
