"""The catalog: one SQLite file with an entry per media, built from index and storage.

- :mod:`.build` merges indexes and storage into the catalog (incremental, one
  transaction per build);
- :mod:`.events` keeps user changes as an append-only log that survives builds;
- :mod:`.query` parses and checks the query language and runs it over the
  :mod:`.columns` snapshot; :mod:`.search` answers queries with entries;
- :mod:`.vectors` answers ``similar:`` and ``duplicates`` from the similarity codes,
  which :mod:`.vector_build` makes from the stored embeddings.
"""

from homegallery.catalog.build import BuildSummary, build_catalog, build_from_config
from homegallery.catalog.entry import DetectedObject, Entry, EntryFile, Face, Label
from homegallery.catalog.events import Event, EventError
from homegallery.catalog.grouping import SourceFiles
from homegallery.catalog.query import QueryError
from homegallery.catalog.schema import CatalogError

__all__ = [
    "BuildSummary",
    "CatalogError",
    "DetectedObject",
    "Entry",
    "EntryFile",
    "Event",
    "EventError",
    "Face",
    "Label",
    "QueryError",
    "SourceFiles",
    "build_catalog",
    "build_from_config",
]
