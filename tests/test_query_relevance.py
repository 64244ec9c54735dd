"""Word searches ranked by relevance: the model's probability, where the word was found,
how general a label's word is, how many words match; the same in Searcher, Gallery,
the command and the HTTP API, with pages that agree.

The catalog is built for real from stored metadata and labels (the extract stage's own
writers); dates are set so that the timeline order is the opposite of the ranking
wherever the two could be confused.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from litestar.testing import TestClient

from factories import Indexed, fake_id
from factories import record as indexed_record
from homegallery.bench.relevance import write_catalog
from homegallery.catalog import QueryError, SourceFiles, build_catalog
from homegallery.catalog.columns import TextColumn
from homegallery.catalog.entry import DetectedObject, Entry
from homegallery.catalog.query.check import check_query
from homegallery.catalog.query.labels import class_weights, classes_matching
from homegallery.catalog.rows import insert_entries
from homegallery.catalog.schema import open_reader, open_writer
from homegallery.catalog.search import Searcher
from homegallery.catalog.vector_build import ModelOutputs
from homegallery.cli.main import main
from homegallery.config import Config, Database, Storage
from homegallery.extract.schema import Labels, MediaMeta, StoredLabel, write_labels, write_meta
from homegallery.gallery import Gallery
from homegallery.server import create_app
from homegallery.storage import Storage as StorageFolder

MODEL = ModelOutputs("m-1", label_threshold=0.1)
BEAGLE = "n02088364"
SPORTS_CAR = "n04285008"


def beagle(score: float) -> StoredLabel:
    return StoredLabel(id=BEAGLE, name="beagle", score=score)


# number → (metadata, labels, file name); a higher number is a newer photo
PHOTOS: dict[int, tuple[MediaMeta, list[StoredLabel], str]] = {
    1: (MediaMeta(type="image", date="2020-01-01T10:00:00"), [beagle(0.9)], "a.jpg"),
    2: (MediaMeta(type="image", date="2020-02-01T10:00:00"), [beagle(0.3)], "b.jpg"),
    3: (MediaMeta(type="image", date="2020-03-01T10:00:00"), [beagle(0.6)], "c.jpg"),
    # a tag the user wrote is surer than any model
    4: (MediaMeta(type="image", date="2019-01-01T10:00:00", keywords=["Dog"]), [], "d.jpg"),
    # a file name is weaker than a label the model is fairly sure of
    5: (MediaMeta(type="image", date="2021-01-01T10:00:00"), [], "dog.jpg"),
    # a title that is the word beats the same word in a camera's name
    6: (MediaMeta(type="image", date="2018-01-01T10:00:00", title="Rome"), [], "e.jpg"),
    7: (MediaMeta(type="image", date="2022-01-01T10:00:00", make="Rome Optics"), [], "f.jpg"),
    # the same score as 1 (both a beagle at 0.9): ties go in timeline order
    8: (MediaMeta(type="image", date="2020-06-01T10:00:00"), [beagle(0.9)], "g.jpg"),
    9: (
        MediaMeta(type="image", date="2023-01-01T10:00:00"),
        [StoredLabel(id=SPORTS_CAR, name="sports car", score=0.95)],
        "h.jpg",
    ),
}


def ids(*numbers: int) -> list[str]:
    return [fake_id(number) for number in numbers]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    root = tmp_path_factory.mktemp("relevance")
    storage = StorageFolder(root / "storage")
    records: list[Indexed] = []
    for number, (meta, labels, name) in PHOTOS.items():
        found = indexed_record(name, number)
        records.append(found)
        write_meta(storage, found.id, meta)
        if labels:
            write_labels(storage, found.id, "m-1", Labels(model="m", version="1", labels=labels))
    catalog = root / "catalog.db"
    build_catalog(catalog, storage.root, [SourceFiles("/p", records)], outputs=MODEL)
    return Config(storage=Storage(dir=str(storage.root)), database=Database(file=str(catalog)))


def search(config: Config, query: str, limit: int | None = None, offset: int = 0) -> list[str]:
    reader = open_reader(Path(config.database.file))
    try:
        return Searcher(reader).ids(query, limit, offset)
    finally:
        reader.close()


def test_a_tag_comes_first_then_labels_by_probability_then_a_file_name(config: Config) -> None:
    # tag "dog" (1.0) > beagle 0.9 (two, newest first) > 0.6 > 0.3 ≈ file name dog.jpg
    found = search(config, "dog")
    assert found[:5] == ids(4, 8, 1, 3, 2)
    assert found[5:] == ids(5)
    # in date order with `order by date`, and the count does not change
    assert search(config, "dog order by date") == ids(5, 8, 3, 2, 1, 4)


def test_a_title_ranks_above_the_same_word_in_a_camera(config: Config) -> None:
    assert search(config, "rome") == ids(6, 7)
    assert search(config, "rome order by relevance asc") == ids(7, 6)


def test_a_label_by_its_own_name_ranks_above_one_by_a_general_term() -> None:
    weights = {
        word: dict(zip(classes_matching(word, False), class_weights(word), strict=True))[BEAGLE]
        for word in ("beagle", "hound", "dog", "animal")
    }
    assert weights["beagle"] == 1.0
    assert 1.0 > weights["hound"] > weights["dog"] > weights["animal"] > 0


def test_words_add_up_and_rank_entries_that_match_more_of_them_first(config: Config) -> None:
    # "beagle or dog": beagles (both words) above the tag (one word)
    both = search(config, "beagle or dog")
    assert both.index(fake_id(1)) < both.index(fake_id(4))
    # "car" is a word of the sports car's class, and only part of a beagle's "carnivore"
    found = search(config, "car")
    assert found[0] == fake_id(9) and set(found[1:]) == set(ids(1, 2, 3, 8))


def test_queries_without_words_keep_the_timeline_order(config: Config) -> None:
    assert check_query("year:2020").order is None
    assert check_query("dog year:2020").order is not None
    assert search(config, "year:2020") == ids(8, 3, 2, 1)
    assert search(config, "dog year:2020") == ids(8, 1, 3, 2)
    # a word under `not` does not rank: the rest of the query is in timeline order
    assert check_query("not dog").order is None and check_query("not dog").words == ()


def test_order_by_relevance_needs_a_word() -> None:
    with pytest.raises(QueryError, match="needs a word"):
        check_query("year:2020 order by relevance")


def test_pages_of_a_ranked_search_agree_with_the_whole(config: Config) -> None:
    whole = search(config, "dog or rome or car")
    pages = [
        media_id
        for offset in range(0, 12, 2)
        for media_id in search(config, "dog or rome or car", 2, offset)
    ]
    assert pages == whole and len(whole) == 9


def test_the_api_the_command_and_gallery_rank_alike(
    config: Config, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = search(config, "dog")
    gallery = Gallery(config)
    try:
        assert [entry.id for entry in gallery.search("dog")] == expected
    finally:
        gallery.close()
    config_file = tmp_path / "gallery.yml"
    config_file.write_text(
        f"storage:\n  dir: {json.dumps(config.storage.dir)}\n"
        f"database:\n  file: {json.dumps(config.database.file)}\n"
    )
    capsys.readouterr()
    assert main(["search", "--config", str(config_file), "--json", "dog"]) == 0
    assert [entry["id"] for entry in json.loads(capsys.readouterr().out)] == expected
    with TestClient(create_app(config)) as client:
        pages = [
            client.get("/api/entries", params={"q": "dog", "limit": 2, "offset": offset}).json()
            for offset in (0, 2, 4)
        ]
    assert [entry["id"] for page in pages for entry in page["entries"]] == expected


@pytest.mark.parametrize("copies", [1, 10])  # every value distinct (one text scan), or few
def test_a_word_of_its_own_is_not_part_of_a_longer_one(copies: int) -> None:
    values: list[str | None] = ["new york", "yorkshire", "york", "a/york.jpg", "", None, "ayork"]
    column = TextColumn([value for value in values for _ in range(copies)])
    rows = column.rows_with_word("york").tolist()
    assert rows == [row for row in range(len(values) * copies) if row // copies in (0, 2, 3)]
    assert column.rows_with_word("yo").tolist() == []


def test_objects_rank_by_their_detection_score(tmp_path: Path) -> None:
    """A scored source of words (``WORD_SOURCES``' object row): an object the detector
    is surer of ranks first, whatever the dates."""
    catalog = tmp_path / "catalog.db"
    writer = open_writer(catalog)
    writer.execute("BEGIN IMMEDIATE")
    entries = [
        Entry(id=fake_id(number), type="image", date=f"202{number}-01-01T00:00:00",
              objects=[DetectedObject(class_="dog", score=score)])
        for number, score in ((1, 0.95), (2, 0.65), (3, 0.8))
    ]  # fmt: skip
    insert_entries(writer, [(entry, "") for entry in entries], 1)
    writer.execute("COMMIT")
    writer.close()
    reader = open_reader(catalog)
    try:
        assert Searcher(reader).ids("dog") == ids(1, 3, 2)
        assert Searcher(reader).ids("dog order by date") == ids(3, 2, 1)
    finally:
        reader.close()


def test_a_page_of_a_ranked_search_is_that_slice_of_the_whole(tmp_path: Path) -> None:
    """Pages are found by a partial sort; with many equal scores they must still be
    exactly the slices of the whole order (ties in timeline order)."""
    write_catalog(tmp_path / "catalog.db", 1500, seed=3)
    reader = open_reader(tmp_path / "catalog.db")
    try:
        searcher = Searcher(reader)
        for query in ("sea", "dog", "animal or beach", "img_0001", "canon"):
            whole = searcher.ids(query)
            assert len(whole) > 5, query
            for limit, offset in ((1, 0), (7, 0), (10, 3), (50, 40), (5, len(whole) - 2)):
                assert searcher.ids(query, limit, offset) == whole[offset : offset + limit]
            assert searcher.ids(query, 0, 0) == []
            # One kept match paged near the top, deep (ordered once then), and near the
            # top again, as the server pages the match it keeps.
            kept = searcher.match(query)
            deep = len(whole) // 2
            for limit, offset in ((3, 1), (4, deep), (5, len(whole) - 3), (2, 0), (3, deep)):
                assert kept.page(limit, offset) == whole[offset : offset + limit], query
            assert kept.rows is not None and kept.rows.dtype == np.int32
    finally:
        reader.close()


def test_a_word_of_its_own_among_known_rows_is_the_same() -> None:
    values: list[str | None] = ["new york", "yorkshire", "york", "a/york.jpg", "", None, "ayork"]
    column = TextColumn(values * 5)
    within = column.rows_containing("york")
    assert column.rows_with_word("york", within).tolist() == column.rows_with_word("york").tolist()


def test_ids_beyond_ascii_are_still_in_id_order(tmp_path: Path) -> None:
    """Ids are sorted as ASCII bytes; a catalog holding another id (written by hand)
    is sorted as text instead of failing."""
    catalog = tmp_path / "catalog.db"
    writer = open_writer(catalog)
    writer.execute("BEGIN IMMEDIATE")
    ids = ["b" + "0" * 63, "é" + "1" * 63, "a" + "2" * 63]
    entries = [Entry(id=i, type="image", date=f"202{n}-01-01T00:00:00") for n, i in enumerate(ids)]
    insert_entries(writer, [(entry, "") for entry in entries], 1)
    writer.execute("COMMIT")
    writer.close()
    reader = open_reader(catalog)
    try:
        searcher = Searcher(reader)
        assert searcher.ids("order by id") == sorted(ids)
        assert searcher.ids("id:é") == [ids[1]]
    finally:
        reader.close()
