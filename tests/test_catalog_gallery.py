"""The scripting API (``open_gallery`` → ``Gallery``) and the build/search commands."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

import homegallery
from factories import fake_id, record
from homegallery import CatalogError, Entry, Gallery, QueryError, open_gallery
from homegallery.catalog import SourceFiles, build_catalog
from homegallery.cli.main import main
from homegallery.extract.schema import MediaMeta, Place, preview_kind, write_meta, write_place
from homegallery.storage import Storage


def make_gallery(folder: Path, count: int = 5) -> Path:
    """A config with one source, its storage and a built catalog; returns the config file."""
    (folder / "photos").mkdir(parents=True)
    config_file = folder / "gallery.yml"
    config_file.write_text(
        "sources:\n  - dir: photos\nstorage:\n  dir: storage\ndatabase:\n  file: catalog.db\n"
    )
    storage = Storage(folder / "storage")
    records = []
    for number in range(1, count + 1):
        write_meta(
            storage,
            fake_id(number),
            MediaMeta(type="image", width=400 + number, height=300, make="Canon",
                      date=f"2020-05-{number:02d}T10:00:00", keywords=["sea"] if number < 3 else []),
        )  # fmt: skip
        storage.write(fake_id(number), preview_kind(320), b"x")
        records.append(record(f"2020/IMG_{number}.jpg", number))
    write_place(storage, fake_id(1), Place(source="offline", country="Italy", city="Rome"))
    build_catalog(
        folder / "catalog.db", storage.root, [SourceFiles(str(folder / "photos"), records)]
    )
    return config_file


def test_the_api_is_exported_from_the_package() -> None:
    for name in ("open_gallery", "Gallery", "Entry", "QueryError", "CatalogError"):
        assert name in homegallery.__all__


def test_search_entry_iterate_and_tag(tmp_path: Path) -> None:
    gallery = open_gallery(make_gallery(tmp_path))
    assert isinstance(gallery, Gallery) and len(gallery) == 5

    found = gallery.search("sea")
    assert all(isinstance(entry, Entry) for entry in found)
    assert [entry.id for entry in found] == [fake_id(2), fake_id(1)]  # newest first
    assert [e.id for e in gallery.search("", limit=2, offset=1)] == [fake_id(4), fake_id(3)]
    assert gallery.search_ids("city:rome") == [fake_id(1)]
    assert gallery.count("make:canon width > 403") == 2

    entry = gallery.entry(fake_id(1))
    assert entry is not None and (entry.city, entry.width, entry.size) == ("Rome", 401, 1000)
    assert entry.previews == [Storage(tmp_path / "storage").relative(fake_id(1), preview_kind(320))]
    assert gallery.entry(fake_id(99)) is None
    assert sorted(e.id for e in gallery) == [fake_id(n) for n in range(1, 6)]

    assert gallery.tag_counts("", 10) == [("sea", 2)]
    assert gallery.tag([fake_id(3), fake_id(4)], add=["Holiday", "sea"], user="ann") == 2
    assert gallery.tag(fake_id(1), remove="sea", user="bob") == 1
    assert gallery.search_ids("tag:sea order by date asc") == [fake_id(2), fake_id(3), fake_id(4)]
    # the snapshot patched by the events counts them too
    assert gallery.tag_counts("", 10) == [("sea", 3), ("holiday", 2)]
    assert gallery.tag_counts("not city:rome", 1) == [("sea", 3)]
    assert gallery.favorite(fake_id(5), user="ann") == 1 and gallery.rate(fake_id(5), 3) == 1
    assert gallery.search_ids("favorite:yes rating:3") == [fake_id(5)]
    assert [(e.user, e.add_tags, e.remove_tags) for e in gallery.events()][:2] == [
        ("ann", ["Holiday", "sea"], []),
        ("bob", [], ["sea"]),
    ]
    exported = tmp_path / "events.jsonl"
    assert gallery.export_events(exported) == 4
    assert gallery.import_events(exported) == (0, 4)
    gallery.close()


def test_numbers_of_every_match_in_order(tmp_path: Path) -> None:
    gallery = open_gallery(make_gallery(tmp_path))
    ids, (width, year, latitude) = gallery.numbers(
        "order by date asc", ("width", "year", "latitude")
    )
    assert ids.tolist() == [fake_id(n) for n in range(1, 6)]
    assert width.tolist() == [401.0, 402.0, 403.0, 404.0, 405.0]
    assert year.tolist() == [2020.0] * 5
    assert np.isnan(latitude).all()  # unknown is NaN, not 0
    ids, (width,) = gallery.numbers("tag:sea", ("width",))
    assert ids.tolist() == [fake_id(2), fake_id(1)] and width.tolist() == [402.0, 401.0]
    with pytest.raises(KeyError):
        gallery.numbers("", ("text",))  # only numeric columns
    with pytest.raises(QueryError):
        gallery.numbers("year >", ("width",))


def test_bad_queries_and_arguments_say_what_is_wrong(tmp_path: Path) -> None:
    gallery = open_gallery(make_gallery(tmp_path))
    with pytest.raises(QueryError) as caught:
        gallery.search("year >= soon")
    assert caught.value.column == 9 and "number" in caught.value.expected
    with pytest.raises(ValueError, match="limit"):
        gallery.search("", limit=-1)
    with pytest.raises(CatalogError, match="no similarity vectors in this catalog yet"):
        gallery.similar(fake_id(1))
    with pytest.raises(QueryError, match="no similarity vectors"):
        gallery.search(f"similar:{fake_id(1)}")
    with pytest.raises(QueryError, match="matches more than one entry"):
        gallery.search(f"similar:{fake_id(1)[:8]}")


def test_open_gallery_from_config_folder_or_photo_folder(
    tmp_path: Path, isolated_home: Path
) -> None:
    config_file = make_gallery(tmp_path / "g")
    assert open_gallery(tmp_path / "g").catalog_path == tmp_path / "g" / "catalog.db"
    assert open_gallery(str(config_file)).count() == 5
    assert open_gallery(homegallery.load_config(config_file)).count() == 5

    photos = tmp_path / "just-photos"
    photos.mkdir()
    plain = open_gallery(photos)
    assert plain.config.sources[0].path == photos.resolve()
    assert isolated_home in plain.catalog_path.parents
    with pytest.raises(CatalogError, match="no catalog yet"):
        plain.search("")
    with pytest.raises(CatalogError, match="no such config file or folder"):
        open_gallery(tmp_path / "missing")


def test_search_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_file = str(make_gallery(tmp_path))
    assert main(["search", "sea", "--config", config_file]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith(fake_id(2)[:12]) and "2020/IMG_2.jpg" in lines[0]

    assert main(["search", "", "--json", "--limit", "3", "-c", config_file]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert len(entries) == 3 and entries[0]["id"] == fake_id(5) and entries[0]["make"] == "Canon"

    assert main(["search", "make:canon", "--count", "-c", config_file]) == 0
    assert capsys.readouterr().out.strip() == "5"

    assert main(["search", "year >= soon", "-c", config_file]) == 1
    error = capsys.readouterr().err
    assert "column 9: expected a number for year" in error
    assert "  year >= soon\n          ^" in error


def test_build_command_needs_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_file = tmp_path / "gallery.yml"
    config_file.write_text("database:\n  file: catalog.db\n")
    assert main(["build", "-c", str(config_file)]) == 1
    assert "no sources" in capsys.readouterr().err


class _Silent:
    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


_XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
    '22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
    "<dc:subject><rdf:Bag><rdf:li>Holiday</rdf:li><rdf:li>Sea</rdf:li></rdf:Bag>"
    "</dc:subject></rdf:Description></rdf:RDF></x:xmpmeta>"
)


def test_index_extract_build_and_search_a_real_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The whole pipeline on generated photos, through the stages' own entry points."""
    from homegallery.extract.runner import extract_gallery
    from homegallery.index import update_index
    from homegallery.samples import write_sample_photo

    photos = tmp_path / "photos"
    (photos / "2019").mkdir(parents=True)
    write_sample_photo(photos / "2019" / "IMG_1.jpg", 900, 600, seed=1, gps=(41.9, 12.5))
    write_sample_photo(photos / "2019" / "IMG_2.jpg", 400, 640, seed=2)
    (photos / "2019" / "IMG_2.xmp").write_text(_XMP)
    (photos / "copy").mkdir()
    (photos / "copy" / "IMG_1.jpg").write_bytes((photos / "2019" / "IMG_1.jpg").read_bytes())
    config_file = tmp_path / "gallery.yml"
    config_file.write_text(
        "sources:\n  - dir: photos\nstorage:\n  dir: storage\ndatabase:\n  file: catalog.db\n"
    )
    gallery = open_gallery(config_file)
    update_index(gallery.config)
    extract_gallery(
        gallery.config, steps=("meta", "preview", "geo"), workers=1,
        progress_factory=lambda label, total: _Silent(),
    )  # fmt: skip

    summary = gallery.build()
    assert (summary.entries, summary.added, summary.files) == (2, 2, 4)
    (rome,) = gallery.search("city:rome")
    assert (rome.width, rome.height) == (900, 600) and rome.make and rome.model
    assert rome.date is not None and rome.date.endswith("+01:00") and rome.country == "Italy"
    assert sorted(f.path for f in rome.files) == ["2019/IMG_1.jpg", "copy/IMG_1.jpg"]
    (tagged,) = gallery.search("tags all in (holiday, sea) portrait")
    assert tagged.tags == ["Holiday", "Sea"] and [f.kind for f in tagged.files] == [
        "image",
        "sidecar",
    ]
    # 640 px high: the 320 and 128 previews only, largest first
    assert [p.rsplit("-", 1)[1] for p in tagged.previews] == ["320.jpg", "128.jpg"]
    assert main(["build", "-c", str(config_file)]) == 0
    assert "2 entries from 4 files (0 added, 0 changed, 0 removed, 2 unchanged)" in (
        capsys.readouterr().out
    )


def test_text_columns_hold_their_text_and_an_offset_per_row(tmp_path: Path) -> None:
    """A million rows of cameras, places, folders and days: no object per value."""
    gallery = open_gallery(make_gallery(tmp_path))
    assert gallery.count("make:canon") == 5 and gallery.count("2020-05-01") == 1
    assert gallery.count("dir:2020 ext:jpg") == 5
    columns = gallery._searcher().columns()
    for column in (columns.text("make"), columns.days(), columns.file_column("dir"),
                   columns.file_column("ext")):  # fmt: skip
        text = sum(len(column.value(row).encode()) + 1 for row in range(len(column)))
        assert len(column) == 5 and column.nbytes <= 2 * text + 8 * (len(column) + 1)
    assert columns.days().value(0) == "2020-05-05"
    assert gallery.count("make:canon dir:2020 2020-05-03") == 1
    gallery.close()


def test_substring_search_of_unique_values_and_of_few_values(tmp_path: Path) -> None:
    """File names and paths (a value each) and cameras (a few values) are searched alike."""
    gallery = open_gallery(make_gallery(tmp_path, count=8))
    assert gallery.search_ids("file:img_3") == gallery.search_ids("img_3") == [fake_id(3)]
    assert gallery.count("make:can") == 8
    gallery.close()


def test_warming_reads_what_a_bare_word_needs_ahead(tmp_path: Path) -> None:
    """After ``warm`` the first bare word and the timeline's numbers read no column."""
    gallery = open_gallery(make_gallery(tmp_path))
    assert gallery.warm() > 10
    statements: list[str] = []
    gallery._searcher().connection.set_trace_callback(statements.append)
    assert gallery.search_ids("canon") and gallery.numbers("", ("width", "latitude"))
    assert not [statement for statement in statements if "group_concat" in statement]
    assert gallery.warm(stop=lambda: True) == 0  # stopped before its first column
    gallery.close()


def test_threads_asking_for_one_column_at_once_read_it_once(tmp_path: Path) -> None:
    gallery = open_gallery(make_gallery(tmp_path))
    gallery.count("")  # the shared snapshot, before the threads ask for a column of it
    statements: list[str] = []
    start = threading.Barrier(4)

    def search() -> None:
        gallery._searcher().connection.set_trace_callback(statements.append)
        start.wait()
        assert gallery.count("canon") == 5
        gallery.close()

    threads = [threading.Thread(target=search) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len([s for s in statements if "group_concat(ifnull(make" in s]) == 1


def test_readers_map_the_catalog_and_see_a_build_that_grows_it(tmp_path: Path) -> None:
    """Readers read pages through a memory map; a build by another connection that
    makes the file larger is seen all the same."""
    config_file = make_gallery(tmp_path, count=3)
    gallery = open_gallery(config_file)
    assert gallery.reader().execute("PRAGMA mmap_size").fetchone()[0] > 0
    assert gallery.count("") == 3
    photos = tmp_path / "photos"
    storage = Storage(tmp_path / "storage")
    for number in range(4, 400):
        write_meta(storage, fake_id(number), MediaMeta(type="image", width=10, height=10))
    records = [record(f"p/{number}.jpg", number) for number in range(1, 400)]
    build_catalog(tmp_path / "catalog.db", storage.root, [SourceFiles(str(photos), records)])
    assert gallery.count("") == 399 and len(gallery.search("", limit=500)) == 399
    gallery.close()
