"""Embedding inference per image, when a model is installed.

No embedding model ships with this version, so the stage reports itself skipped with
that reason; the suite keeps its place so results stay comparable across versions.
"""

from __future__ import annotations

from homegallery.bench.report import Report
from homegallery.bench.suite import StageSkipped


def run(quick: bool) -> Report:
    raise StageSkipped("no embedding model is installed in this version")
