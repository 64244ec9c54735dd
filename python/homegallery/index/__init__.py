"""The file index: what files each source holds, with their media ids.

``update_index`` walks the sources (Rust, in parallel, with exclude rules), hashes new
and changed files with blake3 and saves one index file per source with a journal of
the changes; ``load_index`` and ``read_journals`` are how later stages read them.
"""

from homegallery.index.add_limits import AddLimits
from homegallery.index.journal import Journal, last_sequence, read_journals
from homegallery.index.kinds import kind_of
from homegallery.index.records import IndexEntry, IndexFileError, load_index, save_index
from homegallery.index.run import IndexRunResult, update_index
from homegallery.index.update import SourceResult, update_source

__all__ = [
    "AddLimits",
    "IndexEntry",
    "IndexFileError",
    "IndexRunResult",
    "Journal",
    "SourceResult",
    "kind_of",
    "last_sequence",
    "load_index",
    "read_journals",
    "save_index",
    "update_index",
    "update_source",
]
