"""The bench's embeddings stage on the real model, and the layout it recommends."""

from __future__ import annotations

from pathlib import Path

import pytest

from homegallery.bench import embeddings
from homegallery.bench.recommend import Recommendation, apply, recommend
from homegallery.bench.report import Figure, Report
from homegallery.bench.suite import StageSkipped
from homegallery.cli.main import main
from homegallery.config import load_config


def test_the_stage_measures_both_variants_and_the_recommendation_picks_a_layout(
    embedding_models: Path, tmp_path: Path
) -> None:
    report = embeddings.run(quick=True, models_dir=embedding_models)
    print("\n" + report.table())
    names = {figure.name: figure for figure in report.figures}
    for precision in ("fp32", "int8"):
        assert names[f"{precision}, 1 worker x 1 thread"].value > 1
        assert 20 < names[f"memory per worker, {precision}"].value < 2000
        assert 0 < names[f"of it the session, {precision}"].value < 500
    assert 0 <= names["int8 top-5 agreement with fp32"].value <= 100
    assert 0.8 < names["int8 embedding cosine to fp32"].value <= 1.0
    assert names["Raspberry Pi 4 estimate, fp32, 4 workers x 1 thread"].value > 1
    assert all(figure.value > 0 for figure in report.figures if "agreement" not in figure.name)

    advice = recommend(report)
    measured = {
        (int(f.name.split(", ")[1].split()[0]), int(f.name.split(" x ")[1].split()[0]))
        for f in report.figures
        if f.name.startswith(advice.model_precision + ", ")
    }
    assert (advice.model_workers, advice.model_threads) in measured
    config_file = tmp_path / "gallery.yml"
    assert main(["init", "--config", str(config_file)]) == 0
    apply(advice, config_file)
    models = load_config(config_file).extractor.models
    assert (models.workers, models.threads) == (advice.model_workers, advice.model_threads)
    assert models.precision == advice.model_precision


def test_the_model_has_the_multiply_adds_of_efficientnet_lite0(embedding_models: Path) -> None:
    model = embedding_models / "efficientnet-lite0-1" / "model.onnx"
    assert 350e6 < embeddings.multiply_adds(model) < 450e6  # published: 407 M


def test_without_the_model_the_stage_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(StageSkipped, match="models install --int8 efficientnet-lite0"):
        embeddings.run(quick=True, models_dir=tmp_path)


def _report(int8_rate: float, agreement: float) -> Report:
    report = Report("t")
    for name, value in (
        ("fp32, 1 worker x 1 thread", 40.0),
        ("fp32, 1 worker x 2 threads", 45.0),
        ("fp32, 2 workers x 1 thread", 70.0),
        ("int8, 2 workers x 1 thread", int8_rate),
    ):
        report.add(Figure("embeddings", name, value, "images/s"))
    report.add(Figure("embeddings", "int8 top-5 agreement with fp32", agreement, "%"))
    return report


def test_int8_is_chosen_only_where_it_is_faster_and_agrees() -> None:
    fast_but_wrong = recommend(_report(110.0, 78.0))
    assert (fast_but_wrong.model_precision, fast_but_wrong.model_workers) == ("fp32", 2)
    assert any("agrees on only 78%" in reason for reason in fast_but_wrong.reasons)
    right_and_fast = recommend(_report(110.0, 97.0))
    assert (right_and_fast.model_precision, right_and_fast.model_workers) == ("int8", 2)
    right_but_slow = recommend(_report(72.0, 97.0))
    assert right_but_slow.model_precision == "fp32"
    assert recommend(Report("nothing")).model_workers == 0


def test_apply_leaves_model_keys_out_of_an_older_config(tmp_path: Path) -> None:
    config_file = tmp_path / "gallery.yml"
    config_file.write_text("extractor:\n  workers: 0\n  image:\n    engine: pyvips\n")
    apply(Recommendation(workers=2, model_workers=2, model_threads=1), config_file)
    config = load_config(config_file)
    assert config.extractor.workers == 2 and config.extractor.models.workers == 0
