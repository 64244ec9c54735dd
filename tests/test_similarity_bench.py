"""The similarity benchmark runs end to end on small sizes (figures are not checked)."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benches" / "bench_similarity.py"


def test_bench_similarity_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(BENCH), run_name="bench_similarity")
    output = tmp_path / "figures.json"
    assert module["main"](["--quick", "--json", str(output)]) == 0
    figures = json.loads(output.read_text())["figures"]
    assert {figure["unit"] for figure in figures} >= {"ms/query", "GB/s", "vectors/s"}
    assert all(figure["value"] > 0 and figure["baseline_value"] > 0 for figure in figures)
    assert "numpy reference" in capsys.readouterr().out
