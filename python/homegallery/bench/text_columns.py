"""Text columns: reading and searching a catalog column of N file paths (1M; 100k quick).

The search keeps each text column (file names and paths, places, cameras) as one text
with an offset per row in the core (``_core.TextColumn``). Measured against what the
same work costs in Python, in the same run:

- reading the column from the joined text SQLite gives (``group_concat``), against
  splitting it into a list of strings;
- a substring search (``rows_containing``) and a word search (``rows_with_word``),
  against a regular expression over the joined text with the rows found by
  ``numpy.searchsorted`` (the fastest pure-Python form: no loop per row);
- the memory the column holds, against the list of strings.

    .venv/bin/python benches/bench_text_columns.py [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from homegallery import _core
from homegallery.bench.report import Figure, Report, measure, print_report

_SEPARATOR = "\x00"
# A word of its own: led by the word itself, which the regex engine finds fast (a
# look-behind in front makes it try every position), no letter or digit after it; the
# character before is looked at for each match.
_WORD_END = r"(?![^\W_])"

IntArray = np.ndarray[Any, np.dtype[np.int64]]


def file_paths(count: int, seed: int = 11) -> list[str]:
    """Paths as a camera and a phone name them, in folders by year and event."""
    rng = np.random.default_rng(seed)
    events = ["holiday", "birthday", "garden", "new york", "yorkshire", "sea", "alps"]
    years = rng.integers(2005, 2025, count).tolist()
    chosen = rng.integers(0, len(events), count).tolist()
    numbers = rng.integers(0, 10_000, count).tolist()
    return [
        f"{year}/{events[event]}/img_{number:04d}.jpg"
        if row % 3
        else f"{year}/{events[event]}/pxl_{year}0{row % 9 + 1}15_{number:04d}.mp4"
        for row, (year, event, number) in enumerate(zip(years, chosen, numbers, strict=True))
    ]


def _rows_in_python(
    joined: str, starts: IntArray, pattern: re.Pattern[str], word: bool = False
) -> IntArray:
    positions = np.fromiter(
        (
            match.start()
            for match in pattern.finditer(joined)
            if not word or not match.start() or not joined[match.start() - 1].isalnum()
        ),
        np.int64,
    )
    return np.unique(np.searchsorted(starts, positions, side="right") - 1)


def run(quick: bool, count: int | None = None) -> Report:
    count = count or (100_000 if quick else 1_000_000)
    repeat = 3 if quick else 5
    report = Report(f"text columns: {count:,} file paths")
    paths = file_paths(count)
    joined = _SEPARATOR.join(paths)
    size = f"{count:,} paths"

    rust_read = measure("core", lambda: _core.TextColumn.from_joined(joined, count), repeat)
    python_read = measure("python", lambda: joined.split(_SEPARATOR), repeat)
    report.add(Figure("text columns", f"read from the joined text, {size}",
                      rust_read.best * 1000, "ms", "split into Python strings",
                      python_read.best * 1000, higher_is_better=False))  # fmt: skip

    column = _core.TextColumn.from_joined(joined, count)
    lengths = np.fromiter((len(path) + 1 for path in paths), np.int64, count)
    starts = np.concatenate(([0], np.cumsum(lengths[:-1])))
    for word, kind in (("img_12", "substring"), ("new york", "substring"), ("sea", "word")):
        whole = kind == "word"
        pattern = re.compile(re.escape(word) + (_WORD_END if whole else ""))
        search = column.rows_with_word if whole else column.rows_containing
        ours = measure("core", partial(search, word), repeat)
        found = search(word)
        theirs = measure("python", partial(_rows_in_python, joined, starts, pattern, whole), repeat)
        expected = _rows_in_python(joined, starts, pattern, whole)
        if not np.array_equal(found, expected):
            raise AssertionError(f"{kind} {word!r}: the core and Python found different rows")
        report.add(Figure("text columns", f"{kind} search {word!r} ({len(found):,} rows), {size}",
                          ours.best * 1000, "ms", "Python regular expression",
                          theirs.best * 1000, higher_is_better=False))  # fmt: skip

    held = sum(sys.getsizeof(path) for path in paths) + sys.getsizeof(paths)
    report.add(Figure("text columns", f"memory held, {size}", column.nbytes / 2**20, "MiB",
                      "a list of Python strings", held / 2**20, higher_is_better=False))  # fmt: skip
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="100,000 paths, fewer repeats")
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    args = parser.parse_args(argv)
    print_report(run(args.quick), args.json)
    return 0
