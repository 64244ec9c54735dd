"""``homegallery bench``: the quick run covers every stage in time; --apply writes a
config that still loads; recommendations follow the figures."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from homegallery.bench.recommend import Recommendation, apply, recommend
from homegallery.bench.report import Figure, Report
from homegallery.bench.stages import STAGES
from homegallery.cli.main import main
from homegallery.config import load_config


@pytest.mark.slow
def test_quick_bench_covers_every_stage_within_a_minute(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "gallery.yml"
    assert main(["init", "--config", str(config_file)]) == 0
    started = time.monotonic()
    result = main(
        ["bench", "--quick", "--json", str(tmp_path / "b.json"), "--apply", "-c", str(config_file)]
    )
    elapsed = time.monotonic() - started
    assert result == 0
    assert elapsed < 60, f"bench --quick took {elapsed:.0f} s"
    data = json.loads((tmp_path / "b.json").read_text())
    groups = {figure["group"] for figure in data["figures"]}
    for stage in STAGES:
        assert stage in data["stage_seconds"] or stage in data["skipped"], stage
    assert {"checksums", "walk", "index", "previews", "workers", "speed", "transcode"} <= groups
    assert all(figure["value"] > 0 for figure in data["figures"])
    assert data["machine"]["cores"] >= 1
    output = capsys.readouterr().out
    assert "recommended for this machine" in output
    config = load_config(config_file)
    assert config.extractor.workers == data["recommendation"]["workers"]
    assert config.extractor.image.engine == data["recommendation"]["engine"]


def test_recommendation_follows_the_figures() -> None:
    report = Report("t")
    report.add(Figure("workers", "previews, 1 worker(s), 12 MP", 2.0, "photos/s", "1 worker", 2.0))
    report.add(Figure("workers", "previews, 4 worker(s), 12 MP", 6.5, "photos/s", "1 worker", 2.0))
    report.add(
        Figure("previews", "all sizes from 12 MP", 300, "ms", "pillow", 250, higher_is_better=False)
    )
    report.add(Figure("transcode", "preset slow (default)", 0.3, "x real time"))
    advice = recommend(report)
    assert advice.workers == 4
    assert advice.engine == "pillow"
    assert advice.defer_videos


def test_apply_keeps_comments_and_loads(tmp_path: Path) -> None:
    config_file = tmp_path / "gallery.yml"
    assert main(["init", "--config", str(config_file)]) == 0
    before = config_file.read_text()
    apply(Recommendation(workers=3, engine="pillow"), config_file)
    after = config_file.read_text()
    assert after.count("#") == before.count("#")
    config = load_config(config_file)
    assert (config.extractor.workers, config.extractor.image.engine) == (3, "pillow")


def test_apply_refuses_a_config_without_the_keys(tmp_path: Path) -> None:
    config_file = tmp_path / "gallery.yml"
    config_file.write_text("server: {port: 3000}\n")
    with pytest.raises(KeyError, match=r"extractor\.workers"):
        apply(Recommendation(), config_file)
    assert config_file.read_text() == "server: {port: 3000}\n"
