"""Capture dates: EXIF/ISO parsing, zones, file-name dates and the fallback order."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homegallery.extract.dates import (
    choose_date,
    date_from_filename,
    date_from_mtime,
    parse_datetime,
    parse_offset,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("IMG_20180110_113953.jpg", datetime(2018, 1, 10, 11, 39, 53)),
        ("VID_20180110_113953.mp4", datetime(2018, 1, 10, 11, 39, 53)),
        ("2019-05-04 12.30.00.jpg", datetime(2019, 5, 4, 12, 30, 0)),
        ("PXL_20210101_123456789.jpg", datetime(2021, 1, 1, 12, 34, 56)),
        ("Screenshot_20180110-113953.png", datetime(2018, 1, 10, 11, 39, 53)),
        ("IMG-20190504-WA0001.jpg", datetime(2019, 5, 4)),
        ("holiday/2019-05-04.jpg", datetime(2019, 5, 4)),
    ],
)
def test_dates_in_file_names(name: str, expected: datetime) -> None:
    assert date_from_filename(name) == expected


@pytest.mark.parametrize(
    "name",
    ["DSC_0001.jpg", "IMG_1234567890123.jpg", "20181301_101010.jpg", "scan_1820-01-01.jpg"],
)
def test_names_without_a_real_date(name: str) -> None:
    assert date_from_filename(name) is None


def test_exif_date_with_and_without_offset() -> None:
    assert parse_datetime("2008:10:22 16:28:39") == datetime(2008, 10, 22, 16, 28, 39)
    zoned = parse_datetime("2008:10:22 16:28:39", "+02:00")
    assert zoned == datetime(2008, 10, 22, 16, 28, 39, tzinfo=timezone(timedelta(hours=2)))
    # an offset inside the text wins over the separate tag
    assert parse_datetime("2005-09-07T15:07:40-07:00", "+02:00") == datetime(
        2005, 9, 7, 15, 7, 40, tzinfo=timezone(timedelta(hours=-7))
    )
    assert parse_datetime("2019-05-04T10:30:00.000000Z") == datetime(
        2019, 5, 4, 10, 30, tzinfo=timezone.utc
    )


@pytest.mark.parametrize(
    "text", ["0000:00:00 00:00:00", "    :  :     :  :  ", "2008:13:40 10:00:00", "", "garbage"]
)
def test_placeholder_and_impossible_dates_give_none(text: str) -> None:
    assert parse_datetime(text) is None


def test_offsets() -> None:
    assert parse_offset("-05:00") == timezone(timedelta(hours=-5))
    assert parse_offset("+0530") == timezone(timedelta(hours=5, minutes=30))
    assert parse_offset("+25:00") is None
    assert parse_offset("") is None


def test_fallback_order_and_zone_lending() -> None:
    exif = datetime(2018, 1, 10, 11, 39, 53)
    xmp = datetime(2018, 1, 10, 11, 39, 53, tzinfo=timezone(timedelta(hours=1)))
    name = datetime(2017, 1, 1)
    assert choose_date([("exif", exif), ("xmp", xmp), ("filename", name)]) == (
        "2018-01-10T11:39:53+01:00",
        "exif",
    )
    assert choose_date([("exif", None), ("xmp", None), ("filename", name)]) == (
        "2017-01-01T00:00:00",
        "filename",
    )
    assert choose_date([("exif", None)]) is None


def test_file_time_is_an_instant_with_its_zone() -> None:
    value = date_from_mtime(1_500_000_000 * 10**9)
    assert value.tzinfo is not None
    assert value.timestamp() == 1_500_000_000


@given(st.text(max_size=40))
def test_parsers_never_raise(text: str) -> None:
    parse_datetime(text)
    parse_datetime(text, text)
    date_from_filename(text)
