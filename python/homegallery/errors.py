"""The base of every exception homegallery raises on its own.

``except HomeGalleryError`` catches a refusal or failure the package explains itself
(a bad query, config or catalog, a model not installed, …) and nothing else: a bug
still surfaces as the built-in exception it is. Classes that callers also catch as a
built-in keep that base too (``QueryError`` is a ``ValueError``,
``OutsideSourcesError`` a ``PermissionError``).

File system failures of the Rust core are not among them: they arrive as the
``OSError`` subclass of their errno (``FileNotFoundError``, ``PermissionError``, …)
with ``errno`` and ``filename`` set, and bad input to it as ``ValueError``, as for
Python's own functions.
"""

from __future__ import annotations


class HomeGalleryError(Exception):
    """A failure or refusal that homegallery explains (the message says what and where)."""
