"""The one casefold of the catalog: stored text and query words go through the same table.

The build stores searchable text casefolded by the Rust core (``rust/casefold.rs``, a
table of Python's ``str.casefold`` made once for one Unicode version,
``_core.CASEFOLD_UNICODE_VERSION``). A word typed in a query, a tag compared with
the tags an entry has, a filter's tags: all are folded here with the same table, so
they agree with what the catalog holds on every Python, whatever Unicode version the
running Python's ``str.casefold`` knows.
"""

from __future__ import annotations

from homegallery import _core

UNICODE_VERSION: str = _core.CASEFOLD_UNICODE_VERSION


def fold(text: str) -> str:
    """``text`` casefolded as the catalog stores text."""
    return _core.casefold(text)
