"""Property tests: whatever text a user types, the query code raises only QueryError.

Random text, random token soups and mutations of valid queries are parsed, checked
and run against a real (small) catalog; anything other than a result or a
QueryError — an IndexError in the parser, a RecursionError, a KeyError in the engine,
an SQLite error — fails the test.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from factories import entry_file, media_id
from homegallery.catalog.entry import Entry
from homegallery.catalog.query import QueryError, check_query, parse
from homegallery.catalog.query.lexer import tokenize
from homegallery.catalog.query.parser import JOINED_DEPTH, MAX_DEPTH
from homegallery.catalog.rows import insert_entries
from homegallery.catalog.schema import open_reader, open_writer
from homegallery.catalog.search import Searcher

_PIECES = [
    "(", ")", "[", "]", ":", ",", "=", "!=", "<", "<=", ">", ">=", "~", "'", '"',
    "and", "or", "not", "all", "in", "order", "by", "asc", "desc", "count", "exists",
    "tag", "tags", "year", "y", "m", "M", "H", "date", "type", "video", "width", "file",
    "ext", "id", "similar", "ratio", "panorama", "landscape", "geo", "faces", "duration",
    "1:30", "2021", "2021-06", "-1", "1/250", "5M", "1e400", "nan", "abc", "sea", "é",
    "%", "_", "\\", "'x'", '"y z"', "0", "", " ",
]  # fmt: skip
_VALID = [
    "tag in (sea sun) year:2022 count(faces) > 2 not private",
    "tags all in (vacation, sea) order by date desc",
    "year in [2021:2022] lon in [10:20]",
    "duration > 1:30 or exists geo",
    "width > 2000 and not (type:video or ratio:panorama)",
    "order by count(faces) asc",
]


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    catalog: Path = tmp_path_factory.mktemp("catalog") / "catalog.db"
    writer = open_writer(catalog)
    writer.execute("BEGIN IMMEDIATE")
    entries = [
        Entry(
            id=media_id(f"{number:02x}"), type="image", date=f"20{number:02d}-01-01T00:00:00",
            year=2000 + number, width=100 * number, height=100, tags=["sea", f"t{number}"],
            files=[entry_file(f"a/{number}.jpg", media_id(f"{number:02x}"), size=number,
                              source="/s")],
        )
        for number in range(1, 6)
    ]  # fmt: skip
    insert_entries(writer, [(entry, "") for entry in entries], 1)
    writer.execute("COMMIT")
    writer.close()
    reader = open_reader(catalog)
    yield Searcher(reader)
    reader.close()


def _run(searcher: Searcher, query: str) -> None:
    try:
        parse(query)
        check_query(query)
        searcher.ids(query, limit=5)
        searcher.count(query)
    except QueryError as error:
        assert error.column >= 1
        assert error.column <= len(query) + 1
        assert str(error).startswith(f"column {error.column}: ")


_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_SETTINGS
@given(st.text(max_size=60))
def test_any_text_gives_a_result_or_a_query_error(searcher: Searcher, query: str) -> None:
    _run(searcher, query)


@_SETTINGS
@given(st.lists(st.sampled_from(_PIECES), max_size=14), st.lists(st.booleans(), max_size=14))
def test_token_soups_give_a_result_or_a_query_error(
    searcher: Searcher, pieces: list[str], spaces: list[bool]
) -> None:
    query = ""
    for index, piece in enumerate(pieces):
        glue = " " if index < len(spaces) and spaces[index] else ""
        query += glue + piece
    _run(searcher, query)


@_SETTINGS
@given(st.sampled_from(_VALID), st.integers(0, 80), st.integers(0, 6), st.text(max_size=3))
def test_mutated_valid_queries_give_a_result_or_a_query_error(
    searcher: Searcher, query: str, start: int, length: int, insert: str
) -> None:
    _run(searcher, query[:start] + insert + query[start + length :])


def test_deep_nesting_is_a_query_error_not_a_recursion_error(searcher: Searcher) -> None:
    with pytest.raises(QueryError) as caught:
        searcher.ids("(" * 5000 + "sea" + ")" * 5000)
    assert "nested too deeply" in str(caught.value)


def test_many_negations_cancel_out(searcher: Searcher) -> None:
    assert len(searcher.ids("not " * 5000 + "t1")) == 1
    assert len(searcher.ids("not " * 5001 + "t1")) == 4


@pytest.mark.parametrize(
    "unit",
    [
        "(sea or not (t1 and ",
        "not (tags all in (sea, t2) or not ('x y' and ",
        "(tags all in (a,b,c,d,e) or (date in [2001:2003] and file:a and ",
    ],
)
def test_the_deepest_allowed_nesting_runs(searcher: Searcher, unit: str) -> None:
    """A query at the depth limit runs, also with the level a server's filter adds
    (``(filter) and (query)``); one level more is refused."""
    query = unit * 8 + "t3" + "))" * 8
    assert MAX_DEPTH == 16 and JOINED_DEPTH == MAX_DEPTH + 1
    parse(query)
    with pytest.raises(QueryError):
        parse("(" + query + ")")
    searcher.ids(query)
    searcher.ids(f"(not t1) and ({query})")
    with pytest.raises(QueryError):
        searcher.ids(f"(not t1) and (({query}))")


def test_long_flat_queries_are_refused(searcher: Searcher) -> None:
    with pytest.raises(QueryError) as caught:
        searcher.ids(" or ".join(["sea"] * 5000))
    assert "terms" in str(caught.value)


def test_tokens_carry_columns() -> None:
    tokens = tokenize("year >= 2021 'a b'")
    assert [(t.kind, t.value, t.column) for t in tokens] == [
        ("word", "year", 1),
        ("punct", ">=", 6),
        ("word", "2021", 9),
        ("text", "a b", 14),
        ("end", "", 19),
    ]


def test_sqlite_errors_do_not_leak_for_valid_queries(searcher: Searcher) -> None:
    for query in _VALID:
        try:
            searcher.ids(query)
        except sqlite3.Error as error:  # pragma: no cover - the failure being tested for
            pytest.fail(f"{query!r}: {error}")
