"""The extract benchmarks run end to end on tiny inputs (figures are not checked here)."""

from __future__ import annotations

import json
import runpy
from pathlib import Path

import pytest

BENCHES = Path(__file__).resolve().parent.parent / "benches"


@pytest.mark.parametrize("name", ["bench_preview", "bench_meta", "bench_video"])
def test_bench_runs_quick(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = runpy.run_path(str(BENCHES / f"{name}.py"), run_name=name)
    output = tmp_path / "figures.json"
    assert module["main"](["--quick", "--json", str(output)]) == 0
    figures = json.loads(output.read_text())["figures"]
    assert figures and all(figure["value"] > 0 for figure in figures)
    assert "ratio" in capsys.readouterr().out
