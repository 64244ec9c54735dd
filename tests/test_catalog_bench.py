"""The catalog benchmark runs end to end on a tiny gallery (figures are not checked)."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benches" / "bench_catalog.py"


def test_bench_catalog_runs_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(BENCH), run_name="bench_catalog")
    output = tmp_path / "figures.json"
    assert module["main"](["--quick", "--entries", "300", "--json", str(output)]) == 0
    figures = {figure["name"]: figure for figure in json.loads(output.read_text())["figures"]}
    assert figures["full build"]["value"] > 0 and figures["page of 100, p95"]["value"] > 0
    assert "ratio" in capsys.readouterr().out
