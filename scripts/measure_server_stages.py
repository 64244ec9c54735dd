"""Where a search answer's time goes, stage by stage, in one process (CPU time, median).

    PYTHONPATH=python .venv/bin/python scripts/measure_server_stages.py CATALOG_DIR [QUERY ...]

CATALOG_DIR holds ``catalog.db`` and ``storage/`` (``homegallery bench server`` makes
one in a temporary folder; ``scripts`` callers pass their own). For a small page (20),
a page of 100, a large page (1,000) and a count it times each stage the server runs:
checking the query, evaluating it over the column snapshot, reading and decoding the
docs, the ``updated`` times and problems, making and encoding the API entries,
joining stored entries into the page, gzip and the ETag. The HTTP side (routing,
middleware, the viewer, the socket) is what ``homegallery bench server`` reports as
"what any request costs".
"""

from __future__ import annotations

import gzip
import hashlib
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from homegallery.catalog.doc import decode_doc
from homegallery.catalog.query.check import check_query
from homegallery.catalog.query.parser import JOINED_DEPTH
from homegallery.catalog.rows import updated_times
from homegallery.config import Config, Database, Storage
from homegallery.gallery import Gallery
from homegallery.server.entry_json import encoded_entry, join_entries
from homegallery.server.problems import entry_problem
from homegallery.server.schemas import JoinedEntryPage
from homegallery.storage import Storage as StorageFolder

QUERIES = ["", "year:2021", "tag:sea", "sea", "city:berlin"]
REPEATS = 15


def cpu_ms(work: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.thread_time()
        work()
        times.append((time.thread_time() - start) * 1000)
    return statistics.median(times)


def stages(gallery: Gallery, query: str, limit: int) -> dict[str, float]:
    storage = StorageFolder(gallery.storage_path)
    match = gallery.match(query)
    ids = match.page(limit, 0)
    docs = [
        row[1]
        for row in gallery.reader().execute(
            "SELECT e.id, d.doc FROM entries e JOIN entry_docs d ON d.entry = e.rowid "
            f"WHERE e.id IN ({', '.join('?' * len(ids))})",
            ids,
        )
    ]
    entries = [decode_doc(doc) for doc in docs]
    times = updated_times(gallery.reader(), ids)
    encoded = [encoded_entry(entry, frozenset(), "", times.get(entry.id, "")) for entry in entries]
    body = msgspec.json.encode(
        JoinedEntryPage(
            query=query,
            total=match.count,
            offset=0,
            entries=msgspec.Raw(join_entries(encoded, True)),
        )
    )
    return {
        "check the query": cpu_ms(lambda: check_query(query, max_depth=JOINED_DEPTH)),
        "evaluate (count)": cpu_ms(lambda: gallery.match(query)),
        "page of ids": cpu_ms(lambda: match.page(limit, 0)),
        "read docs (SQL)": cpu_ms(lambda: gallery.entries(ids))
        - cpu_ms(lambda: [decode_doc(doc) for doc in docs]),
        "decode docs": cpu_ms(lambda: [decode_doc(doc) for doc in docs]),
        "updated times": cpu_ms(lambda: updated_times(gallery.reader(), ids)),
        "problems": cpu_ms(lambda: [entry_problem(storage, entry, ()) for entry in entries]),
        "API entries, encoded": cpu_ms(
            lambda: [encoded_entry(entry, frozenset(), "", "") for entry in entries]
        ),
        "join stored entries": cpu_ms(
            lambda: msgspec.json.encode(
                JoinedEntryPage(
                    query=query,
                    total=match.count,
                    offset=0,
                    entries=msgspec.Raw(join_entries(encoded, True)),
                )
            )
        ),
        "gzip (level 1)": cpu_ms(lambda: gzip.compress(body, 1, mtime=0)),
        "ETag (blake2b)": cpu_ms(lambda: hashlib.blake2b(body, digest_size=12).hexdigest()),
        "entries": float(len(ids)),
        "KiB": len(body) / 1024,
    }


def main(argv: list[str]) -> int:
    folder = Path(argv[0])
    queries = argv[1:] or QUERIES
    config = Config(
        storage=Storage(dir=str(folder / "storage")),
        database=Database(file=str(folder / "catalog.db")),
    )
    gallery = Gallery(config)
    size = gallery.count("")
    for limit in (20, 100, 1000):
        rows = [stages(gallery, query, limit) for query in queries]
        print(f"\n{size:,} entries, page of {limit}, median over {', '.join(map(repr, queries))}")
        for name in rows[0]:
            value = statistics.median(row[name] for row in rows)
            print(f"  {name:24} {value:8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
