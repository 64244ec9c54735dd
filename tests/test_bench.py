"""``homegallery bench``: the quick run covers every stage in time; --apply writes a
config that still loads; recommendations follow the figures."""

from __future__ import annotations

import json
import subprocess
import sys
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
    report.add(Figure("workers", "previews, 1 worker, 12 MP", 2.0, "photos/s", "1 worker", 2.0))
    report.add(Figure("workers", "previews, 4 workers, 12 MP", 6.5, "photos/s", "1 worker", 2.0))
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


def test_the_table_marks_direction_and_verdict_and_prints_counts_whole() -> None:
    report = Report("t")
    report.add(Figure("p", "fast", 88.5, "ms", "pillow", 282, higher_is_better=False,
                      target="< 150 ms, >= 1.5x"))  # fmt: skip
    report.add(Figure("p", "slow", 180, "ms", "pillow", 282, higher_is_better=False,
                      target="< 150 ms, >= 1.5x"))  # fmt: skip
    report.add(Figure("b", "build", 3.2, "s", higher_is_better=False, target="< 10 s at 100k",
                      at=2000, note="reading the storage alone, without building"))  # fmt: skip
    report.add(Figure("b", "100k-build", 8.2, "s", higher_is_better=False,
                      target="< 10 s at 100k", at=100_000))  # fmt: skip
    report.add(Figure("c", "blake3", 900, "MB/s", "sha1", 250, target=">= 3x sha1"))
    report.add(Figure("e", "agreement", 90.0, "%", target=">= 95%"))
    report.add(Figure("w", "nodes", 1234.0, "nodes"))
    lines = report.table().splitlines()
    header = lines[1].split()
    assert header == ["group", "measure", "value", "better", "baseline", "ratio", "target", "met"]
    rows = {line.split()[1]: line for line in lines[3:] if not line.startswith("[")}
    assert rows["fast"].endswith("pass") and " lower " in rows["fast"]
    assert rows["slow"].endswith("FAIL")
    assert rows["build"].endswith("n/a at 2,000") and "build [1]" in lines[5]
    assert [line for line in lines if line.startswith("[1] ")] == [
        "[1] reading the storage alone, without building"
    ]
    assert rows["100k-build"].endswith("pass")
    assert rows["blake3"].endswith("pass") and " higher " in rows["blake3"]
    assert rows["agreement"].endswith("FAIL")
    assert "1,234 nodes" in rows["nodes"] and "1234.00" not in rows["nodes"]
    verdicts = [figure["verdict"] for figure in report.to_json()["figures"]]
    assert verdicts == ["pass", "FAIL", "n/a at 2,000", "pass", "pass", "FAIL", ""]


def test_bench_keeps_libvips_chatter_out_unless_verbose(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "homegallery.cli.main", "-c", str(tmp_path / "none.yml")]
    stage = ["bench", "--quick", "--stage", "previews"]
    quiet = subprocess.run([*command, *stage], capture_output=True, text=True, timeout=120)
    assert quiet.returncode == 0, quiet.stderr
    assert "pyvips" not in quiet.stderr and len(quiet.stderr.splitlines()) < 5, quiet.stderr
    assert quiet.stdout.splitlines()[0].startswith("homegallery bench --quick")
    verbose = subprocess.run([*command, "-v", *stage], capture_output=True, text=True, timeout=120)
    assert "pyvips" in verbose.stderr
