"""Types of the Rust extension module `homegallery._core`."""

from collections.abc import Sequence
from typing import final

import numpy as np
import numpy.typing as npt

# scripts/check.sh runs mypy.stubtest on this file against the built module: every
# name, signature and default here must be the module's own.
__all__ = [
    "CASEFOLD_UNICODE_VERSION",
    "DOC_FIELDS",
    "ENTRY_COLUMNS",
    "MEDIA_KINDS",
    "SIGNATURE_FORMAT",
    "STORAGE_KINDS",
    "STORED_FIELDS",
    "BuildPlan",
    "TextColumn",
    "casefold",
    "core_version",
    "entry_doc_round_trip",
    "entry_rows",
    "group_people",
    "has_word",
    "hash_files",
    "match_excludes",
    "parse_integers",
    "parse_numbers",
    "quantize_codes",
    "quantize_int8",
    "scan_codes",
    "scan_float32",
    "scan_int8",
    "scan_kernel",
    "storage_in_record",
    "storage_name",
    "storage_record_decode",
    "storage_record_encode",
    "storage_relative",
    "storage_split",
    "walk_source",
    "write_part",
]

def core_version() -> str:
    """Version of the compiled core; equals the package version of a fresh build."""

def scan_kernel() -> str:
    """The 2-bit scan's kernel on this CPU: ``"avx2"`` or ``"portable"``."""

def walk_source(
    root: str,
    excludes: list[str],
    exclude_if_present: str | None = None,
    max_file_size: int | None = None,
    link_roots: list[str] = ...,
) -> tuple[
    list[tuple[str, int, int, int, int, int]],
    list[tuple[str, str]],
    int,
    int,
    int,
]:
    """Parallel walk of a source with gitignore-style excludes (GIL released).

    Returns (files, errors, excluded, too_large, marked_folders); each file is
    (relative path, size, mtime ns, ctime ns, inode, device), sorted by path; errors
    are (relative path, message). A symbolic link is listed when it leads to a file
    inside the source; links into ``link_roots`` (real folders: the other sources
    when the source follows links) are followed to files and folders, each target
    folder once; every other link is left out with an error. Raises OSError (with
    errno and filename: FileNotFoundError, PermissionError, NotADirectoryError, …)
    when the root cannot be read and ValueError for an invalid pattern.
    """

def match_excludes(excludes: list[str], paths: list[str], is_dir: bool) -> list[bool]:
    """Whether each relative path is excluded by the rules (for tests and benchmarks).

    Raises ValueError naming an invalid pattern."""

def hash_files(
    paths: list[str], threads: int = 0, roots: list[str] | None = None
) -> list[tuple[str | None, int, str | None]]:
    """blake3 of many files in parallel: (hex digest or None, bytes read, error or None).

    ``threads`` 0 uses every core. Files are read with plain reads, never mapped, so a
    file truncated while it is read is an error of that file, not a crash. With
    ``roots`` (real folders), a file is read only when the file opened lies inside
    one of them. Never raises for a single file's problem.
    """

_Found = list[tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]]

def quantize_codes(
    vectors: npt.NDArray[np.float32],
    stride: int,
    scale: float,
    levels: str,
    normalize: bool,
    threads: int = 0,
) -> npt.NDArray[np.uint8]:
    """Packed 2-bit codes of float32 rows (C-contiguous), GIL released.

    Raises ValueError naming the row and position of the first NaN or infinity.
    """

def quantize_int8(
    vectors: npt.NDArray[np.float32], threads: int = 0
) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """int8 rows and one scale per row (value ≈ code · scale), GIL released."""

def scan_codes(
    codes: npt.NDArray[np.uint8],
    queries: npt.NDArray[np.uint8],
    values: int,
    levels: str,
    k: int,
    min_score: float,
    threads: int = 0,
) -> _Found:
    """Per query row: (rows, cosines) of the best k codes with cosine >= min_score."""

def scan_float32(
    matrix: npt.NDArray[np.float32],
    queries: npt.NDArray[np.float32],
    k: int,
    min_score: float,
    candidates: npt.NDArray[np.int64] | None = None,
    threads: int = 0,
) -> _Found:
    """Per query row: (rows, cosines) of the best k float32 rows (of candidates)."""

def scan_int8(
    matrix: npt.NDArray[np.int8],
    queries: npt.NDArray[np.int8],
    k: int,
    min_score: float,
    candidates: npt.NDArray[np.int64] | None = None,
    threads: int = 0,
) -> _Found:
    """Per query row: (rows, cosines) of the best k int8 rows (of candidates)."""

def group_people(
    descriptors: npt.NDArray[np.float32],
    photos: npt.NDArray[np.uint64],
    anchors: npt.NDArray[np.int64],
    alone: npt.NDArray[np.bool_],
    forbidden: Sequence[tuple[int, int]],
    sums: npt.NDArray[np.float32],
    counts: npt.NDArray[np.uint64],
    known_photos: Sequence[tuple[int, int]],
    threshold: float,
    threads: int = 0,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Faces into people: (person per face, descriptor sum per person, faces per person)."""

# Catalog entries (rust/catalog/entry_make.rs, rust/catalog/entry_rows.rs).

_GroupFile = tuple[str, str, int, int, str, str]
_Group = tuple[str, str, list[_GroupFile], list[str]]

CASEFOLD_UNICODE_VERSION: str
ENTRY_COLUMNS: list[str]
MEDIA_KINDS: list[str]  # index kinds that make an entry (the build's grouping)
SIGNATURE_FORMAT: str  # changes when the way signatures are made changes
# Field names of the core's structs (serialized names, in order), by the msgspec
# struct each one mirrors: DOC_FIELDS for the entry doc (catalog.entry), STORED_FIELDS
# for what the build reads of extract's files (extract.schema).
DOC_FIELDS: dict[str, list[str]]
STORED_FIELDS: dict[str, list[str]]
# Storage kinds by name; a family has "{}" where its size, number or step goes.
STORAGE_KINDS: dict[str, str]

# (source folder, paths, sizes, mtimes in ns, ids, kinds): one source's index files
_SourceColumns = tuple[
    str, Sequence[str], Sequence[int], Sequence[int], Sequence[str], Sequence[str]
]

@final
class BuildPlan:
    """The media groups of a build, sorted by id, and the catalog's signatures.

    Made from every source's files (``catalog.grouping``'s rules: copies are one
    group, a RAW joins the one JPEG of its folder and base name, sidecars join their
    media) and ``stored``: ``id:signature`` lines. ValueError for a line without a
    colon or for columns of different lengths. The groups stay in the core; parts
    are made from slices of them (``write_part``).
    """

    def __new__(cls, sources: Sequence[_SourceColumns], stored: str) -> BuildPlan: ...
    def __len__(self) -> int: ...
    def twins(self) -> dict[str, list[str]]:
        """Group id → its RAW twins, for the groups that have any."""
    def groups(self, start: int, end: int) -> list[_Group]:
        """Groups ``start`` to ``end`` as (id, kind, files, twin ids)."""
    def gone(self, kept_prefix: str) -> list[str]:
        """Stored ids no group has, but those whose signature starts with ``kept_prefix``."""

def write_part(
    path: str,
    storage_root: str,
    schema: list[str],
    plan: BuildPlan,
    start: int,
    end: int,
    held: set[str],
    vector_ids: set[str],
    labels_kind: str | None = None,
    label_threshold: float = 0.0,
    vector_kind: str | None = None,
    objects_kind: str | None = None,
    object_score: float = 0.0,
) -> tuple[int, list[str], int, list[tuple[str, str, bytes]], int, list[str]]:
    """Makes groups ``start`` to ``end`` of ``plan`` into a new SQLite file (GIL released).

    ``schema`` makes the entry tables; a group whose signature the plan's stored ones
    hold is left out, and the docs of ``held`` ids come back instead of being
    written. An entry's labels are those of the stored ``labels_kind`` file (its own,
    else a RAW twin's) at least ``label_threshold`` probable; it has a vector when its
    id is in ``vector_ids`` or a ``vector_kind`` file is stored for it or a twin.
    ValueError for a threshold outside 0 to 1 or a range that is not in the plan.
    Returns the groups added, the ids of those changed, the number unchanged, the held
    (id, signature, doc) triples, the number of entries written (rowids 1 to it) and
    the problems met (stored files that could not be read, each naming its path).
    Raises the OSError of the errno (FileNotFoundError, PermissionError,
    IsADirectoryError, …, with ``errno`` and ``filename``) when the part file cannot be
    made, and OSError naming the file when SQLite cannot write it.
    """

def entry_rows(
    docs: Sequence[bytes], signatures: Sequence[str], first_rowid: int
) -> tuple[
    list[tuple[object, ...]],
    list[tuple[int, str, str, float | None]],
    list[tuple[int, str, str, str, str, str]],
]:
    """The ``entries`` (in ``ENTRY_COLUMNS`` order), ``entry_values`` and ``entry_files``
    rows of stored docs, rowids from ``first_rowid`` on. Raises ValueError for a doc
    that is not an entry."""

def casefold(text: str) -> str:
    """Python's ``str.casefold`` as of ``CASEFOLD_UNICODE_VERSION``: how the catalog
    stores searchable text."""

def entry_doc_round_trip(doc: bytes) -> bytes:
    """The doc decoded into the core's entry and encoded again: what the core keeps of
    a doc. Raises ValueError for a doc that is not an entry."""

# The storage layout (rust/catalog/storage_layout.rs).

def storage_relative(media_id: str, kind: str) -> str:
    """The path of a stored file below the storage root (``ab/cd/ef01…-meta.json``)."""

def storage_split(media_id: str) -> tuple[str, str]:
    """The folder below the storage root (``ab/cd``) and the name stem of a media id."""

def storage_name(name: str) -> tuple[str, str] | None:
    """(stem, kind) of a name in a storage folder; None for hidden files, files being
    written and names without a kind."""

def storage_in_record(kind: str) -> bool:
    """Whether a kind is kept in the id's record (JSON and ``.npy`` kinds)."""

def storage_record_encode(parts: list[tuple[str, bytes]]) -> bytes:
    """A record's bytes from its (kind, bytes) parts; ValueError for a part too large."""

def storage_record_decode(data: bytes) -> list[tuple[str, bytes]]:
    """The (kind, bytes) parts of a record; ValueError saying why it is broken."""

_Rows = npt.NDArray[np.int64]

@final
class TextColumn:
    """One text column of the catalog (casefolded values, one per row), held as one
    text with an offset per row; every search gives ascending row numbers. A NUL in
    a value becomes a space."""

    def __new__(cls, values: Sequence[str | None]) -> TextColumn: ...
    @staticmethod
    def from_joined(
        joined: str,
        count: int,
        placement: _Rows | None = None,
        size: int | None = None,
        separator: str = "\x00",
    ) -> TextColumn:
        """``count`` values joined by ``separator``, value ``k`` in row ``placement[k]``
        of ``size`` rows (row ``k`` without a placement; other rows empty). ValueError
        when the counts do not fit or a place is outside the rows."""
    @staticmethod
    def from_codes(distinct: Sequence[str], codes: _Rows) -> TextColumn:
        """Row ``i`` holds ``distinct[codes[i]]`` (empty where the code is -1)."""
    @staticmethod
    def concatenated(columns: Sequence[TextColumn], separator: str) -> TextColumn:
        """Each row's values of ``columns`` joined by ``separator``."""
    def parents(self) -> TextColumn:
        """Each value up to its last ``/`` (empty when it has none)."""
    def __len__(self) -> int: ...
    @property
    def nbytes(self) -> int:
        """The bytes the column holds."""
    def value(self, row: int) -> str: ...
    def rows_containing(self, text: str) -> _Rows:
        """Rows whose value contains ``text`` (an empty one: rows with a value)."""
    def rows_with_word(self, text: str, within: _Rows | None = None) -> _Rows:
        """Rows holding ``text`` as a word of its own; ``within``: the only rows to test."""
    def rows_equal(self, text: str, within: _Rows | None = None) -> _Rows:
        """Rows whose value is ``text`` (none for ""); ``within``: the only rows to test."""
    def rows_starting_with(self, prefix: str, within: _Rows | None = None) -> _Rows:
        """Rows whose value starts with ``prefix``; ``within``: the only rows to test."""
    def present(self) -> npt.NDArray[np.bool_]:
        """Whether each row has a value other than white space."""
    def dictionary(self) -> tuple[list[str], _Rows]:
        """The sorted distinct values but the empty one, and each row's index among them
        (-1: empty)."""
    def ranks(self) -> _Rows:
        """Each row's place among the sorted distinct values (-1: none)."""

def parse_numbers(text: str, count: int) -> npt.NDArray[np.float64]:
    """The numbers of a comma-joined column (``nan``: unknown). ValueError unless there
    are ``count`` of them, each a number."""

def parse_integers(text: str, count: int | None = None) -> _Rows:
    """The integers of a comma-joined column. ValueError for a piece that is not an
    integer, or unless there are ``count`` of them (when given)."""

def has_word(value: str, word: str) -> bool:
    """Whether ``word`` is in ``value`` as a word of its own: no letter or digit (in
    Unicode's sense) right before or after it."""
