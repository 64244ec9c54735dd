"""The catalog benchmark runs end to end on a tiny gallery (figures are not checked)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from homegallery.bench.catalog import main
from homegallery.bench.relevance import main as relevance


def test_bench_catalog_runs_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "figures.json"
    assert main(["--quick", "--entries", "300", "--json", str(output)]) == 0
    figures = {figure["name"]: figure for figure in json.loads(output.read_text())["figures"]}
    assert figures["full build"]["value"] > 0 and figures["page of 100, p95"]["value"] > 0
    memory = [figures[f"column snapshot, {what}"]["value"] for what in
              ("as loaded (ids, dates)", "after the query mix", "after every key once")]  # fmt: skip
    assert 0 < memory[0] <= memory[1] <= memory[2]
    assert "ratio" in capsys.readouterr().out


def test_bench_relevance_runs_quick(tmp_path: Path) -> None:
    output = tmp_path / "figures.json"
    assert relevance(["--quick", "--entries", "300", "--json", str(output)]) == 0
    figures = {figure["name"]: figure for figure in json.loads(output.read_text())["figures"]}
    p95 = figures["ranked word search, page of 100, p95"]
    assert p95["value"] > 0 and p95["baseline_value"] > 0
