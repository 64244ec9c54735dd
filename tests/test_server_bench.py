"""The server benchmark runs end to end on a tiny gallery, browser included (figures are
not checked, only that each was measured)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from homegallery.bench.server import CHROMIUM

BENCH = Path(__file__).resolve().parents[1] / "benches" / "bench_server.py"


@pytest.mark.slow
@pytest.mark.browser
def test_bench_server_runs_quick(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (scripts/bootstrap.sh installs it)")
    output = tmp_path / "figures.json"
    # Its own process, as people run it: the browser tests' Playwright owns this one's loop.
    command = [sys.executable, str(BENCH), "--quick", "--entries", "400", "--json", str(output)]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stderr
    figures = {figure["name"]: figure for figure in json.loads(output.read_text())["figures"]}
    for name in ("page of 100, first request, p95", "page of 100, repeated, p50",
                 "page of 100, revalidated (304), p50", "count, p50"):  # fmt: skip
        assert figures[name]["value"] > 0, name
    assert figures["first tiles with entries, 400"]["value"] > 0
    assert figures["DOM nodes, scrolled halfway"]["value"] > 0
    assert "ratio" in finished.stdout
