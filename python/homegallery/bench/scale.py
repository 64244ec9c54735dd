"""Scale: the catalog and the server at 100k entries and at 1M, side by side.

``homegallery bench --scale 1m`` (never part of the default run: the first run writes
a million media into the temporary folder, ~7 GB and tens of minutes, which later runs
reuse). For each size, on the catalog benchmark's synthetic media:

- a full build into a fresh catalog (metadata, places, previews; no model outputs, whose
  near-duplicate search compares every new vector with all the others), an
  incremental build with nothing changed and with 1% of the media changed;
- the first pass over the query mix after the build (reads the columns it needs) and
  p95 of a page of 100 and of a count through the Python API;
- through ``homegallery serve``: p95 of a page and of a count answered for the first
  time, the timeline as a JSON list and packed, the map's places as a list of points and
  as clusters at zoom 2 (milliseconds and bytes on the wire, gzip), and the server's
  resident memory after all of them.

Each figure at the larger size is printed with the smaller one as its baseline, so the
ratio is the cost's growth per 10x.

    .venv/bin/python -m homegallery.bench.scale [--top 1m] [--json FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from homegallery.bench import catalog as bench_catalog
from homegallery.bench.catalog import QUERIES, cached_generate
from homegallery.bench.report import Figure, Report, percentile, print_report
from homegallery.bench.stages import SCALE_SIZES
from homegallery.catalog import SourceFiles, build_catalog
from homegallery.config import Config, Database, Storage
from homegallery.gallery import Gallery
from homegallery.storage import Storage as StorageFolder

SIZES = dict(zip(SCALE_SIZES, (2_000, 20_000, 100_000, 1_000_000), strict=True))
# figure → (unit, target at the largest size)
TARGETS = {
    "full build": ("s", "< 100 s"),
    "incremental, 1% changed": ("s", "< 10 s"),
    "page of 100, p95": ("ms", "< 50 ms"),
    "count, p95": ("ms", "< 50 ms"),
    "API page of 100, first request, p95": ("ms", "< 50 ms"),
    "API count, first request, p95": ("ms", "< 50 ms"),
    "server memory after search, timeline and map": ("MiB", "< 1024 MiB"),
}


def _seconds(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _resident_mebibytes(pid: int, kind: str = "RssAnon") -> float:
    """The process's resident memory of one kind (Linux ``/proc``), MiB: ``RssAnon``
    its own, ``RssFile`` the pages of files it maps (the catalog's readers map it:
    those are the page cache's, shared and given back under pressure)."""
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith(f"{kind}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def build_figures(count: int, catalog: Path) -> tuple[dict[str, float], Config]:
    storage_dir, records = cached_generate(count, model=False)
    sources = [SourceFiles("/photos", records)]
    found: dict[str, float] = {}
    catalog.unlink(missing_ok=True)
    found["full build"] = _seconds(lambda: build_catalog(catalog, storage_dir, sources, full=True))
    found["incremental, nothing changed"] = _seconds(
        lambda: build_catalog(catalog, storage_dir, sources)
    )
    storage = StorageFolder(storage_dir)
    changed = [storage.path(record.id, "image-preview-800.jpg") for record in records[::100]]
    try:
        for path in changed:
            path.write_bytes(b"")
        found["incremental, 1% changed"] = _seconds(
            lambda: build_catalog(catalog, storage_dir, sources)
        )
    finally:  # the cached storage stays as generated, for the next run
        for path in changed:
            path.unlink(missing_ok=True)
    config = Config(storage=Storage(dir=str(storage_dir)), database=Database(file=str(catalog)))
    return found, config


def search_figures(config: Config, repeats: int) -> dict[str, float]:
    gallery = Gallery(config)
    found = {"first pass over the mix after a build": _seconds(
        lambda: [gallery.search(query, limit=100) for query in QUERIES]) * 1000}  # fmt: skip
    pages = [_seconds(lambda q=q: gallery.search(q, limit=100)) * 1000  # type: ignore[misc]
             for _ in range(repeats) for q in QUERIES]  # fmt: skip
    counts = [_seconds(lambda q=q: gallery.count(q)) * 1000  # type: ignore[misc]
              for _ in range(repeats) for q in QUERIES]  # fmt: skip
    found["page of 100, p95"] = percentile(pages, 0.95)
    found["count, p95"] = percentile(counts, 0.95)
    gallery.close()
    return found


def server_figures(config: Config, work: Path, repeats: int) -> dict[str, float]:
    from homegallery.bench.server import (  # lazy: httpx, PIL and yaml only here
        KeepAliveClient,
        _first_pages,
        start_server,
    )

    process, url = start_server(work, config)
    found: dict[str, float] = {}
    try:
        client = KeepAliveClient(url)
        total = client.get("/api/count", {"q": ""}).json()["total"]
        pages = [_seconds(lambda p=params: client.get("/api/entries", p)) * 1000  # type: ignore[misc]
                 for params in _first_pages(total, repeats)]  # fmt: skip
        found["API page of 100, first request, p95"] = percentile(pages, 0.95)
        counts = [_seconds(lambda q=q: client.get("/api/count", {"q": q})) * 1000  # type: ignore[misc]
                  for q in QUERIES]  # fmt: skip
        found["API count, first request, p95"] = percentile(counts, 0.95)
        summaries: list[tuple[str, str, dict[str, object]]] = [
            ("timeline, JSON list", "/api/timeline", {"q": ""}),
            ("timeline, packed", "/api/timeline", {"q": "", "form": "packed"}),
            ("map, every point", "/api/places", {"q": ""}),
            ("map, clusters at zoom 2", "/api/places/clusters", {"q": "", "zoom": 2}),
        ]
        for name, path, params in summaries:
            started = time.perf_counter()
            answer = client.get(path, params)
            found[f"{name}, ms"] = (time.perf_counter() - started) * 1000
            found[f"{name}, KiB on the wire"] = len(answer.body) / 1024
        found["server memory after search, timeline and map"] = _resident_mebibytes(process.pid)
        found["catalog pages the server maps, resident"] = _resident_mebibytes(
            process.pid, "RssFile"
        )
        client.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr is not None:
            process.stderr.close()
    return found


def measure(count: int, work: Path, repeats: int = 5) -> dict[str, float]:
    catalog = work / f"catalog-{count}.db"
    found, config = build_figures(count, catalog)
    found.update(search_figures(config, repeats))
    found.update(server_figures(config, work, repeats))
    return found


def _unit(name: str) -> str:
    if name in TARGETS:
        return TARGETS[name][0]
    if name.endswith("KiB on the wire"):
        return "KiB"
    if name.endswith("resident"):
        return "MiB"
    return "s" if "build" in name and "pass" not in name else "ms"


def run(top: str = "1m", work: Path | None = None) -> Report:
    """Figures at ``top`` beside those at the size ten times smaller (1m: 100k)."""
    names = list(SIZES)
    sizes = names[max(0, names.index(top) - 1) : names.index(top) + 1]
    work = work or bench_catalog.CACHE_ROOT / "scale"
    work.mkdir(parents=True, exist_ok=True)
    report = Report(f"scale: {', '.join(sizes)} entries")
    previous: dict[str, float] = {}
    for size in sizes:
        print(f"scale: {size} …", file=sys.stderr)
        found = measure(SIZES[size], work)
        for name, value in found.items():
            unit = _unit(name)
            target = TARGETS.get(name, ("", ""))[1]
            report.add(Figure(
                f"scale {size}", name, value, unit,
                f"at {sizes[sizes.index(size) - 1]}" if previous else "",
                previous.get(name, 0.0), higher_is_better=False,
                target=f"{target} at {SIZES[size] // 1000}k" if target else "", at=SIZES[size],
            ))  # fmt: skip
        previous = found
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--top", choices=list(SIZES), default="1m", help="largest size")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    print_report(run(args.top), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
