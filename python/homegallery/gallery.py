"""The Python scripting API: open a gallery, search it, read and tag entries.

Works without a server, from a script or a notebook::

    from homegallery import open_gallery

    gallery = open_gallery("~/.config/homegallery/gallery.yml")
    for entry in gallery.search("year:2021 country:italy order by date asc", limit=10):
        print(entry.date, entry.city, entry.files[0].path)
    gallery.tag([entry.id], add=["holiday"], user="me")

Searches read the catalog the last build made; a build running meanwhile becomes
visible when it finishes. A :class:`Gallery` may be used from several threads: each
thread gets its own catalog connection.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from homegallery import xdg
from homegallery.catalog import people as people_module
from homegallery.catalog import people_changes
from homegallery.catalog.build import BuildSummary, build_from_config, faces_from_config
from homegallery.catalog.clip_search import TextEncoder
from homegallery.catalog.columns import FloatArray, SharedColumns
from homegallery.catalog.entry import Entry
from homegallery.catalog.events import (
    Event,
    PeopleChange,
    export_events,
    import_events,
    new_event,
    read_events,
    record_events,
)
from homegallery.catalog.generation import generation as catalog_generation
from homegallery.catalog.query.fields import DEFAULT_DUPLICATE_SCORE, DUPLICATE_FLOOR
from homegallery.catalog.schema import CatalogError, open_reader, open_writer
from homegallery.catalog.search import DEFAULT_MIN_SCORE, Match, Searcher, snapshot
from homegallery.catalog.vectors import NoSimilarityError
from homegallery.config import Config, Database, Source, Storage, load_config

CONFIG_NAMES = ("gallery.yml", "gallery.yaml")


class Gallery:
    """One gallery: its config, its catalog (SQLite) and its storage."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.catalog_path = config.database.path
        self.storage_path = config.storage.path
        self._local = threading.local()
        self._columns = SharedColumns()  # one column snapshot for every thread's searcher
        self._write_lock = threading.Lock()
        clip = config.extractor.models.clip
        # the CLIP text model, loaded at the first text: query and shared by the threads
        self.text_encoder = TextEncoder(clip) if clip.enabled else None

    def __repr__(self) -> str:
        return f"Gallery({str(self.catalog_path)!r})"

    # --- connections ---------------------------------------------------------------------

    def _searcher(self) -> Searcher:
        searcher: Searcher | None = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = Searcher(
                open_reader(self.catalog_path),
                text_encoder=self.text_encoder,
                shared=self._columns,
            )
            self._local.searcher = searcher
        return searcher

    def close(self) -> None:
        """Closes this thread's connection (others close when their thread ends)."""
        searcher: Searcher | None = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.connection.close()
            self._local.searcher = None

    def __enter__(self) -> Gallery:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reading -------------------------------------------------------------------------

    def search(self, query: str = "", limit: int | None = None, offset: int = 0) -> list[Entry]:
        """Entries matching ``query`` (the query language), newest first unless ordered.

        Raises :class:`~homegallery.catalog.QueryError` (with ``column`` and
        ``expected``) for a query it cannot understand.
        """
        return self._searcher().entries(query, _limit(limit), _offset(offset))

    def search_ids(self, query: str = "", limit: int | None = None, offset: int = 0) -> list[str]:
        """Ids of the matching entries, in order; cheaper than :meth:`search`."""
        return self._searcher().ids(query, _limit(limit), _offset(offset))

    def match(self, query: str = "") -> Match:
        """Every match of ``query``, in order: its ``count`` and any ``page`` of it
        without evaluating the query again (it keeps the column snapshot it came from)."""
        return self._searcher().match(query)

    def entries(self, ids: Sequence[str]) -> list[Entry]:
        """The entries of ``ids`` that exist, in that order, from one catalog state."""
        return self._searcher().entries_of(ids)

    def count(self, query: str = "") -> int:
        return self._searcher().count(query)

    def warm(self, stop: Callable[[], bool] = lambda: False) -> int:
        """Reads the columns most searches need now instead of at the first search that
        needs each (see ``Searcher.warm``); the server does this after it starts and
        after each build. Returns how many columns it went through."""
        return self._searcher().warm(stop)

    def generation(self) -> int:
        """The catalog's change counter now: anything derived from the catalog and
        filed under this number stays right until it moves (every build, every tag)."""
        return catalog_generation(self._searcher().connection)

    def numbers(
        self, query: str, names: Sequence[str]
    ) -> tuple[npt.NDArray[np.object_], list[FloatArray]]:
        """Ids and numeric columns (``width``, ``year``, ``latitude``, … as float64
        arrays, NaN where unknown) of every match in order: whole-result summaries
        without decoding a single entry."""
        return self._searcher().numbers(query, names)

    def tag_counts(self, query: str, limit: int, prefix: str = "") -> list[tuple[str, int]]:
        """The ``limit`` most used tags among the matches (those starting with ``prefix``
        when given), with how many use each (casefolded, as the catalog compares them)."""
        return self._searcher().tag_counts(query, limit, prefix)

    def reader(self) -> sqlite3.Connection:
        """This thread's read-only connection to the catalog, for summaries of its own."""
        return self._searcher().connection

    def entry(self, media_id: str) -> Entry | None:
        """The entry with this id, or None."""
        return self._searcher().entry(media_id)

    def __iter__(self) -> Iterator[Entry]:
        """Every entry, newest first, from one consistent catalog state."""
        searcher = Searcher(open_reader(self.catalog_path))
        try:
            yield from searcher.all_entries()
        finally:
            searcher.connection.close()

    def __len__(self) -> int:
        return self.count("")

    def similar(
        self, media_id: str, k: int = 20, min_score: float = DEFAULT_MIN_SCORE
    ) -> list[tuple[Entry, float]]:
        """The ``k`` entries most like ``media_id`` (itself left out), with cosine scores.

        Raises :class:`CatalogError` when the catalog has no similarity vectors.
        """
        searcher = self._searcher()
        try:
            full_id = searcher.resolve_id(media_id)
            found = searcher.vectors.similar(searcher.connection, full_id, k + 1, min_score)
        except NoSimilarityError as error:
            raise CatalogError(str(error)) from None
        except LookupError as error:
            raise CatalogError(str(error.args[0])) from None
        pairs = [(found_id, score) for found_id, score in found if found_id != full_id][:k]
        entries = {entry.id: entry for entry in searcher._docs([i for i, _ in pairs])}
        return [(entries[i], score) for i, score in pairs if i in entries]

    def duplicates(self, min_score: float = DEFAULT_DUPLICATE_SCORE) -> list[list[Entry]]:
        """Groups of near-duplicate entries (embedding cosine ≥ ``min_score``, from 0.85).

        Each group in timeline order, the groups by their newest entry; the query word
        ``duplicates`` (``duplicates:0.95``) finds the same entries in the same order.
        """
        if not DUPLICATE_FLOOR <= min_score <= 1.0:
            raise ValueError(f"min_score must be from {DUPLICATE_FLOOR} to 1, not {min_score}")
        searcher = self._searcher()
        with snapshot(searcher.connection):
            groups = searcher.duplicate_groups(min_score)
            ordered = searcher.in_groups([m for group in groups for m in group], min_score)
            entries = {entry.id: entry for entry in searcher._docs(ordered)}
        group_of = {media_id: number for number, group in enumerate(groups) for media_id in group}
        result: list[list[Entry]] = []
        last = -1
        for media_id in ordered:
            if media_id not in entries:
                continue
            if group_of[media_id] != last:
                result.append([])
                last = group_of[media_id]
            result[-1].append(entries[media_id])
        return result

    # --- changing ------------------------------------------------------------------------

    def _record(self, event: Event) -> int:
        with self._write_lock:
            connection = open_writer(self.catalog_path)
            try:
                return record_events(connection, [event])
            finally:
                connection.close()

    def record(self, event: Event) -> int:
        """Records a checked event (see :func:`~homegallery.catalog.events.make_event`);
        one whose uid is recorded already adds nothing. Returns the entries changed."""
        return self._record(event)

    def tag(
        self,
        ids: str | Iterable[str],
        add: str | Iterable[str] = (),
        remove: str | Iterable[str] = (),
        user: str = "script",
    ) -> int:
        """Adds and removes tags (one event); returns how many entries changed."""
        return self._record(
            new_event(_ids(ids), user=user, add_tags=_tags(add), remove_tags=_tags(remove))
        )

    def favorite(self, ids: str | Iterable[str], value: bool = True, user: str = "script") -> int:
        return self._record(new_event(_ids(ids), user=user, favorite=value))

    def rate(self, ids: str | Iterable[str], rating: int, user: str = "script") -> int:
        return self._record(new_event(_ids(ids), user=user, rating=rating))

    def events(self) -> list[Event]:
        """Every user change, oldest first."""
        return [event for _, event in read_events(self._searcher().connection)]

    def export_events(self, target: str | os.PathLike[str]) -> int:
        return export_events(self._searcher().connection, Path(target))

    def import_events(self, source: str | os.PathLike[str]) -> tuple[int, int]:
        """Records the events of an export; returns (added, already present)."""
        with self._write_lock:
            connection = open_writer(self.catalog_path)
            try:
                return import_events(connection, Path(source))
            finally:
                connection.close()

    # --- people ----------------------------------------------------------------------------

    def people(self, hidden: bool = False) -> list[people_module.Person]:
        """Every person: named ones by name, then the others by faces, most first."""
        return people_module.list_people(self._searcher().connection, hidden=hidden)

    def person(self, key_or_name: str) -> people_module.Person:
        """A person by key or by name (without case); PersonNotFoundError if none."""
        return people_module.find_person(self._searcher().connection, key_or_name)

    def person_entries(self, key_or_name: str, limit: int | None = None) -> list[Entry]:
        """The entries showing a person, newest first."""
        key = self.person(key_or_name).key
        return self.search(f'personid:"{key}"', limit=limit)

    def faces(self, media_id: str) -> list[people_module.FaceInfo]:
        """The faces of an entry with their people (boxes relative to the photo)."""
        return people_module.entry_faces(self._searcher().connection, media_id)

    def _people_change(
        self, make: Any, *arguments: object, user: str
    ) -> list[people_module.Person]:
        outputs = faces_from_config(self.config)
        if outputs is None:
            raise people_module.PersonNotFoundError("faces are turned off in the config")
        with self._write_lock:
            connection = open_writer(self.catalog_path)
            try:
                changes: list[PeopleChange] = make(connection, *arguments)
                people_changes.record_changes(connection, changes, user)
            finally:
                connection.close()
        return self.people(hidden=True)

    def name_person(self, person: str, name: str, user: str = "script") -> None:
        """Names (or renames; "" unnames) a person given by key or current name."""
        self._people_change(people_changes.name_changes, person, name, user=user)

    def merge_people(self, source: str, target: str, user: str = "script") -> None:
        """Every face of ``source`` becomes ``target``'s, in every later build too."""
        self._people_change(people_changes.merge_changes, source, target, user=user)

    def move_face(self, face: str, person: str, user: str = "script") -> None:
        """One face (``<media id>:<index>``) into another person."""
        self._people_change(people_changes.move_changes, face, person, user=user)

    def remove_face(self, face: str, person: str, user: str = "script") -> None:
        """One face out of a person; it never joins that person again."""
        self._people_change(people_changes.remove_changes, face, person, user=user)

    def hide_person(self, person: str, hidden: bool = True, user: str = "script") -> None:
        self._people_change(people_changes.hide_changes, person, hidden, user=user)

    def build(self, full: bool = False) -> BuildSummary:
        """Builds the catalog from the sources' indexes and the storage."""
        with self._write_lock:
            return build_from_config(self.config, full=full)


def _ids(ids: str | Iterable[str]) -> list[str]:
    return [ids] if isinstance(ids, str) else list(ids)


def _tags(tags: str | Iterable[str]) -> list[str]:
    return [tags] if isinstance(tags, str) else list(tags)


def _limit(limit: Any) -> int | None:
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise ValueError(f"limit must be a whole number ≥ 0 or None, got {limit!r}")
    return limit


def _offset(offset: Any) -> int:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"offset must be a whole number ≥ 0, got {offset!r}")
    return offset


def _folder_config(folder: Path) -> Config:
    """A gallery of one photo folder, its catalog and storage kept in the data home."""
    resolved = folder.resolve()
    digest = hashlib.blake2b(str(resolved).encode(), digest_size=4).hexdigest()
    home = xdg.data_home() / "folders" / f"{resolved.name or 'root'}-{digest}"
    return Config(
        sources=[Source(dir=str(resolved), index=str(home / "index" / "source.idx"))],
        storage=Storage(dir=str(home / "storage")),
        database=Database(file=str(home / "catalog.db")),
    )


def open_gallery(config_or_folder: Config | str | os.PathLike[str]) -> Gallery:
    """Opens a gallery from a config, a config file, or a folder.

    A folder holding ``gallery.yml`` opens that config; any other folder is taken as
    the one source of a gallery whose catalog and storage live in the data home.
    """
    if isinstance(config_or_folder, Config):
        return Gallery(config_or_folder)
    path = Path(config_or_folder).expanduser()
    if path.is_file():
        return Gallery(load_config(path))
    if path.is_dir():
        for name in CONFIG_NAMES:
            if (path / name).is_file():
                return Gallery(load_config(path / name))
        return Gallery(_folder_config(path))
    raise CatalogError(f"{path}: no such config file or folder")
