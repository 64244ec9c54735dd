"""The build: index records + storage → catalog entries, incrementally, with events.

Index records here are plain structs with the fields of the file index
(``path``, ``size``, ``mtime_ns``, ``id``, ``kind``); the storage is written with the
extract stage's own writers, or by running extract itself on the real photos.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import msgspec
import pytest

from factories import Indexed, fake_id, index_folder, record
from homegallery.catalog import CatalogError, EventError, SourceFiles, build_catalog
from homegallery.catalog import build as build_module
from homegallery.catalog.columns import SharedColumns
from homegallery.catalog.events import export_events, import_events, new_event, record_events
from homegallery.catalog.generation import generation
from homegallery.catalog.grouping import group_files
from homegallery.catalog.schema import open_reader, open_writer
from homegallery.catalog.search import Searcher, snapshot
from homegallery.extract.runner import run_extract
from homegallery.extract.schema import MediaMeta, Place, preview_kind, write_meta, write_place
from homegallery.extract.worker import Settings, WorkItem
from homegallery.storage import Storage


class _Silent:
    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


# --- from real photos through extract ---------------------------------------------------


def test_real_photos_build_into_entries(photos_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "photos"
    source.mkdir()
    chosen = [
        photos_dir / "gps" / "DSCN0010.jpg",
        photos_dir / "gps" / "DSCN0012.jpg",
        photos_dir / "cameras" / "Canon_DIGITAL_IXUS_400.jpg",
        photos_dir / "heic" / "IMG_5195.HEIC",
        photos_dir / "invalid" / "corrupted.jpg",
    ]
    for path in chosen:  # links, not copies: the photos stay where they are
        (source / path.name).symlink_to(path)
    records = index_folder(source)
    items = [
        WorkItem(r.id, source / r.path, r.kind, (), r.mtime_ns)
        for r in records
        if r.kind == "image"
    ]
    storage_dir = tmp_path / "storage"
    run_extract(
        items, Settings(storage_dir=storage_dir), steps=("meta", "preview", "geo"), workers=1,
        progress_factory=lambda label, total: _Silent(),
    )  # fmt: skip
    catalog = tmp_path / "catalog.db"

    summary = build_catalog(catalog, storage_dir, [SourceFiles(str(source), records)])

    assert (summary.entries, summary.added, summary.problems) == (5, 5, [])
    searcher = Searcher(open_reader(catalog))
    by_name = {entry.files[0].path: entry for entry in searcher.entries("")}
    gps = by_name["DSCN0010.jpg"]
    assert (gps.width, gps.height, gps.make, gps.model) == (640, 480, "NIKON", "COOLPIX P6000")
    assert gps.date == "2008-10-22T16:28:39" and (gps.year, gps.month, gps.day) == (2008, 10, 22)
    assert (gps.country, gps.state, gps.city) == ("Italy", "Tuscany", "Arezzo")
    assert gps.latitude == pytest.approx(43.4674, abs=1e-3)
    heic = by_name["IMG_5195.HEIC"]
    assert (heic.width, heic.height, heic.make) == (2566, 3313, "Apple")
    assert heic.date == "2021-04-11T15:47:53-05:00" and heic.hour == 15
    assert heic.city == "Blue Springs" and len(heic.previews) == 5
    ixus = by_name["Canon_DIGITAL_IXUS_400.jpg"]
    assert ixus.date == "2004-08-27T13:52:55+02:00" and ixus.model == "Canon DIGITAL IXUS 400"
    # a 100 px image lists only the one preview it has, and it exists
    assert [Path(p).name.split("-", 1)[1] for p in ixus.previews] == [preview_kind(128)]
    assert all((storage_dir / p).is_file() for entry in by_name.values() for p in entry.previews)
    broken = by_name["corrupted.jpg"]
    assert broken.previews == []  # its header is readable, its pixels are not
    # and the query language finds them
    assert sorted(e.files[0].path for e in searcher.entries("city:arezzo")) == [
        "DSCN0010.jpg",
        "DSCN0012.jpg",
    ]
    assert [e.id for e in searcher.entries("make:apple portrait")] == [heic.id]
    assert [e.id for e in searcher.entries("date:2004-08-27")] == [ixus.id]


# --- grouping -------------------------------------------------------------------------------


def test_raw_jpeg_pairs_sidecars_and_copies_make_one_entry(tmp_path: Path) -> None:
    photos = [
        record("2021/IMG_1.JPG", 1),
        record("2021/IMG_1.CR2", 2, "raw"),
        record("2021/IMG_1.xmp", 3, "sidecar"),
        record("2021/IMG_1.CR2.xmp", 4, "sidecar"),
        record("2021/IMG_2.jpg", 5),
        record("2021/IMG_2.mp4", 6, "video"),  # same name, but a video is its own entry
        record("2021/notes.txt", 7, "other"),
        record("raw-only/IMG_3.NEF", 8, "raw"),
    ]
    backup = [record("copy/IMG_1.JPG", 1), record("copy/IMG_2_copy.jpg", 5)]
    groups = group_files([SourceFiles("/photos", photos), SourceFiles("/backup", backup)])
    by_id = {group.id: group for group in groups}
    assert sorted(by_id) == [fake_id(1), fake_id(5), fake_id(6), fake_id(8)]
    pair = by_id[fake_id(1)]
    assert pair.kind == "image" and pair.twin_ids == [fake_id(2)]
    in_order = [
        ("/backup", "copy/IMG_1.JPG"),
        ("/photos", "2021/IMG_1.JPG"),
        ("/photos", "2021/IMG_1.CR2"),
        ("/photos", "2021/IMG_1.CR2.xmp"),
        ("/photos", "2021/IMG_1.xmp"),
    ]
    assert sorted((f.source, f.path) for f in pair.files) == sorted(in_order)
    assert len(by_id[fake_id(5)].files) == 2 and by_id[fake_id(8)].kind == "raw"
    # The built entry lists the main file and its copies first, then the RAW, then sidecars.
    catalog = tmp_path / "catalog.db"
    build_catalog(catalog, tmp_path / "storage", [SourceFiles("/photos", photos),
                                                  SourceFiles("/backup", backup)])  # fmt: skip
    entry = Searcher(open_reader(catalog)).entry(fake_id(1))
    assert entry is not None and [(f.source, f.path) for f in entry.files] == in_order


def test_a_pair_takes_the_jpeg_metadata_and_fills_gaps_from_the_raw(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "storage")
    write_meta(storage, fake_id(1), MediaMeta(type="image", width=600, height=400, make="Canon"))
    write_meta(
        storage,
        fake_id(2),
        MediaMeta(type="rawImage", width=6000, height=4000, make="Canon", model="EOS R",
                  date="2020-02-02T10:00:00", keywords=["raw-keyword"]),
    )  # fmt: skip
    storage.write(fake_id(2), preview_kind(320), b"raw preview")
    records = [record("a/IMG_1.jpg", 1), record("a/IMG_1.CR3", 2, "raw")]
    catalog = tmp_path / "catalog.db"
    build_catalog(catalog, storage.root, [SourceFiles("/p", records)])
    (entry,) = Searcher(open_reader(catalog)).entries("")
    assert (entry.id, entry.type, entry.width, entry.model) == (fake_id(1), "image", 600, "EOS R")
    assert entry.date == "2020-02-02T10:00:00" and entry.tags == ["raw-keyword"]
    assert entry.previews == [storage.relative(fake_id(2), preview_kind(320))]
    assert [(f.kind, f.id) for f in entry.files] == [("image", fake_id(1)), ("raw", fake_id(2))]


# --- incremental builds ------------------------------------------------------------------


def _storage_with(tmp_path: Path, count: int) -> tuple[Storage, list[Indexed]]:
    storage = Storage(tmp_path / "storage")
    records = []
    for number in range(1, count + 1):
        media_id = fake_id(number)
        write_meta(
            storage,
            media_id,
            MediaMeta(type="image", width=800, height=600, date=f"2020-01-{number:02d}T12:00:00",
                      keywords=["even" if number % 2 == 0 else "odd"]),
        )  # fmt: skip
        storage.write(media_id, preview_kind(320), b"x")
        records.append(record(f"p/{number}.jpg", number))
    return storage, records


def _in_parts(monkeypatch: pytest.MonkeyPatch, size: int) -> None:
    """Builds of more than ``size`` groups are cut into two parts, made on threads."""
    monkeypatch.setattr(build_module, "_GROUPS_PER_PART", size)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})


@pytest.mark.parametrize("parts", ["one part", "two parts"])
def test_an_unchanged_build_writes_nothing_and_changes_are_picked_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: str
) -> None:
    if parts == "two parts":
        _in_parts(monkeypatch, 3)
    storage, records = _storage_with(tmp_path, 6)
    catalog = tmp_path / "catalog.db"
    first = build_catalog(catalog, storage.root, [SourceFiles("/p", records)])
    assert (first.added, first.entries) == (6, 6)

    again = build_catalog(catalog, storage.root, [SourceFiles("/p", records)])
    assert (again.unchanged, again.added, again.changed, again.removed) == (6, 0, 0, 0)

    # extract produced more for one id; one file is gone; a new one came
    storage.write(fake_id(2), preview_kind(128), b"x")
    write_place(storage, fake_id(3), Place(source="offline", country="Italy", city="Rome"))
    changed = [r for r in records if r.id != fake_id(6)] + [record("p/7.jpg", 7)]
    later = build_catalog(catalog, storage.root, [SourceFiles("/p", changed)])
    assert (later.unchanged, later.changed, later.removed, later.added) == (3, 2, 1, 1)
    searcher = Searcher(open_reader(catalog))
    assert searcher.ids("city:rome") == [fake_id(3)]
    entry = searcher.entry(fake_id(2))
    assert entry is not None and len(entry.previews) == 2
    assert searcher.entry(fake_id(6)) is None and searcher.count("") == 6
    assert searcher.entry(fake_id(7)) is not None  # no meta yet: listed with its file
    full = build_catalog(catalog, storage.root, [SourceFiles("/p", changed)], full=True)
    assert (full.added, full.entries) == (6, 6) and searcher.ids("city:rome") == [fake_id(3)]
    assert sorted(searcher.ids("")) == sorted(r.id for r in changed)
    assert not list(tmp_path.glob(".catalog.db.part-*"))  # the parts are gone


def test_an_unreadable_stored_file_is_reported_and_the_build_goes_on(tmp_path: Path) -> None:
    storage, records = _storage_with(tmp_path, 3)
    storage.write(fake_id(2), "meta.json", b"{not json")
    summary = build_catalog(tmp_path / "c.db", storage.root, [SourceFiles("/p", records)])
    assert summary.entries == 3
    assert (
        len(summary.problems) == 1
        and str(storage.path(fake_id(2), "meta.json")) in summary.problems[0]
    )
    assert any("could not be read" in line for line in summary.lines())


def test_a_newer_catalog_format_is_refused(tmp_path: Path) -> None:
    catalog = tmp_path / "c.db"
    writer = open_writer(catalog)
    writer.execute("UPDATE catalog_info SET value = '99' WHERE key = 'schema'")
    writer.close()
    with pytest.raises(CatalogError, match="newer"):
        open_writer(catalog)
    with pytest.raises(CatalogError, match="format 99"):
        open_reader(catalog)
    with pytest.raises(CatalogError, match="no catalog yet"):
        open_reader(tmp_path / "missing.db")


def test_a_catalog_of_the_previous_format_is_made_anew_keeping_its_events(
    tmp_path: Path,
) -> None:
    storage, records = _storage_with(tmp_path, 2)
    catalog = tmp_path / "c.db"
    sources = [SourceFiles("/p", records)]
    build_catalog(catalog, storage.root, sources)
    writer = open_writer(catalog)
    record_events(writer, [new_event([fake_id(1)], user="ann", add_tags=["kept"])])
    # format 1 stored its docs as JSON
    writer.execute("UPDATE entry_docs SET doc = CAST('{\"id\": 1}' AS BLOB)")
    writer.execute("UPDATE catalog_info SET value = '1' WHERE key = 'schema'")
    writer.close()
    with pytest.raises(CatalogError, match=r"format 1 .*run `homegallery build`"):
        open_reader(catalog)
    summary = build_catalog(catalog, storage.root, sources)
    assert (summary.added, summary.entries) == (2, 2)  # every entry made anew
    searcher = Searcher(open_reader(catalog))
    assert searcher.ids("tag:kept") == [fake_id(1)]
    assert {entry.id for entry in searcher.entries("")} == {fake_id(1), fake_id(2)}


# --- events ----------------------------------------------------------------------------------


@pytest.mark.parametrize("parts", ["one part", "two parts"])
def test_tag_events_change_results_and_survive_rebuilds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: str
) -> None:
    if parts == "two parts":  # entries with events are written last in their part
        _in_parts(monkeypatch, 2)
    storage, records = _storage_with(tmp_path, 4)
    catalog = tmp_path / "catalog.db"
    sources = [SourceFiles("/p", records)]
    build_catalog(catalog, storage.root, sources)
    searcher = Searcher(open_reader(catalog))
    writer = open_writer(catalog)

    assert searcher.ids("tag:holiday") == []
    changed = record_events(
        writer, [new_event([fake_id(1), fake_id(2), fake_id(99)], user="ann", add_tags=["Holiday"])]
    )
    assert changed == 2  # fake_id(99) is not in the catalog (yet)
    record_events(writer, [new_event([fake_id(2)], user="bob", remove_tags=["holiday", "even"])])
    record_events(writer, [new_event([fake_id(1)], user="ann", favorite=True, rating=4)])
    assert searcher.ids("tag:holiday") == [fake_id(1)]
    assert searcher.ids("tag:even") == [fake_id(4)]
    assert searcher.ids("favorite:yes rating:4") == [fake_id(1)]
    entry = searcher.entry(fake_id(1))
    assert entry is not None and entry.tags == ["odd", "Holiday"]

    for full in (False, True):
        build_catalog(catalog, storage.root, sources, full=full)
        assert searcher.ids("tag:holiday") == [fake_id(1)]
        assert searcher.ids("tag:even") == [fake_id(4)]
        assert searcher.ids("favorite:true") == [fake_id(1)]
        assert sorted(searcher.ids("")) == [fake_id(n) for n in range(1, 5)]
        entry = searcher.entry(fake_id(2))
        assert entry is not None and entry.tags == [] and entry.width == 800

    # an event for an id not built yet applies when it arrives
    write_meta(storage, fake_id(99), MediaMeta(type="image"))
    build_catalog(catalog, storage.root, [SourceFiles("/p", [*records, record("p/99.jpg", 99)])])
    assert sorted(searcher.ids("tag:holiday")) == [fake_id(1), fake_id(99)]

    # export, and import into a catalog built from scratch
    exported = tmp_path / "events.jsonl"
    assert export_events(writer, exported) == 3
    assert all(line.count('"user"') == 1 for line in exported.read_text().splitlines())
    other = tmp_path / "other.db"
    build_catalog(other, storage.root, sources)
    other_writer = open_writer(other)
    assert import_events(other_writer, exported) == (3, 0)
    assert import_events(other_writer, exported) == (0, 3)
    assert Searcher(open_reader(other)).ids("tag:holiday") == [fake_id(1)]


def test_a_bad_event_file_is_refused_whole(tmp_path: Path) -> None:
    storage, records = _storage_with(tmp_path, 2)
    catalog = tmp_path / "catalog.db"
    build_catalog(catalog, storage.root, [SourceFiles("/p", records)])
    writer = open_writer(catalog)
    good = new_event([fake_id(1)], user="ann", add_tags=["x"])
    lines = tmp_path / "events.jsonl"

    lines.write_bytes(msgspec.json.encode(good) + b"\n" + b'{"uid": "b", "user": "x"}\n')
    with pytest.raises(EventError, match=r"events.jsonl:2: not a valid event"):
        import_events(writer, lines)
    assert Searcher(open_reader(catalog)).ids("tag:x") == []
    with pytest.raises(EventError, match="rating"):
        new_event([fake_id(1)], user="ann", rating=9)
    with pytest.raises(EventError, match="changes nothing"):
        new_event([fake_id(1)], user="ann")
    with pytest.raises(EventError, match="non-empty"):
        new_event([fake_id(1)], user="ann", add_tags=["  "])


# --- readers during a build ---------------------------------------------------------------


def test_a_search_during_a_build_sees_the_old_or_the_new_catalog(tmp_path: Path) -> None:
    storage, records = _storage_with(tmp_path, 30)
    catalog = tmp_path / "catalog.db"
    old = [r for r in records if int(r.id, 16) <= 10]
    build_catalog(catalog, storage.root, [SourceFiles("/p", old)])
    many = [record(f"q/{n}.jpg", n) for n in range(100, 6100)]  # no stored data: quick to read
    counts: set[int] = set()
    errors: list[BaseException] = []
    done = threading.Event()

    def search() -> None:
        searcher = Searcher(open_reader(catalog))
        try:
            while not done.is_set():
                counts.add(searcher.count(""))
                counts.add(len(searcher.ids("")))
                counts.add(len(searcher.entries("order by date asc")))
        except BaseException as error:
            errors.append(error)

    reader = threading.Thread(target=search)
    reader.start()
    time.sleep(0.05)
    for full in (True, False, True):
        sources = [SourceFiles("/p", records + many)] if full else [SourceFiles("/p", old)]
        build_catalog(catalog, storage.root, sources, full=full)
        time.sleep(0.05)
    done.set()
    reader.join()
    assert errors == []
    assert counts <= {10, 6030} and len(counts) == 2


def test_search_snapshots_follow_events_in_place_and_reload_after_builds(tmp_path: Path) -> None:
    storage, records = _storage_with(tmp_path, 4)
    catalog = tmp_path / "catalog.db"
    sources = [SourceFiles("/p", records)]
    build_catalog(catalog, storage.root, sources)
    searcher = Searcher(open_reader(catalog))
    writer = open_writer(catalog)
    assert searcher.ids("tag:odd count(tags) = 1 favorite:false") == [fake_id(3), fake_id(1)]
    assert searcher.loads == 1

    record_events(
        writer, [new_event([fake_id(1)], user="ann", add_tags=["New"], favorite=True, rating=2)]
    )
    assert searcher.ids("tag:new") == [fake_id(1)]
    assert searcher.ids("count(tags) = 2 favorite:true rating:2") == [fake_id(1)]
    record_events(writer, [new_event([fake_id(1)], user="ann", remove_tags=["odd"])])
    assert searcher.ids("tag:odd") == [fake_id(3)]
    assert searcher.ids("new") == [fake_id(1)]
    assert searcher.loads == 1  # patched, not read again

    storage.write(fake_id(4), preview_kind(128), b"x")
    build_catalog(catalog, storage.root, sources)
    assert searcher.ids("tag:new favorite:true") == [fake_id(1)]
    assert searcher.ids("count(previews) = 2") == [fake_id(4)]
    assert searcher.loads == 2


def test_reader_threads_share_one_snapshot_and_events_never_change_it_under_them(
    tmp_path: Path,
) -> None:
    storage, records = _storage_with(tmp_path, 4)
    catalog = tmp_path / "catalog.db"
    build_catalog(catalog, storage.root, [SourceFiles("/p", records)])
    shared = SharedColumns()
    first = Searcher(open_reader(catalog), shared=shared)
    assert first.ids("tag:odd") == [fake_id(3), fake_id(1)]
    seen: list[object] = []

    def other_thread() -> None:
        second = Searcher(open_reader(catalog), shared=shared)
        seen.append(second.ids("tag:odd rating:0"))  # a column no search read yet
        second.connection.close()

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert seen == [[]] and shared.loads == 1  # read once, by the first thread

    with snapshot(first.connection):
        before = first.columns()
        favorites = before.number("favorite").copy()
    # a transaction that began before an event keeps reading the state it began in
    old_reader = open_reader(catalog)
    old_reader.execute("BEGIN")
    assert generation(old_reader) == before.generation
    record_events(open_writer(catalog), [new_event([fake_id(1)], user="ann", favorite=True)])
    assert first.ids("favorite:true") == [fake_id(1)]
    assert (before.number("favorite") == favorites).all()  # patched in a copy
    assert shared.loads == 1
    older = shared.get(old_reader)  # the shared one is newer now: a private one
    assert older.generation == before.generation and older is not before
    assert older.number("favorite")[older.row_of(fake_id(1))] == 0
    old_reader.execute("COMMIT")


def test_a_name_that_is_not_utf8_is_shown_with_a_replacement_and_the_build_goes_on(
    tmp_path: Path,
) -> None:
    storage, records = _storage_with(tmp_path, 2)
    undecodable = os.fsdecode(b"p/caf\xe9.jpg")  # Latin-1 on disk, as the index reads it
    records = [records[0], record(undecodable, 2)]
    catalog = tmp_path / "catalog.db"
    summary = build_catalog(catalog, storage.root, [SourceFiles("/p", records)])
    assert summary.entries == 2
    assert any("/p/p/caf\ufffd.jpg: the name is not UTF-8" in line for line in summary.problems)
    entry = Searcher(open_reader(catalog)).entry(fake_id(2))
    assert entry is not None and entry.files[0].path == "p/caf\ufffd.jpg"


def test_signatures_made_another_way_mean_one_full_build(tmp_path: Path) -> None:
    storage, records = _storage_with(tmp_path, 3)
    catalog = tmp_path / "catalog.db"
    sources = [SourceFiles("/p", records)]
    build_catalog(catalog, storage.root, sources)
    writer = open_writer(catalog)
    writer.execute("UPDATE catalog_info SET value = 'older' WHERE key = 'signatures'")
    writer.close()

    anew = build_catalog(catalog, storage.root, sources)
    assert (anew.entries, anew.added, anew.unchanged, anew.removed) == (3, 3, 0, 0)
    again = build_catalog(catalog, storage.root, sources)
    assert (again.entries, again.unchanged, again.added) == (3, 3, 0)


def test_a_build_that_changes_nothing_commits_nothing(tmp_path: Path) -> None:
    """A cron pass over an unchanged gallery must not move the generation: every open
    page and every search would reload for nothing."""
    storage, records = _storage_with(tmp_path, 3)
    catalog = tmp_path / "catalog.db"
    build_catalog(catalog, storage.root, [SourceFiles("/p", records)])
    reader = open_reader(catalog)

    def state() -> tuple[int, str]:
        built = reader.execute("SELECT value FROM catalog_info WHERE key = 'built'").fetchone()
        return generation(reader), built[0]

    before = state()
    time.sleep(1.1)  # `built` is kept to the second
    again = build_catalog(catalog, storage.root, [SourceFiles("/p", records)])
    assert again.unchanged == 3 and state() == before
    # a source whose index is named otherwise is a change (`index:` answers by that name)
    renamed = build_catalog(catalog, storage.root, [SourceFiles("/p", records, "ext")])
    assert renamed.unchanged == 3 and state()[0] > before[0]
    assert len(Searcher(reader).ids("index:ext")) == 3


def test_updated_is_when_an_entry_was_made_or_last_changed(tmp_path: Path) -> None:
    storage, records = _storage_with(tmp_path, 3)
    catalog = tmp_path / "catalog.db"
    sources = [SourceFiles("/p", records)]
    build_catalog(catalog, storage.root, sources)
    searcher = Searcher(open_reader(catalog))
    today = time.strftime("%Y-%m-%d", time.gmtime())
    assert len(searcher.ids(f"updated:{today}")) == 3
    assert len(searcher.ids("exists updated")) == 3
    built = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())

    time.sleep(1.1)
    record_events(open_writer(catalog), [new_event([fake_id(2)], user="ann", add_tags=["x"])])
    assert searcher.ids(f"updated > {built}") == [fake_id(2)]
    assert searcher.ids("order by updated")[0] == fake_id(2)
    assert searcher.ids("order by updated asc")[-1] == fake_id(2)
    tagged = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())

    time.sleep(1.1)
    write_place(storage, fake_id(3), Place(source="offline", country="Italy", city="Rome"))
    build_catalog(catalog, storage.root, sources)
    assert searcher.ids(f"updated > {tagged}") == [fake_id(3)]
    assert searcher.ids("order by updated")[:2] == [fake_id(3), fake_id(2)]
    assert searcher.ids(f"updated <= {built}") == [fake_id(1)]  # unchanged since made


def test_the_summary_says_one_entry_in_the_singular(tmp_path: Path) -> None:
    storage, records = _storage_with(tmp_path, 1)
    summary = build_catalog(tmp_path / "catalog.db", storage.root, [SourceFiles("/p", records)])
    assert summary.lines()[0].startswith("catalog: 1 entry from 1 file (1 added,")


def test_a_change_of_many_entries_reads_the_changed_columns_again(tmp_path: Path) -> None:
    """Past a few hundred entries an event's rows are not patched one by one (that took
    a second per 1,500 entries); the changed columns are read again, and later small
    changes patch the new state as before."""
    storage = Storage(tmp_path / "storage")
    records = []
    for number in range(1, 301):
        write_meta(storage, fake_id(number), MediaMeta(
            type="image", width=800, height=600, keywords=["odd" if number % 2 else "even"],
            date=f"2020-{number % 12 + 1:02d}-{number % 28 + 1:02d}T12:{number % 60:02d}:00",
        ))  # fmt: skip
        storage.write(fake_id(number), preview_kind(320), b"x")
        records.append(record(f"p/{number}.jpg", number))
    catalog = tmp_path / "catalog.db"
    build_catalog(catalog, storage.root, [SourceFiles("/p", records)])
    searcher = Searcher(open_reader(catalog))
    assert searcher.count("tag:odd") == 150 and searcher.count("favorite:true") == 0
    everything = searcher.ids("")
    writer = open_writer(catalog)
    record_events(writer, [new_event(everything[:250], user="ann", add_tags=["trip"])])
    record_events(writer, [new_event(everything[10:12], user="ann", favorite=True)])
    assert searcher.ids("tag:trip") == everything[:250]
    assert searcher.ids("favorite:true") == everything[10:12]
    assert searcher.count("tag:odd tag:trip") == len(
        [i for i in everything[:250] if i in set(searcher.ids("tag:odd"))]
    )
    assert searcher.ids("order by count(tags) desc", limit=1)[0] in everything[:250]
    record_events(writer, [new_event(everything[:1], user="ann", remove_tags=["trip"])])
    assert searcher.ids("tag:trip") == everything[1:250]
    assert searcher.ids("tag:trip favorite:true") == everything[10:12]
    writer.close()
    searcher.connection.close()
