"""From HomeGallery's ids (sha1 of a file) to ours (the entry its file belongs to).

Both galleries name media by their content, with different hashes, so the files are
the bridge: a file whose sha1 is a HomeGallery id belongs to the entry our index and
grouping make of it. HomeGallery's own file index says which files to try first; each
is hashed anyway (an index may be older than the file), and the rest of the media
files are hashed only while some ids are still unfound.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from homegallery.catalog.grouping import MEDIA_KINDS, SourceFiles, group_files
from homegallery.index import IndexEntry
from homegallery.progress import Progress

_CHUNK = 1 << 20


def read_homegallery_index(path: Path) -> dict[str, str]:
    """filename → sha1 of a HomeGallery file index; {} when it is missing or unreadable."""
    try:
        with gzip.open(path, "rb") as handle:
            data = json.load(handle)
    except (OSError, ValueError, EOFError):
        return {}
    if not isinstance(data, dict) or not str(data.get("type", "")).startswith(
        "home-gallery/fileindex@"
    ):
        return {}
    found: dict[str, str] = {}
    for record in data.get("data") or []:
        if isinstance(record, dict):
            name, sha1 = record.get("filename"), record.get("sha1sum")
            if isinstance(name, str) and isinstance(sha1, str):
                found[name.replace("\\", "/")] = sha1.lower()
    return found


def sha1_of(path: Path) -> str | None:
    digest = hashlib.sha1(usedforsecurity=False)
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


@dataclass
class SourceListing:
    folder: Path
    files: list[IndexEntry]  # our index of the folder
    hints: dict[str, str]  # HomeGallery's index: filename → sha1


def _candidates(
    listings: list[SourceListing], wanted: set[str]
) -> Iterator[tuple[SourceListing, IndexEntry]]:
    """Hinted files first, then every other media file."""
    hinted: set[tuple[int, str]] = set()
    for number, listing in enumerate(listings):
        for entry in listing.files:
            if listing.hints.get(entry.path) in wanted:
                hinted.add((number, entry.path))
                yield listing, entry
    for number, listing in enumerate(listings):
        for entry in listing.files:
            if entry.kind in MEDIA_KINDS and (number, entry.path) not in hinted:
                yield listing, entry


def entry_ids_of(
    listings: list[SourceListing], wanted: set[str], progress: Progress | None = None
) -> dict[str, str]:
    """sha1 → our entry id for every wanted sha1 a file in the sources has."""
    found: dict[str, str] = {}  # sha1 → our file id
    if wanted:
        pending = iter(_candidates(listings, wanted))
        with ThreadPoolExecutor(2) as pool:
            while len(found) < len(wanted):
                batch = [item for _, item in zip(range(64), pending, strict=False)]
                if not batch:
                    break
                paths = [listing.folder / entry.path for listing, entry in batch]
                for (_, entry), sha1 in zip(batch, pool.map(sha1_of, paths), strict=True):
                    if progress is not None:
                        progress.advance(nbytes=entry.size)
                    if sha1 in wanted:
                        found.setdefault(sha1, entry.id)
    main_of: dict[str, str] = {}
    groups = group_files(SourceFiles(str(item.folder), item.files) for item in listings)
    for group in groups:
        for file in group.files:
            main_of.setdefault(file.id, group.id)
        for twin in group.twin_ids:
            main_of.setdefault(twin, group.id)
    return {sha1: main_of.get(file_id, file_id) for sha1, file_id in found.items()}
