"""Progress lines: counts, rate, ETA, and silence when asked."""

from __future__ import annotations

import io
import logging

import pytest

from homegallery.progress import Progress


def test_line_shows_done_total_rate_and_eta() -> None:
    progress = Progress("previews", total=200, stream=io.StringIO())
    progress.started -= 10  # ten seconds ago
    progress.advance(50, nbytes=50 * 1024 * 1024)
    line = progress.line(progress.started + 10)
    assert line.startswith("previews 50/200 25% 5.0/s 5.0 MB/s")
    assert line.endswith("ETA 0:30")


def test_a_detail_follows_the_figures() -> None:
    """A cluster run says how many files each worker did after the ETA."""
    progress = Progress("extract", total=4, stream=io.StringIO())
    progress.started -= 2
    progress.advance(2)
    progress.detail = "laptop 1, pi 1"
    line = progress.line(progress.started + 2)
    assert line == "extract 2/4 50% 1.0/s ETA 0:02 [laptop 1, pi 1]"


def test_unknown_total_shows_count_only() -> None:
    progress = Progress("walk", stream=io.StringIO())
    progress.advance(3)
    assert "ETA" not in progress.line()
    assert progress.line().startswith("walk 3 ")


def test_plain_log_lines_when_not_a_terminal(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.INFO, "homegallery.progress"),
        Progress("index", total=2, stream=io.StringIO(), interval=0) as progress,
    ):
        progress.advance()
    assert "index 1/2 50%" in caplog.text


def test_quiet_prints_nothing(caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()
    with (
        caplog.at_level(logging.INFO),
        Progress("x", 1, quiet=True, stream=stream, interval=0) as p,
    ):
        p.advance()
    assert stream.getvalue() == "" and caplog.text == ""
