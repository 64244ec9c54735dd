"""The core folds text as Python's ``str.casefold`` does, or queries would miss."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from homegallery import _core


@pytest.mark.skipif(
    unicodedata.unidata_version != _core.CASEFOLD_UNICODE_VERSION,
    reason="the fold table was made from another Unicode version than this Python's "
    "(run scripts/make_casefold_table.py)",
)
def test_every_character_folds_as_in_python() -> None:
    characters = [
        chr(code)
        for code in range(sys.maxunicode + 1)
        if not 0xD800 <= code <= 0xDFFF and code != ord("\n")
    ]
    # One call over all characters, separated so each one's fold can be told apart.
    text = "\n".join(characters)
    assert _core.casefold(text).split("\n") == [character.casefold() for character in characters]


def test_mixed_text_folds_as_in_python() -> None:
    for text in ["IMG_1.JPG", "Straße", "ΣΊΣΥΦΟΣ", "Ǆemal ﬁlm", "İstanbul", "日本の海", "ǅ\x00Ꭰ\n"]:
        assert _core.casefold(text) == text.casefold()
