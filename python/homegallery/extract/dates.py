"""When a photo or video was taken: parsing the many date spellings, and the fallbacks.

The capture date orders the whole gallery, so every source is tried, best first:
EXIF (with its OffsetTime when present), XMP, the video container, a date in the file
name (phones and messengers write one), and last the file's modification time. A
time zone is kept only when the file states it: a naive time stays naive rather than
being silently moved into the zone of the machine that runs the extraction.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from homegallery.extract.schema import DateSource

_EARLIEST_YEAR = 1826  # the oldest surviving photograph; anything before is a broken tag
_LATEST_YEAR = 2200

_EXIF_DATE = re.compile(
    r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:[.,](\d+))?\s*"
    r"(Z|[+\-]\d{2}:?\d{2})?\s*$"
)
_DATE_ONLY = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})\s*$")
_OFFSET = re.compile(r"^\s*([+\-])(\d{2}):?(\d{2})\s*$")

# Dates in file names, most specific first. Each pattern captures year, month, day and
# optionally hour, minute, second. The digits must not touch other digits, so a
# counter such as DSC_20180110 inside a longer number is not mistaken for a date.
_NAME_PATTERNS = [
    # IMG_20180110_113953.jpg, VID_20180110_113953.mp4, PXL_20210101_123456789.jpg,
    # Screenshot_20180110-113953.png, 2019-05-04 12.30.00.jpg (camera uploads)
    re.compile(
        r"(?<!\d)((?:19|20)\d{2})-?(\d{2})-?(\d{2})[_\- T.]?"
        r"(\d{2})[.\-:]?(\d{2})[.\-:]?(\d{2})(?:\d{3})?(?!\d)"
    ),
    # IMG-20190504-WA0001.jpg (WhatsApp), 2019-05-04.jpg, 20190504.jpg
    re.compile(r"(?<!\d)((?:19|20)\d{2})-?(\d{2})-?(\d{2})(?!\d)"),
]


def parse_offset(text: str | None) -> timezone | None:
    """``+01:00`` / ``-0500`` → a fixed zone; None for missing or malformed offsets."""
    if not text:
        return None
    match = _OFFSET.match(text)
    if not match:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14):
        return None
    return timezone(-delta if sign == "-" else delta)


def _checked(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime | None:
    if not _EARLIEST_YEAR <= year <= _LATEST_YEAR:
        return None
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def parse_datetime(text: str | None, offset: str | None = None) -> datetime | None:
    """EXIF (``2018:01:10 11:39:53``) or ISO/XMP (``2018-01-10T11:39:53+01:00``) dates.

    ``offset`` is EXIF's separate OffsetTime* tag; an offset inside the text wins.
    Placeholder dates cameras write before their clock is set (``0000:00:00 …``) and
    impossible dates give None, so the next source in the chain is used.
    """
    if not text:
        return None
    text = text.strip("\x00 ")
    match = _EXIF_DATE.match(text)
    if match:
        year, month, day, hour, minute, second = (int(g or 0) for g in match.groups()[:6])
        value = _checked(year, month, day, hour, minute, second)
        if value is None:
            return None
        fraction = match.group(7)
        if fraction:
            value = value.replace(microsecond=int(fraction[:6].ljust(6, "0")))
        zone_text = match.group(8)
        zone = timezone.utc if zone_text == "Z" else parse_offset(zone_text or offset)
        return value.replace(tzinfo=zone) if zone else value
    match = _DATE_ONLY.match(text)
    if match:
        return _checked(*(int(g) for g in match.groups()))
    return None


def date_from_filename(name: str) -> datetime | None:
    """A date written into a file name by phones, messengers and upload tools."""
    stem = name.rsplit("/", 1)[-1]
    for pattern in _NAME_PATTERNS:
        for match in pattern.finditer(stem):
            value = _checked(*(int(group) for group in match.groups()))
            if value is not None:
                return value
    return None


def date_from_mtime(mtime_ns: int) -> datetime:
    """The file time as local time with this machine's offset (an instant, so the zone is known)."""
    return datetime.fromtimestamp(mtime_ns / 1e9, tz=timezone.utc).astimezone()


def iso(value: datetime) -> str:
    """ISO 8601 to the second (sub-seconds add nothing to a gallery's order but noise)."""
    return value.replace(microsecond=0).isoformat()


def choose_date(
    candidates: list[tuple[DateSource, datetime | None]],
) -> tuple[str, DateSource] | None:
    """The first known date of the ordered candidates, as (ISO text, source).

    A later candidate may only lend its zone to an earlier one: an EXIF time without
    an offset and an XMP date of the same wall-clock time with one are the same moment,
    so the result keeps the EXIF source and gains the zone.
    """
    known = [(source, value) for source, value in candidates if value is not None]
    if not known:
        return None
    source, best = known[0]
    if best.tzinfo is None:
        for _, other in known[1:]:
            if other.tzinfo is not None and other.replace(tzinfo=None) == best:
                best = other
                break
    return iso(best), source
