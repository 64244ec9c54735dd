"""The query language over a fixed set of ten entries: query → the ids it must find.

The entries are written with the catalog's own row writer into a real SQLite catalog
and searched through :class:`Searcher`, so each case exercises lexer, parser,
checker, the column snapshot and the engine together.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from factories import entry_file, media_id
from homegallery.catalog.entry import DetectedObject, Entry, EntryFile, Face, Label
from homegallery.catalog.fold import fold
from homegallery.catalog.query import QueryError, check_query
from homegallery.catalog.query.checked import And, Duplicates, FreeText, LabelIn, ValueTest
from homegallery.catalog.query.fields import key_names, lookup
from homegallery.catalog.rows import insert_entries
from homegallery.catalog.schema import open_reader, open_writer
from homegallery.catalog.search import Searcher

MB = 1024 * 1024


IDS = {
    name: media_id(prefix)
    for name, prefix in zip(
        "ABCDEFGHIJ", ("a1", "b2", "c3", "d4", "e5", "f6", "07", "08", "09", "10"), strict=True
    )
}


def _file(
    path: str, size: int, name: str, kind: str = "image", source: str = "/photos"
) -> EntryFile:
    return entry_file(path, IDS[name], kind, size, source)


def _previews(name: str, count: int) -> list[str]:
    entry_id = IDS[name]
    sizes = [1920, 1280, 800, 320, 128][-count:] if count else []
    return [f"{entry_id[:2]}/{entry_id[2:4]}/{entry_id[4:]}-image-preview-{s}.jpg" for s in sizes]


def _faces(count: int) -> list[Face]:
    return [Face(box=(0.1, 0.1, 0.2, 0.2), score=0.9) for _ in range(count)]


ENTRIES = [
    Entry(
        id=IDS["A"], type="image", date="2021-06-30T14:05:00+02:00", year=2021, month=6, day=30,
        hour=14, minute=5, width=4000, height=3000, make="Canon", model="Canon EOS 5D",
        lens="EF 50mm f/1.8", iso=100, aperture=2.8, exposure_time=0.004, focal_length=50,
        latitude=43.77, longitude=11.25, altitude=50, country="Italy", country_code="IT",
        state="Tuscany", city="Florence", road="Via Roma", tags=["sea", "vacation", "Sun"],
        objects=[DetectedObject(class_="couch", score=0.9)], faces=_faces(3), rating=5,
        favorite=True,
        files=[
            _file("2021/italy/IMG_0001.JPG", 5 * MB, "A"),
            EntryFile(source="/photos", path="2021/italy/IMG_0001.xmp", size=2000,
                      kind="sidecar", id="ff" * 32),
        ],
        previews=_previews("A", 5),
    ),
    Entry(
        id=IDS["B"], type="rawImage", date="2021-07-01T09:00:00", year=2021, month=7, day=1,
        hour=9, minute=0, width=6000, height=4000, make="Nikon", model="NIKON D750", iso=800,
        aperture=4.0, exposure_time=0.01, focal_length=24, latitude=46.5, longitude=10.5,
        altitude=2000, country="Italy", state="Trentino", city="Bolzano",
        tags=["alps", "vacation"], files=[_file("2021/alps/DSC_0002.NEF", 25 * MB, "B", "raw")],
        previews=_previews("B", 3),
    ),
    Entry(
        id=IDS["C"], type="video", date="2022-01-10T11:39:53+01:00", year=2022, month=1, day=10,
        hour=11, minute=39, width=1920, height=1080, duration=95.0, make="Apple",
        model="iPhone 12", latitude=52.52, longitude=13.40, country="Germany", state="Berlin",
        city="Berlin", tags=["family"], faces=_faces(5),
        objects=[DetectedObject(class_="person", score=0.8), DetectedObject(class_="dog", score=0.7)],
        files=[_file("2022/berlin/VID_0003.MP4", 50 * MB, "C", "video")],
        previews=_previews("C", 2),
    ),
    Entry(
        id=IDS["D"], type="image", date="2019-12-24T18:30:00", year=2019, month=12, day=24,
        hour=18, minute=30, width=3000, height=4000, make="Sony", model="ILCE-7M3", iso=3200,
        tags=["christmas", "family"], faces=_faces(2), title="Christmas Eve",
        labels=[Label(id="n02088364", name="beagle", score=0.7)],
        files=[_file("2019/xmas/DSC0004.jpg", 3 * MB, "D")], previews=_previews("D", 5),
    ),
    Entry(id=IDS["E"], type="image", files=[_file("misc/scan_0005.png", 100_000, "E")]),
    Entry(
        id=IDS["F"], type="image", date="2018-01-10T11:39:53", year=2018, month=1, day=10,
        hour=11, minute=39, width=12000, height=2000, make="Canon", model="Canon EOS R",
        latitude=-33.86, longitude=151.2, country="Australia", state="New South Wales",
        city="Sydney", tags=["sea", "beach"], files=[_file("2018/sydney/PANO_0006.jpg", 8 * MB, "F")],
        labels=[Label(id="n04285008", name="sports car", score=0.5)],
        previews=_previews("F", 4),
    ),
    Entry(
        id=IDS["G"], type="image", date="2020-03-15T08:00:00", year=2020, month=3, day=15,
        hour=8, minute=0, width=2000, height=2000, make="Fujifilm", model="X100V",
        latitude=48.14, longitude=11.58, country="Germany", state="Bavaria", city="München",
        tags=["Café", "food"], objects=[DetectedObject(class_="cup", score=0.6)],
        labels=[
            Label(id="n07920052", name="espresso", score=0.8),
            Label(id="n03063599", name="coffee mug", score=0.3),
        ],
        files=[_file("2020/munich/IMG_0007.jpg", 2 * MB, "G")], previews=_previews("G", 5),
    ),
    Entry(
        id=IDS["H"], type="video", date="2023-08-01T20:00:00", year=2023, month=8, day=1,
        hour=20, minute=0, width=1080, height=1920, duration=30.5, make="Google",
        model="Pixel 7", latitude=36.0, longitude=-5.6, country="Spain", state="Andalusia",
        city="Tarifa", tags=["sea", "sun", "vacation"],
        files=[
            _file("2023/beach/VID_0008.mp4", 20 * MB, "H", "video"),
            _file("phone/VID_0008.mp4", 20 * MB, "H", "video", source="/mnt/disk/backup"),
        ],
        previews=_previews("H", 2),
    ),
    Entry(
        id=IDS["I"], type="rawImage", date="2021-06-30T16:00:00", year=2021, month=6, day=30,
        hour=16, minute=0, width=5000, height=3000, make="Canon", model="Canon EOS 5D",
        latitude=43.77, longitude=11.26, country="Italy", state="Tuscany", city="Florence",
        tags=["vacation", "private"], files=[_file("2021/italy/IMG_0009.CR2", 30 * MB, "I", "raw")],
        previews=_previews("I", 3),
    ),
    Entry(
        id=IDS["J"], type="image", date="2017-05-05T05:05:00", year=2017, month=5, day=5, hour=5,
        minute=5, width=800, height=600, city="New York", country="United States",
        tags=["new york"], rating=2, files=[_file("2017/ny/photo one.jpg", 200_000, "J")],
        previews=_previews("J", 2),
    ),
]  # fmt: skip

ALL = "ABCDEFGHIJ"


def _others(names: str) -> str:
    return "".join(name for name in ALL if name not in names)


# query → names of the entries it finds (any order)
CASES: list[tuple[str, str]] = [
    ("", ALL),
    ("   ", ALL),
    ("sea", "AFH"),
    ("SEA", "AFH"),
    ("vacation", "ABHI"),
    ("sea vacation", "AH"),
    ("sea and vacation", "AH"),
    ("sea AND vacation", "AH"),
    ("sea or alps", "ABFH"),
    ("not sea", _others("AFH")),
    ("vacation not private", "ABH"),
    ("(sea or alps) and vacation", "ABH"),
    ("not (sea or vacation)", "CDEGJ"),
    ("NOT sea AND NOT vacation", "CDEGJ"),
    ("christmas AND family OR alps", "BD"),
    ("tag:sea or tag:family not type:video", "ADFH"),
    ("tag:sea", "AFH"),
    ("tags:Sun", "AH"),
    ("tag in (sea, alps)", "ABFH"),
    ("tags in (sea alps)", "ABFH"),
    ("tag:(sea, alps)", "ABFH"),
    ("tags all in (vacation, sea)", "AH"),
    ("tags all in (vacation, sea, sun)", "AH"),
    ("tags not in (sea, vacation)", "CDEGJ"),
    ("tag ~ mil", "CD"),
    ("tag != sea", _others("AFH")),
    ("tag:café", "G"),
    ("count(tags) > 2", "AH"),
    ("count(tags) = 0", "E"),
    ("count(faces) > 2", "AC"),
    ("faces", "ACD"),
    ('"faces"', ""),
    ("not faces", "BEFGHIJ"),
    ("person:anna", "AC"),
    ("person:Bob", "C"),
    ("person:ann", ""),
    ("person~ann", "AC"),
    ("people in (bob, carl)", "C"),
    ("anna", "AC"),
    ("count(people) = 5", "C"),
    ("personid:face-0a1b2c", "D"),
    ("count(faces) >= 2", "ACD"),
    ("faces > 4", "C"),
    ("year:2021", "ABI"),
    ("y:2021", "ABI"),
    ("Year:2021", "ABI"),
    ("year >= 2021", "ABCHI"),
    ("year in [2019:2020]", "DG"),
    ("year in (2017, 2018)", "FJ"),
    ("year != 2021", _others("ABI")),
    ("not year:2021", _others("ABI")),
    ("m:6", "AI"),
    ("month:june", "AI"),
    ("d:30", "AI"),
    ("H:14", "A"),
    ("M:5", "AJ"),
    ("date:2021-06", "AI"),
    ("date:2021-06-30", "AI"),
    ("date > 2021-06-30", "BCH"),
    ("date <= 2018", "FJ"),
    ("date in [2019-12:2020-03]", "DG"),
    ("2018-01-10", "F"),
    ("type:video", "CH"),
    ("type:raw", "BI"),
    ("type:rawImage", "BI"),
    ("type:image", "ADEFGJ"),
    ("type != video", _others("CH")),
    ("width > 4000", "BFI"),
    ("width >= 4000 height < 4000", "AFI"),
    ("landscape", "ABCFIJ"),
    ("portrait", "DH"),
    ("square", "G"),
    ("panorama", "F"),
    ("ratio:panorama", "F"),
    ("ratio > 1.5", "CFI"),
    ("make:canon", "AFI"),
    ("model ~ 'eos 5d'", "AI"),
    ("camera:'canon eos r'", "F"),
    ("country:italy", "ABI"),
    ("country = germany", "CG"),
    ("city:münchen", "G"),
    ("city:MÜNCHEN", "G"),
    ("place:tuscany", "AI"),
    ("florence", "AI"),
    ('"new york"', "J"),
    ("new york", "J"),
    ("food café", "G"),
    ("couch", "A"),
    ("'Christmas Eve'", "D"),
    ("title:christmas", "D"),
    ("lens:ef", "A"),
    ("exists geo", "ABCFGHI"),
    ("exists(latitude)", "ABCFGHI"),
    # `exists location`: a place name (HomeGallery); `exists geo`: a GPS position
    ("not exists location", "DE"),
    ("exists location", _others("DE")),
    ("not exists gps", "DEJ"),
    ("location:tuscany", "AI"),
    ("location ~ york", "J"),
    ("street:'via roma'", "A"),
    ("street ~ roma", "A"),
    ("exists title", "D"),
    ("lat in [40:50]", "ABGI"),
    ("lon < 0", "H"),
    ("latitude < 0", "F"),
    ("alt > 1000", "B"),
    ("duration > 1:30", "C"),
    ("duration > 30", "CH"),
    ("duration < 1m", "H"),
    ("iso >= 800", "BD"),
    ("aperture < 3", "A"),
    ("exposure <= 1/250", "A"),
    ("focal:50", "A"),
    ("file:img_0001", "A"),
    ("filename:IMG_0001.JPG", "A"),
    # file: the path in the source, filename: the name, path: the folder (as HomeGallery)
    ("file:italy/IMG_0001.JPG", "A"),
    ("file ~ italy/img", "AI"),
    ("file = 2021/italy/img_0001.jpg", "A"),
    ("file = img_0001.jpg", ""),
    ("filename = img_0001.jpg", "A"),
    ("filename:italy", ""),
    ("name:scan", "E"),
    ("path = 2021/italy", "AI"),
    ("path = misc", "E"),
    ("path:img_0001", ""),
    ("path:sydney", "F"),
    ("ext:nef", "B"),
    ("ext:.jpg", "ADFGJ"),
    ("ext:xmp", "A"),
    ("path:2021/italy", "AI"),
    # a folder and everything below it, by the source folder's name and the path in it
    ("folder:photos/2021/italy", "AI"),
    ("folder:Photos/2021/Italy/", "AI"),
    ("folder = photos/2021", "ABI"),
    ("folder:photos/2021/ital", ""),
    ("folder:photos/italy", ""),
    ("folder:backup/phone", "H"),
    ("folder:backup", "H"),
    ("folder:photos", _others("")),
    ("folder != photos/2021", _others("ABI")),
    ("folder:'photos/2017/ny'", "J"),
    ("file:'photo one'", "J"),
    # a source by its index's name (the folder's name unless the config names the index
    # file otherwise, as /mnt/disk/backup's `ext.idx`); its path on the server never
    ("index = ext", "H"),
    ("index != ext", _others("H")),
    ("index:EXT", "H"),
    ("index:backup", ""),
    ("source = ext", "H"),
    ("index = photos", _others("")),
    ("index ~ /mnt", ""),
    ("index ~ disk", ""),
    ("index:/", ""),
    ("count(files) > 1", "AH"),
    ("size > 10M", "BCHI"),
    ("size < 1m", "EJ"),
    # HomeGallery's filesize, with its units (B, K, KB, KiB, M, MB, MiB, G, ...: 1024)
    ("filesize > 10MB", "BCHI"),
    ("filesize < 1MiB", "EJ"),
    ("filesize < 150kb", "E"),
    ("filesize < 150000B", "E"),
    ("filesize in [2M:3M]", "DG"),
    ("filesize > 45M", "C"),
    ("filesize > 1G", ""),
    ("filesize <= 0.1m", "E"),
    ("count(previews) = 0", "E"),
    ("id:a1", "A"),
    ("id = b2", "B"),
    ("a1", "A"),
    ("id in (a1, b2)", "AB"),
    ("id != a1", _others("A")),
    ("object:couch", "A"),
    ("objects in (dog, cup)", "CG"),
    ("count(objects) = 2", "C"),
    ("label:dog", "D"),
    ("labels:beagle", "D"),
    ("label:animal", "D"),
    ("label:'sports car'", "F"),
    ("label:vehicle", "F"),
    ("dog", "CD"),
    ("vehicle", "F"),
    ("beverage", "G"),
    ("labels in (dog, coffee)", "DG"),
    ("labels all in (coffee, mug)", "G"),
    ("label ~ hound", "D"),
    ("label != dog", _others("D")),
    ("count(labels) = 2", "G"),
    ("exists label", "DFG"),
    ("not exists labels", _others("DFG")),
    ("object:dog", "C"),
    ("rating >= 4", "A"),
    ("rating:2", "J"),
    ("favorite:true", "A"),
    ("favorite:no", _others("A")),
    ("exists rating", "AJ"),
    ("nothingmatchesthis", ""),
    ("year:1900", ""),
]

# query → the exact order of the entries it finds
ORDERED: list[tuple[str, str]] = [
    ("year:2021 order by date asc", "AIB"),
    ("type:video order by width desc", "CH"),
    ("vacation order by count(tags) desc", "HABI"),
    ("vacation", "HBIA"),
    # without a direction: newest or largest first, as HomeGallery; asc reverses
    ("order by date", "HCBIAGDFJE"),
    ("order by date asc", "JFDGAIBCHE"),
    ("order by date desc", "HCBIAGDFJE"),
    ("type:video order by width", "CH"),
    ("type:video order by width asc", "HC"),
    ("type:video order by height", "HC"),
    ("type:video order by duration", "CH"),
    ("type:video order by duration asc", "HC"),
    ("type:image order by filesize", "FADGJE"),
    ("type:image order by filesize asc", "EJGDAF"),
    ("vacation order by count(tags)", "HABI"),
    ("vacation order by count(tags) asc", "BIHA"),
    ("sea order by country", "FAH"),
    ("sea order by year", "FAH"),
    ("sea ORDER BY year ASC", "FAH"),
]

# query → (column, part of what was expected)
ERRORS: list[tuple[str, int, str]] = [
    ("year:", 6, "a value"),
    ("(sea", 5, "')'"),
    ("sea)", 4, "a term or the end"),
    ("width > wide", 9, "number"),
    ("foo:bar", 1, "a key"),
    ("tags all in [1:2]", 13, "list"),
    ("'open", 1, "'"),
    ("year ~ 2", 1, "="),
    ("order by tags", 10, "one value"),
    ("order by label", 10, "one value"),
    ("date > yesterday", 8, "date"),
    ("type:panorama", 6, "image, rawImage or video"),
    ("count(year) > 1", 7, "tags"),
    ("similar:xyz", 9, "media id"),
    ("and sea", 1, "a term"),
    ("sea or", 7, "a term"),
    ("tag in ()", 9, "a value"),
    ("order by similar", 10, "similar:<id>"),
    ("year in (2020,)", 15, "a value"),
    ("count(tags) >", 14, "a value"),
    ("sea order by", 13, "a key"),
    ("duration > soon", 12, "duration"),
    ("year in [2020 2021]", 15, "':'"),
    ("exists (", 9, "a key"),
    ("make < canon", 1, ":, ~, = or !="),
    ("folder ~ photos", 1, ":, = or !="),
    ("folder:/", 8, "a folder as <source>/<path>"),
]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    catalog: Path = tmp_path_factory.mktemp("catalog") / "catalog.db"
    writer = open_writer(catalog)
    writer.execute("BEGIN IMMEDIATE")
    insert_entries(writer, [(entry, "") for entry in ENTRIES], 1)
    writer.execute(  # as a build records them: this source's index file is ext.idx
        "INSERT INTO catalog_info (key, value) VALUES ('index_names', ?)",
        ('{"/mnt/disk/backup": "ext"}',),
    )
    # People are values the build's grouping writes (catalog/people.py), by name and key.
    for name, key, value in [("A", "person", "anna"), ("C", "person", "anna"),
                             ("C", "person", "bob"), ("D", "person_id", "face-0a1b2c")]:  # fmt: skip
        writer.execute(
            "INSERT INTO entry_values (entry, key, value) SELECT rowid, ?, ? FROM entries "
            "WHERE id = ?",
            (key, value, IDS[name]),
        )
    writer.execute("COMMIT")
    writer.close()
    reader = open_reader(catalog)
    yield Searcher(reader)
    reader.close()


def _names(ids: list[str]) -> str:
    by_id = {media_id: name for name, media_id in IDS.items()}
    return "".join(by_id[media_id] for media_id in ids)


def test_the_table_is_big_enough() -> None:
    assert len(CASES) + len(ORDERED) >= 60
    assert len({query for query, _ in CASES}) == len(CASES)


@pytest.mark.parametrize(
    ("query", "expected"), CASES, ids=[query or "(empty)" for query, _ in CASES]
)
def test_query_finds(searcher: Searcher, query: str, expected: str) -> None:
    assert sorted(_names(searcher.ids(query))) == sorted(expected)
    assert searcher.count(query) == len(expected)
    assert [entry.id for entry in searcher.entries(query)] == searcher.ids(query)


@pytest.mark.parametrize(("query", "expected"), ORDERED, ids=[query for query, _ in ORDERED])
def test_query_order(searcher: Searcher, query: str, expected: str) -> None:
    assert _names(searcher.ids(query)) == expected
    assert "".join(_names([entry.id]) for entry in searcher.entries(query)) == expected


def test_limit_and_offset_page_through_the_order(searcher: Searcher) -> None:
    assert _names(searcher.ids("order by date asc", limit=3)) == "JFD"
    assert _names(searcher.ids("order by date asc", limit=3, offset=3)) == "GAI"
    assert _names(searcher.ids("order by date asc", offset=8)) == "HE"


@pytest.mark.parametrize(("query", "column", "expected"), ERRORS, ids=[q for q, _, _ in ERRORS])
def test_query_error_names_column_and_expectation(
    searcher: Searcher, query: str, column: int, expected: str
) -> None:
    with pytest.raises(QueryError) as caught:
        searcher.ids(query)
    assert caught.value.column == column, str(caught.value)
    assert expected in caught.value.expected, caught.value.expected
    assert str(caught.value).startswith(f"column {column}: ")


def test_user_text_never_reaches_sql(searcher: Searcher) -> None:
    hostile = "x'); DROP TABLE entries; --"
    assert searcher.ids(f'"{hostile}"') == []
    assert searcher.ids(f'tag:"{hostile}"') == []
    assert searcher.ids("tag:%") == [] and searcher.ids("file:%") == []
    assert len(searcher.ids("")) == len(ENTRIES)


@pytest.mark.parametrize(
    ("query", "expected"), CASES, ids=[query or "(empty)" for query, _ in CASES]
)
def test_tag_counts_count_the_tags_of_the_matches(
    searcher: Searcher, query: str, expected: str
) -> None:
    by_name = {name: entry for name, entry in zip(ALL, ENTRIES, strict=True)}
    counted = Counter(fold(tag) for name in expected for tag in by_name[name].tags)
    wanted = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    assert searcher.tag_counts(query, 1000) == wanted
    assert searcher.tag_counts(query, 2) == wanted[:2]


def test_tag_counts_rank_by_use_then_name(searcher: Searcher) -> None:
    assert searcher.tag_counts("", 3) == [("vacation", 4), ("sea", 3), ("family", 2)]
    assert searcher.tag_counts("type:video", 10) == [
        ("family", 1), ("sea", 1), ("sun", 1), ("vacation", 1),
    ]  # fmt: skip


def test_query_words_fold_as_the_catalog_stores_text() -> None:
    """Query words go through the catalog's fold table, not the running Python's
    ``str.casefold``: U+2C2F came with Unicode 14, which Python 3.10 does not know,
    and stored text holds its fold U+2C5F on every Python."""
    assert check_query("\u2c2f tag:\u2c2f").filter == And(
        (FreeText("\u2c5f"), ValueTest("tag", "\u2c5f", contains=False))
    )
    assert fold("\u2c2f") == "\u2c5f"


def test_labels_and_duplicates_are_resolved_by_the_checker() -> None:
    """Label words become class ids and ``duplicates`` a term of its own in the checked
    tree, so the one engine needs neither the label table nor the query text; a
    ``duplicates`` query without a ``similar:`` term or an order lists its groups."""
    beagle = "n02088364"
    label = check_query("label:beagle").filter
    assert isinstance(label, LabelIn) and label.classes == (beagle,)
    word = check_query("beagle").filter
    assert isinstance(word, FreeText) and beagle in word.labels
    grouped = check_query("tag:x duplicates:0.95")
    assert grouped.duplicates == (Duplicates(0.95),) and grouped.by_groups
    assert grouped.filter == And((ValueTest("tag", "x", contains=False), Duplicates(0.95)))
    assert not check_query("duplicates order by date").by_groups
    ranked = check_query("duplicates similar:ab")
    assert ranked.by_similarity and not ranked.by_groups
    assert check_query("'duplicates'").filter == FreeText("duplicates")


@pytest.mark.parametrize(
    ("query", "suggestion"),
    [
        ("contry:italy", "country"),
        ("Contry = italy", "country"),
        ("tgas in (sea)", "tags"),
        ("count(tagz) > 1", "tag"),
        ("exists locaton", "location"),
        ("exists similarty", "similarity"),
        ("order by dat", "date"),
        ("order by randon", "random"),
        ("sea order by filesise", "filesize"),
        ("type:vidoe", "video"),
        ("ratio:panoramma", "panorama"),
    ],
)
def test_a_misspelt_key_or_word_gets_a_suggestion(
    searcher: Searcher, query: str, suggestion: str
) -> None:
    with pytest.raises(QueryError) as caught:
        searcher.ids(query)
    assert f"did you mean `{suggestion}`?" in str(caught.value)


@pytest.mark.parametrize("query", ["foo:bar", "exists qwerty", "type:panorama", "zz:1"])
def test_an_unknown_key_without_a_close_one_gets_no_guess(searcher: Searcher, query: str) -> None:
    with pytest.raises(QueryError) as caught:
        searcher.ids(query)
    assert "did you mean" not in str(caught.value)


def test_order_by_random_shuffles_the_same_way_for_every_page(searcher: Searcher) -> None:
    shuffled = searcher.ids("order by random")
    assert sorted(shuffled) == sorted(IDS.values())
    pages = [searcher.ids("order by random", limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [media_id for page in pages for media_id in page] == shuffled
    assert searcher.ids("order by random desc") == shuffled[::-1]
    assert _names(searcher.ids("type:video order by random")) in ("CH", "HC")
    # the key of an id depends on the id and the seed, not on the rest of the catalog
    columns = searcher.columns()
    orders = {tuple(np.argsort(columns.random_keys(seed)).tolist()) for seed in range(1000, 1010)}
    assert len(orders) == 10


@pytest.mark.parametrize("key", key_names())
def test_every_key_and_alias_reads_columns_the_snapshot_has(searcher: Searcher, key: str) -> None:
    """Each key of the one table resolves to columns the catalog holds: asking whether
    it exists, and ordering by it where it orders, runs (or is a QueryError)."""
    field = lookup(key)
    assert field is not None
    found = searcher.ids(f"exists {key}")
    assert set(found) <= set(IDS.values())
    if field.orderable and field.kind not in ("similar", "duplicates"):
        assert sorted(searcher.ids(f"order by {key}")) == sorted(IDS.values())
