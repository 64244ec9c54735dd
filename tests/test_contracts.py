"""The contracts between Python and the Rust core: each is defined once, and these
tests say what a change on one side forgot on the other.

- The entry (``catalog/entry.py``) and what extract stores (``extract/schema.py``) are
  msgspec structs; the core's serde structs follow them (``rust/catalog/entry_doc.rs``,
  ``rust/catalog/storage_read.rs``) and export their field names, read from serde
  itself (``_core.DOC_FIELDS``, ``_core.STORED_FIELDS``). A field missing on either
  side fails here by name.
- An entry with every field set to a value of its own goes through the core's doc
  and row code and must come back whole, each field in its column; a stored
  ``MediaMeta`` and ``Place`` with every field set must reach the entry the build makes.
- The ``entries`` columns (``_core.ENTRY_COLUMNS``) are the table's, and each is
  searchable or said not to be.
- The storage layout and kinds are the core's (``rust/catalog/storage_layout.rs``);
  Python's readers agree with it on a real folder.

The values are made from the struct's own type information, so a field added to a
struct is filled here without touching this file.

Adding a metadata field, say ``software``: add it to ``MediaMeta`` and fill it in the
reader (``extract/meta.py``); add it to ``Entry``; add it, same name and place, to
``StoredMeta`` and ``Entry`` in Rust and copy it in ``assemble()`` (and, if a RAW twin
may fill it in, in ``merged_meta()``); give it a column (``ENTRY_COLUMNS`` and the row
in ``entry_rows.rs``, the ``entries`` table, ``catalog/columns.py``) or say here why
not; show it in the web app. Each step left out fails one test below, by name.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest

from homegallery import _core
from homegallery.catalog.columns import NUMBER_COLUMNS, TEXT_COLUMNS
from homegallery.catalog.doc import decode_doc, encode_doc
from homegallery.catalog.entry import DetectedObject, Entry, EntryFile, Face, Label
from homegallery.catalog.schema import ENTRY_TABLE_STATEMENTS, create_entry_tables
from homegallery.extract.listing import StorageListing
from homegallery.extract.schema import (
    POSTER_KIND,
    Labels,
    MediaMeta,
    Place,
    StoredLabel,
    failure_kind,
    preview_kind,
    video_kind,
    write_meta,
    write_place,
)
from homegallery.server.routes.files import _PREVIEW_KIND
from homegallery.storage import KINDS, Storage, relative_path

MAIN = "ab" * 32
TWIN = "cd" * 32
DATE = "2021-06-30T10:20:30+02:00"

# Values that must have a form (ids, dates, paths); every other field gets a made-up
# value of its type.
FORMED: dict[str, object] = {
    "Entry.id": MAIN,
    "Entry.date": DATE,
    "Entry.previews": [relative_path(MAIN, "image-preview-320.jpg")],
    "EntryFile.id": TWIN,
    "MediaMeta.date": DATE,
}


class _Values:
    """Makes a value of a msgspec type that is no field's default and no other's value."""

    def __init__(self) -> None:
        self.count = 0

    def of(self, kind: mi.Type, where: str) -> object:
        self.count += 1
        number = self.count
        if isinstance(kind, mi.UnionType):
            (kind,) = [part for part in kind.types if not isinstance(part, mi.NoneType)]
        if isinstance(kind, mi.StrType):
            return f"{where} Ä{number}"
        if isinstance(kind, mi.BoolType):
            return True
        if isinstance(kind, mi.IntType):
            return 100 + number
        if isinstance(kind, mi.FloatType):
            return number + 0.25
        if isinstance(kind, mi.LiteralType):
            return kind.values[-1]
        if isinstance(kind, mi.ListType):
            return [self.of(kind.item_type, where)]
        if isinstance(kind, mi.TupleType):
            return tuple(self.of(item, where) for item in kind.item_types)
        if isinstance(kind, mi.StructType):
            return self.full(kind.cls)
        raise NotImplementedError(f"{where}: teach _Values.of the type {kind}")

    def full(self, cls: type[msgspec.Struct]) -> Any:
        """An instance with every field set to a value other than its default."""
        values = {}
        for field in mi.type_info(cls).fields:  # type: ignore[attr-defined]
            where = f"{cls.__name__}.{field.name}"
            value = FORMED[where] if where in FORMED else self.of(field.type, where)
            assert value != field.default, f"{where}: the made-up value is its default"
            values[field.name] = value
        return cls(**values)


def _full(cls: type[msgspec.Struct]) -> Any:
    return _Values().full(cls)


def _names(cls: type[msgspec.Struct]) -> list[str]:
    return [field.encode_name for field in msgspec.structs.fields(cls)]


def _structs_in(cls: type[msgspec.Struct]) -> set[type[msgspec.Struct]]:
    """``cls`` and every struct its fields hold, however deep."""
    found = {cls}

    def visit(kind: mi.Type) -> None:
        if isinstance(kind, mi.StructType) and kind.cls not in found:
            found.update(_structs_in(kind.cls))
        for part in getattr(kind, "types", ()) or getattr(kind, "item_types", ()):
            visit(part)
        if isinstance(kind, mi.ListType):
            visit(kind.item_type)

    for field in mi.type_info(cls).fields:  # type: ignore[attr-defined]
        visit(field.type)
    return found


def _compare_names(python: list[str], rust: list[str], what: str, rust_file: str) -> None:
    missing = [name for name in python if name not in rust]
    extra = [name for name in rust if name not in python]
    assert not missing, (
        f"{what}: fields the core does not have (add them in {rust_file}): {missing}"
    )
    assert not extra, f"{what}: fields the core has that Python does not: {extra}"


@pytest.mark.parametrize("cls", [Entry, EntryFile, DetectedObject, Face, Label])
def test_the_core_doc_has_the_fields_of_the_python_entry(cls: type[msgspec.Struct]) -> None:
    rust = _core.DOC_FIELDS[cls.__name__]
    _compare_names(_names(cls), rust, cls.__name__, "rust/catalog/entry_doc.rs")
    assert rust == _names(cls), "same order, so both sides write the same doc"


def test_every_struct_of_the_entry_is_compared() -> None:
    nested = sorted(cls.__name__ for cls in _structs_in(Entry))
    assert nested == sorted(_core.DOC_FIELDS), (
        "list each struct of the entry in doc_fields() in rust/bindings/catalog.rs"
    )


# Fields extract stores that the catalog does not take, and why.
NOT_IN_CATALOG = {
    "MediaMeta": {
        "schema": "the stored file's version, for extract",
        "date_source": "shown by extract's summaries only",
        "video_codec": "for the web video step",
        "audio_codec": "for the web video step",
        "frame_rate": "for the web video step",
        "rotation": "for the web video step (width and height are as displayed)",
        "sidecar_ids": "for extract, to see a sidecar changed",
        "face_regions": "read by catalog/people.py, which names the faces found there",
    },
    "Place": {
        "schema": "the stored file's version, for extract",
        "source": "which geocoder answered",
        "latitude": "the entry has the photo's own position",
        "longitude": "the entry has the photo's own position",
    },
    "Labels": {
        "schema": "the stored file's version, for extract",
        "model": "the file's kind names the model (labels-<model>-<version>.json)",
        "version": "the file's kind names the model's version",
    },
    "StoredLabel": {},
}


@pytest.mark.parametrize("cls", [MediaMeta, Place, Labels, StoredLabel])
def test_the_build_reads_every_stored_field_or_says_why_not(cls: type[msgspec.Struct]) -> None:
    rust = _core.STORED_FIELDS[cls.__name__]
    python = _names(cls)
    skipped = NOT_IN_CATALOG[cls.__name__]
    extra = [name for name in rust if name not in python]
    assert not extra, f"rust/catalog/storage_read.rs reads fields {cls.__name__} lacks: {extra}"
    unread = [name for name in python if name not in rust and name not in skipped]
    assert not unread, (
        f"{cls.__name__} fields the build neither reads (rust/catalog/storage_read.rs) nor "
        f"lists in NOT_IN_CATALOG here: {unread}"
    )
    read_anyway = sorted(set(skipped) & set(rust))
    assert not read_anyway, f"NOT_IN_CATALOG lists fields the build reads: {read_anyway}"


def _differences(sent: object, back: object, path: str = "") -> list[str]:
    if isinstance(sent, dict) and isinstance(back, dict):
        found = []
        for key in sorted(set(sent) | set(back)):
            where = f"{path}.{key}" if path else str(key)
            if key not in back:
                found.append(f"{where}: dropped by the core")
            elif key not in sent:
                found.append(f"{where}: added by the core ({back[key]!r})")
            else:
                found += _differences(sent[key], back[key], where)
        return found
    if isinstance(sent, list) and isinstance(back, list) and len(sent) == len(back):
        return [
            difference
            for index, (one, other) in enumerate(zip(sent, back, strict=True))
            for difference in _differences(one, other, f"{path}[{index}]")
        ]
    return [] if sent == back else [f"{path}: {sent!r} came back as {back!r}"]


@pytest.mark.parametrize("full", [True, False], ids=["every-field-set", "defaults"])
def test_an_entry_goes_through_the_core_doc_code_whole(full: bool) -> None:
    entry = _full(Entry) if full else Entry(id=MAIN, type="image")
    doc = encode_doc(entry)
    back = _core.entry_doc_round_trip(doc)
    assert _differences(msgspec.msgpack.decode(doc), msgspec.msgpack.decode(back)) == []
    assert decode_doc(back) == entry


# Entry fields that are not columns of their own: each is counted in one.
COUNTED = {
    "tags": "tag_count",
    "objects": "object_count",
    "labels": "label_count",
    "faces": "face_count",
    "files": "file_count",
    "previews": "preview_count",
}
# Entry fields shown with the entry but neither searched nor counted, and why.
NOT_A_COLUMN: dict[str, str] = {}


def test_every_field_of_a_full_entry_reaches_its_column() -> None:
    entry = _full(Entry)
    (values,), _, _ = _core.entry_rows([encode_doc(entry)], ["signature"], 1)
    row = dict(zip(_core.ENTRY_COLUMNS, values, strict=True))
    empty = [column for column, value in row.items() if value is None]
    assert not empty, f"columns rust/catalog/entry_rows.rs leaves empty: {empty}"
    for field in msgspec.structs.fields(Entry):
        value = getattr(entry, field.name)
        if field.name in COUNTED:
            assert row[COUNTED[field.name]] == len(value), field.name
            continue
        if field.name in NOT_A_COLUMN:
            assert field.encode_name not in row, f"NOT_A_COLUMN lists {field.name}, a column"
            continue
        assert field.encode_name in row, (
            f"Entry.{field.name} has no column: add it to ENTRY_COLUMNS and the row in "
            "rust/catalog/entry_rows.rs and to the entries table in catalog/schema.py, "
            "or list it in COUNTED or NOT_A_COLUMN here"
        )
        stored = row[field.encode_name]
        folded = _core.casefold(value) if isinstance(value, str) else value
        assert stored in (value, folded), f"column {field.encode_name}: {stored!r} for {value!r}"
    assert (row["rowid"], row["signature"], row["size"]) == (1, "signature", entry.size)
    assert row["ratio"] == pytest.approx(entry.width / entry.height)


def test_the_entries_table_has_the_core_columns() -> None:
    connection = sqlite3.connect(":memory:")
    create_entry_tables(connection)
    table = [row[1] for row in connection.execute("PRAGMA table_info(entries)")]
    assert ["rowid", *table] == _core.ENTRY_COLUMNS


NOT_SEARCHED = {"rowid", "id", "date", "text", "signature"}  # searched their own way


def test_every_column_is_searchable_or_said_not_to_be() -> None:
    columns = set(_core.ENTRY_COLUMNS)
    searchable = set(NUMBER_COLUMNS) | set(TEXT_COLUMNS)
    assert not searchable - columns, (
        f"catalog/columns.py names columns that are gone: {searchable - columns}"
    )
    unsearched = sorted(columns - searchable - NOT_SEARCHED)
    assert not unsearched, (
        f"add these to NUMBER_COLUMNS or TEXT_COLUMNS in catalog/columns.py: {unsearched}"
    )


# MediaMeta fields a RAW twin's metadata does not fill in (they describe the file).
NOT_FROM_TWIN = {"type", "mime", "format", "width", "height", "orientation", "duration"}
# MediaMeta fields stored under another name in the entry.
ENTRY_NAME = {"keywords": "tags"}


def _built_entry(tmp_path: Path, main: MediaMeta | None, twin: MediaMeta | None) -> Entry:
    """The entry the build makes for a video (and its twin) from what extract stored."""
    storage = Storage(tmp_path / "storage")
    if main is not None:
        write_meta(storage, MAIN, main)
        write_place(storage, MAIN, _full(Place))
    if twin is not None:
        write_meta(storage, TWIN, twin)
    # a video on its own, or a JPEG with its RAW twin (the only pairs a build makes)
    if twin is None:
        files = ("/photos", ["clip.mp4"], [10], [1], [MAIN], ["video"])
    else:
        files = ("/photos", ["clip.jpg", "clip.raw"], [10, 9], [1, 1], [MAIN, TWIN],
                 ["image", "raw"])  # fmt: skip
    plan = _core.BuildPlan([files], "")
    assert plan.twins() == ({MAIN: [TWIN]} if twin is not None else {})
    *_, held, _, problems = _core.write_part(
        os.fspath(tmp_path / "part.db"), os.fspath(storage.root), ENTRY_TABLE_STATEMENTS,
        plan, 0, 1, {MAIN}, set(),
    )  # fmt: skip
    assert problems == []
    ((held_id, _, doc),) = held
    assert held_id == MAIN
    return decode_doc(doc)


def _read_fields() -> list[str]:
    return [name for name in _core.STORED_FIELDS["MediaMeta"] if name != "type"]


def test_every_stored_field_the_build_reads_reaches_the_entry(tmp_path: Path) -> None:
    meta = _full(MediaMeta)
    entry = _built_entry(tmp_path, meta, None)
    assert entry.type == meta.type
    for name in _read_fields():
        target = ENTRY_NAME.get(name, name)
        assert hasattr(entry, target), f"MediaMeta.{name} is read but Entry has no {target}"
        assert getattr(entry, target) == getattr(meta, name), (
            f"MediaMeta.{name} does not reach the entry: set it in assemble() in "
            "rust/catalog/entry_make.rs"
        )
    assert (entry.year, entry.month, entry.day, entry.hour, entry.minute) == (2021, 6, 30, 10, 20)
    place = _full(Place)
    for name in _core.STORED_FIELDS["Place"]:
        assert getattr(entry, name) == getattr(place, name), (
            f"Place.{name} does not reach the entry"
        )


def test_a_raw_twin_fills_in_what_the_main_file_does_not_say(tmp_path: Path) -> None:
    twin = _full(MediaMeta)
    entry = _built_entry(tmp_path, MediaMeta(type="video"), twin)
    for name in _read_fields():
        if name in NOT_FROM_TWIN:
            continue
        assert getattr(entry, ENTRY_NAME.get(name, name)) == getattr(twin, name), (
            f"MediaMeta.{name} is not filled in from a RAW twin: fill it in merged_meta() in "
            "rust/catalog/entry_make.rs, or list it in NOT_FROM_TWIN here"
        )


def test_python_names_the_storage_files_as_the_core_lays_them_out(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    media_id = "0123456789abcdef" * 4
    kinds = [preview_kind(320), video_kind(), POSTER_KIND, failure_kind("meta"), KINDS["meta"]]
    for kind in kinds:
        path = storage.write(media_id, kind, b"x")
        # the small kinds go into the id's record, the others into files of their own
        stored_as = KINDS["record"] if _core.storage_in_record(kind) else kind
        assert path == tmp_path / _core.storage_relative(media_id, stored_as)
        assert path.relative_to(tmp_path).as_posix() == f"01/23/{media_id[4:]}-{stored_as}"
        assert storage.get(media_id, kind) == b"x"
    # files being written, hidden files and other ids are no kinds of this one
    folder = storage.folder(media_id)
    for name in (
        f".{media_id[4:]}-meta.abc.part.json",
        f"{media_id[4:]}-video-preview-720.mp4.part",
        "README",
    ):
        (folder / name).write_bytes(b"")
    storage.write("0123" + "f" * 60, "meta.json", b"{}")
    assert storage.kinds(media_id) == sorted(kinds)
    assert StorageListing(tmp_path).kinds(media_id) == set(kinds)


def test_the_server_serves_every_preview_kind_extract_makes() -> None:
    for kind in (
        preview_kind(128),
        preview_kind(1920),
        video_kind(),
        video_kind(1080),
        POSTER_KIND,
    ):
        assert _PREVIEW_KIND.match(kind), kind
    for kind in (KINDS["meta"], failure_kind("meta"), "image-preview-320.png", "../meta.json"):
        assert not _PREVIEW_KIND.match(kind), kind
