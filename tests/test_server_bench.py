"""The server benchmark runs end to end on a tiny gallery, browser included (figures are
not checked, only that each was measured)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homegallery.bench.server import CHROMIUM, main


@pytest.mark.slow
@pytest.mark.browser
def test_bench_server_runs_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (scripts/bootstrap.sh installs it)")
    output = tmp_path / "figures.json"
    assert main(["--quick", "--entries", "400", "--json", str(output)]) == 0
    figures = {figure["name"]: figure for figure in json.loads(output.read_text())["figures"]}
    assert figures["page of 100, p95"]["value"] > 0
    assert figures["first tiles with entries, 400"]["value"] > 0
    assert figures["DOM nodes, scrolled halfway"]["value"] > 0
    assert "ratio" in capsys.readouterr().out
