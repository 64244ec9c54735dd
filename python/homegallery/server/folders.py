"""The source folders as a tree, one level at a time, counted among what a viewer sees.

Once per build, one scan of the catalog's file rows gives every folder (its
parent, depth and casefolded name) and every file's entry and folder. A level is then
a few array operations: the files below the asked folder, among the entries the
viewer's scoped query matches, grouped by the child folder they lie in: each child's
count of distinct entries, its cover (the entry first in the query's order, so the
newest) and whether it has folders itself. Grouping in SQL instead took about a
second per level at 100k entries (ten at a million); here the index takes about a
second to make at 100k, once per build, a viewer's order a quarter of a second once
per catalog version, and a level 10 to 200 ms. Paths in the catalog are
casefolded; a folder's name as written on disk comes from its cover's files.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from homegallery.catalog.entry import Entry
from homegallery.catalog.search import snapshot
from homegallery.gallery import Gallery

IntArray = npt.NDArray[np.int64]
K = TypeVar("K")
V = TypeVar("V")


class Kept(Generic[K, V]):
    """The last few values made, by key (thread-safe; made outside the lock)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._kept: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        value = make()
        with self._lock:
            self._kept[key] = value
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        return value


@dataclass(frozen=True)
class FolderRow:
    key: str  # casefolded name of the child folder
    count: int  # entries in it and below
    cover: str  # media id of its first entry in the query's order
    has_folders: bool  # it has folders below it


class FolderIndex:
    """Every folder and every (non-sidecar) file of one catalog version."""

    def __init__(self, files: list[tuple[str, str, str]]) -> None:
        """``files``: (entry id, source, casefolded path) of each file."""
        self.folder_of: dict[tuple[str, ...], int] = {}
        self.parent: list[int] = []
        self.depth: list[int] = []
        self.name: list[str] = []
        entry_of: dict[str, int] = {}
        file_entry: list[int] = []
        file_folder: list[int] = []
        for media_id, source, path in files:
            source_name = source.rstrip("/").rsplit("/", 1)[-1].casefold()
            parts = (source_name, *path.split("/")[:-1])
            file_folder.append(self._folder(parts))
            file_entry.append(entry_of.setdefault(media_id, len(entry_of)))
        self.entry_of = entry_of
        self.ids = np.array(list(entry_of), dtype=object)
        self.file_entry = np.array(file_entry, np.int64)
        self.file_folder = np.array(file_folder, np.int64)
        self.folder_depth = np.array(self.depth, np.int64)
        self._ancestors: dict[int, IntArray] = {}
        self._lock = threading.Lock()

    def _folder(self, parts: tuple[str, ...]) -> int:
        found = self.folder_of.get(parts)
        if found is not None:
            return found
        parent = self._folder(parts[:-1]) if len(parts) > 1 else -1
        number = len(self.parent)
        self.folder_of[parts] = number
        self.parent.append(parent)
        self.depth.append(len(parts) - 1)
        self.name.append(parts[-1])
        return number

    def ancestors(self, depth: int) -> IntArray:
        """Each folder's ancestor at ``depth`` (itself at its own depth; -1 above it)."""
        with self._lock:
            found = self._ancestors.get(depth)
            if found is None:
                found = np.full(len(self.parent), -1, np.int64)
                for folder, (parent, own) in enumerate(zip(self.parent, self.depth, strict=True)):
                    if own == depth:
                        found[folder] = folder
                    elif own > depth:
                        found[folder] = found[parent]  # parents come before their folders
                self._ancestors[depth] = found
            return found

    def ranks(self, order: list[str]) -> IntArray:
        """Each entry's place in ``order`` (``len(order)`` for entries not in it)."""
        rank = np.full(len(self.ids), len(order), np.int64)
        known = np.fromiter((self.entry_of.get(i, -1) for i in order), np.int64, len(order))
        present = known >= 0
        rank[known[present]] = np.flatnonzero(present)
        return rank

    def level(self, parts: tuple[str, ...], order: list[str], rank: IntArray) -> list[FolderRow]:
        """The child folders of ``parts`` (() for the sources) among the entries of
        ``order`` (ids in the viewer's query's order; ``rank`` from :meth:`ranks`)."""
        visible_file = rank[self.file_entry] < len(order)
        child_depth = len(parts)
        if parts:
            folder = self.folder_of.get(parts)
            if folder is None:
                return []
            visible_file &= self.ancestors(child_depth - 1)[self.file_folder] == folder
        child = self.ancestors(child_depth)[self.file_folder]
        chosen = visible_file & (child >= 0)
        if not chosen.any():
            return []
        children = child[chosen]
        size = len(self.ids)
        pairs = np.unique(children * size + self.file_entry[chosen])  # sorted by child
        pair_child = pairs // size
        starts = np.flatnonzero(np.concatenate(([True], pair_child[1:] != pair_child[:-1])))
        counts = np.diff(np.append(starts, len(pairs)))
        best = np.minimum.reduceat(rank[pairs % size], starts)
        deep = self.folder_depth[self.file_folder[chosen]] > child_depth
        with_folders = set(np.unique(children[deep]).tolist())
        rows = [
            FolderRow(self.name[number], int(count), order[int(first)], number in with_folders)
            for number, count, first in zip(
                pair_child[starts].tolist(), counts.tolist(), best.tolist(), strict=True
            )
        ]
        return sorted(rows, key=lambda row: row.key)


def read_index(connection: sqlite3.Connection) -> FolderIndex:
    with snapshot(connection):
        files = connection.execute(
            "SELECT e.id, f.source, f.path FROM entry_files f JOIN entries e "
            "ON e.rowid = f.entry WHERE f.kind != 'sidecar'"
        ).fetchall()
    return FolderIndex(files)


def display_name(entry: Entry | None, row: FolderRow, parts: tuple[str, ...]) -> str:
    """The folder's name as written on disk, from its cover's files."""
    inside = "".join(f"{part}/" for part in (*parts[1:], row.key))
    for file in entry.files if entry is not None else []:
        if file.path.casefold().startswith(inside):
            return PurePosixPath(file.path).parts[len(parts) - 1]
    return row.key


def rebuilds(connection: sqlite3.Connection) -> int:
    """How many builds changed the catalog's entries (tag changes do not count: files
    stay where they are)."""
    row = connection.execute("SELECT value FROM catalog_info WHERE key = 'rebuilds'").fetchone()
    return int(row[0]) if row else 0


class FolderIndexes:
    """The index of the catalog as its last build left it (per catalog)."""

    def __init__(self) -> None:
        self._kept: Kept[tuple[str, int], FolderIndex] = Kept(2)

    def get(self, gallery: Gallery, connection: sqlite3.Connection) -> FolderIndex:
        key = (str(gallery.catalog_path), rebuilds(connection))
        return self._kept.get(key, lambda: read_index(connection))
