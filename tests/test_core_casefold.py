"""The core's casefold is Python's ``str.casefold`` of the table's Unicode version.

Stored text and query words are both folded by it (``homegallery.catalog.fold``), so
they agree on any Python; what is checked here is that the table is right. The
reference is the running Python's ``str.casefold``, taken only where it speaks for
the table's version: for characters both Unicode versions assign (case folding of an
assigned character never changes between versions). Characters the table's version
does not assign must fold to themselves. On a Python of the table's own version
every character is checked against ``str.casefold``.
"""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

from homegallery import _core
from homegallery.catalog.fold import UNICODE_VERSION, fold

ASSIGNED = Path(__file__).parent / "fixtures" / "unicode_assigned.txt"


def _assigned() -> tuple[str, set[int]]:
    """The Unicode version of the fixture and the code points it assigns."""
    lines = ASSIGNED.read_text(encoding="utf-8").splitlines()
    version = lines[0].removeprefix("# Unicode ").split(":")[0]
    codes: set[int] = set()
    for line in lines:
        if line.startswith("#"):
            continue
        first, _, last = line.partition("..")
        codes.update(range(int(first, 16), int(last, 16) + 1))
    return version, codes


def _characters() -> list[str]:
    return [
        chr(code)
        for code in range(sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF and code != ord("\n")
    ]


def test_the_fixture_is_of_the_tables_version() -> None:
    version, codes = _assigned()
    assert version == UNICODE_VERSION == _core.CASEFOLD_UNICODE_VERSION, (
        "run scripts/make_casefold_table.py: it writes the table and the fixture together"
    )
    assert {ord("A"), 0x1E900, 0x10FFFD} <= codes and 0x0378 not in codes


def test_every_character_folds_as_in_the_tables_unicode_version() -> None:
    _, assigned = _assigned()
    characters = _characters()
    # One call over all characters, separated so each one's fold can be told apart.
    folded = _core.casefold("\n".join(characters)).split("\n")
    here = unicodedata.unidata_version == UNICODE_VERSION
    checked = 0
    for character, result in zip(characters, folded, strict=True):
        code = ord(character)
        if code not in assigned:
            assert result == character, f"U+{code:04X} is not in Unicode {UNICODE_VERSION}"
        elif here or unicodedata.category(character) != "Cn":
            assert result == character.casefold(), f"U+{code:04X}"
            checked += 1
    # Every character this Python knows of the table's version was compared (all but
    # the separator on a Python of that version; most of them on any other).
    assert checked >= (len(assigned) - 1 if here else 250_000)


def test_mixed_text_folds_as_in_python() -> None:
    for text in ["IMG_1.JPG", "Straße", "ΣΊΣΥΦΟΣ", "Ǆemal ﬁlm", "İstanbul", "日本の海", "ǅ\x00Ꭰ\n"]:
        assert _core.casefold(text) == fold(text) == text.casefold()
