"""Query values → typed values: numbers, fractions, durations, sizes, dates, booleans.

Each parser raises :class:`QueryError` at the value's column with what it expected,
so ``width > wide`` says "expected a number" right under ``wide``.
"""

from __future__ import annotations

import re

from homegallery.catalog.fold import fold
from homegallery.catalog.query.ast import Value
from homegallery.catalog.query.errors import QueryError

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2}([T ]\d{2}(:\d{2}(:\d{2})?)?)?)?)?$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smh])$")
# HomeGallery's filesize units, each a power of 1024 whatever its spelling
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)(b|bytes?|[kmgt](?:i?b)?)$", re.IGNORECASE)
_SIZE_UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})
_MAX_MAGNITUDE = 1e300  # keeps inf and nan out of comparisons


def _error(value: Value, expected: str) -> QueryError:
    return QueryError(
        f"expected {expected}, found {value.text!r}",
        column=value.column,
        expected=expected,
        found=repr(value.text),
    )


def _float(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    if not abs(number) <= _MAX_MAGNITUDE:
        return None
    return number


def number(value: Value, key: str) -> float | int:
    """A number; fractions (``1/250``), durations (``1:30``, ``90s``), sizes (``5M``)."""
    text = value.text.strip().lower()
    if key == "month" and text in _MONTHS:
        return _MONTHS[text]
    if key == "duration":
        seconds = duration(text)
        if seconds is not None:
            return seconds
    if key == "size":
        match = _SIZE.match(text)
        if match:
            return int(float(match.group(1)) * _SIZE_UNITS[match.group(2)[0].lower()])
    if "/" in text:
        numerator, _, denominator = text.partition("/")
        top, bottom = _float(numerator), _float(denominator)
        if top is not None and bottom:
            return top / bottom
        raise _error(value, f"a number for {key}")
    result = _float(text)
    if result is None or not text or text[0].isalpha():
        raise _error(value, _number_hint(key))
    return int(result) if result.is_integer() and abs(result) < 2**62 else result


def _number_hint(key: str) -> str:
    if key == "duration":
        return "a duration such as 90, 1:30 or 2m"
    if key == "month":
        return "a month number or name"
    if key == "size":
        return "a size such as 500K, 20MB or 1GiB"
    return f"a number for {key}"


def duration(text: str) -> float | None:
    """Seconds of ``90``, ``1:30``, ``1:02:03``, ``90s``, ``2m``, ``1h``; None otherwise."""
    match = _DURATION.match(text)
    if match:
        return float(match.group(1)) * {"s": 1, "m": 60, "h": 3600}[match.group(2)]
    if ":" in text:
        parts = text.split(":")
        if len(parts) > 3 or not all(part.isdigit() for part in parts):
            return None
        seconds = 0.0
        for part in parts:
            seconds = seconds * 60 + int(part)
        return seconds
    return None


def date_prefix(value: Value) -> str:
    """A date or its beginning (``2021``, ``2021-06``, ``2021-06-30T12:00``), ISO form."""
    text = value.text.strip()
    if not _DATE.match(text):
        raise _error(value, "a date such as 2021, 2021-06 or 2021-06-30")
    return text.replace(" ", "T")


def boolean(value: Value) -> bool:
    text = value.text.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise _error(value, "true or false")


def folder(value: Value) -> tuple[str, str]:
    """``folder:<source>/<path>`` as (source folder's name, path prefix ending in ``/``
    or empty for the whole source), casefolded as the catalog keeps file paths."""
    text = fold(value.text).strip().strip("/")
    source, _, path = text.partition("/")
    if not source:
        raise _error(value, "a folder as <source>/<path>")
    path = path.strip("/")
    return source, f"{path}/" if path else ""
