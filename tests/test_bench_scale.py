"""The scale benchmark end to end at its smallest size, through the command."""

from __future__ import annotations

from pathlib import Path

import pytest

from homegallery.bench import catalog as bench_catalog
from homegallery.bench.scale import run
from homegallery.cli.main import main


def test_scale_measures_builds_searches_summaries_and_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench_catalog, "CACHE_ROOT", tmp_path / "cache")
    report = run("2k", work=tmp_path / "work")
    figures = {figure.name: figure for figure in report.figures}
    for name in ("full build", "incremental, 1% changed", "page of 100, p95", "count, p95",
                 "API page of 100, first request, p95", "timeline, packed, KiB on the wire",
                 "map, clusters at zoom 2, ms"):  # fmt: skip
        assert figures[name].value > 0, name
    packed = figures["timeline, packed, KiB on the wire"].value
    assert packed < figures["timeline, JSON list, KiB on the wire"].value
    assert figures["map, clusters at zoom 2, KiB on the wire"].value < 2  # five places
    assert 30 < figures["server memory after search, timeline and map"].value < 1024
    assert figures["full build"].verdict == "pass"
    # the generated storage is kept, and stays as generated after the 1% change
    kept = list((tmp_path / "cache").glob("catalog-2000-7-no-model/storage/*/*/*preview-800*"))
    assert (
        tmp_path / "cache" / "catalog-2000-7-no-model" / "records.msgpack"
    ).is_file() and not kept


def test_scale_is_its_own_choice_of_the_bench_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["bench", "--scale", "10m"])
    assert "invalid choice" in capsys.readouterr().err
