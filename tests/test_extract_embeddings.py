"""The embeddings step's plumbing, with a tiny colour model made in the test.

Previews, batches, the one session per worker, labels, stored files, failures and
resuming all run for real; only the network is tiny (it averages colours), so the
labels it must give are known. The real model is tested in test_embeddings_real.py.
"""

from __future__ import annotations

import logging
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import blake3
import numpy as np
import pytest
from PIL import Image

import homegallery.log
from embedding_helpers import (
    BEAGLE,
    SEASHORE,
    SPORTS_CAR,
    colour_model,
    colour_photo,
    colour_settings,
    die_on,
)
from homegallery.config import parse_config
from homegallery.extract import embed
from homegallery.extract.runner import extract_gallery, run_extract
from homegallery.extract.schema import (
    embedding_kind,
    labels_kind,
    read_embedding,
    read_failure,
    read_labels,
)
from homegallery.extract.worker import Settings, WorkItem
from homegallery.ml.labels import label_name
from homegallery.storage import Storage


def quiet(label: str, total: int) -> _Silent:
    return _Silent()


class _Silent:
    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def item(path: Path) -> WorkItem:
    return WorkItem(str(blake3.blake3(path.read_bytes()).hexdigest()), path, "image")


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return colour_model(tmp_path / "colours.onnx")


def photos(folder: Path) -> list[WorkItem]:
    colours = ["red", "green", "blue", "red", "green", "blue", "red"]
    return [item(colour_photo(folder / f"{n}-{c}.jpg", c, seed=n)) for n, c in enumerate(colours)]


def test_labels_and_embeddings_are_stored_per_photo_and_a_rerun_does_nothing(
    tmp_path: Path, model: Path
) -> None:
    items = photos(tmp_path / "photos")
    settings = Settings(storage_dir=tmp_path / "storage", embeddings=colour_settings(model))
    storage = Storage(settings.storage_dir)
    summary = run_extract(items, settings, workers=2, progress_factory=quiet)
    stats = summary.steps["embeddings"]
    assert (stats.done, stats.failed) == (7, 0), summary.lines()
    expected = {"red": BEAGLE, "green": SPORTS_CAR, "blue": SEASHORE}
    for entry in items:
        labels = read_labels(storage, entry.media_id, "colours-1")
        assert labels is not None and (labels.model, labels.version) == ("colours", "1")
        assert len(labels.labels) == embed.TOP_LABELS
        top = labels.labels[0]
        colour = entry.path.stem.split("-")[1]
        assert top.name == label_name(expected[colour]) and top.score > 0.5
        assert top.id.startswith("n") and len(top.id) == 9
        scores = [label.score for label in labels.labels]
        assert scores == sorted(scores, reverse=True)
        vector = read_embedding(storage, entry.media_id, "colours-1")
        assert vector is not None and vector.dtype == np.float32 and vector.shape == (6,)
        assert abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    # same colour, same direction; other colours far apart
    red = [read_embedding(storage, e.media_id, "colours-1") for e in items if "red" in e.path.name]
    blue = read_embedding(storage, items[2].media_id, "colours-1")
    assert red[0] is not None and red[1] is not None and blue is not None
    assert float(red[0] @ red[1]) > 0.99 > float(red[0] @ blue) + 0.2

    again = run_extract(items, settings, workers=2, progress_factory=quiet)
    assert (again.steps["embeddings"].done, again.steps["embeddings"].skipped) == (0, 7)
    assert again.planned == 0


def test_the_smallest_preview_with_a_256_short_side_is_decoded_at_reduced_size(
    tmp_path: Path,
) -> None:
    sizes = {128: (128, 96), 320: (320, 240), 800: (800, 600), 1280: (1280, 960)}
    paths = []
    for size, (width, height) in sizes.items():
        path = tmp_path / f"image-preview-{size}.jpg"
        Image.new("RGB", (width, height), (90, 90, 90)).save(path)
        paths.append(path)
    image = embed.load_input(paths)
    assert image.size == (400, 300)  # the 800 preview at half size: short side 300 >= 256
    assert embed.load_input(paths[:2]).size == (320, 240)  # a small photo: its largest
    assert embed.preview_sizes_stored(
        {"image-preview-800.jpg", "meta.json", "image-preview-x.jpg"}
    ) == [800]
    with pytest.raises(FileNotFoundError):
        embed.load_input([])


def test_a_broken_preview_fails_its_photo_only_and_is_not_retried_unless_asked(
    tmp_path: Path, model: Path
) -> None:
    items = photos(tmp_path / "photos")[:3]
    settings = Settings(storage_dir=tmp_path / "storage", embeddings=colour_settings(model))
    storage = Storage(settings.storage_dir)
    run_extract(items, settings, steps=("meta", "preview"), workers=1, progress_factory=quiet)
    broken = items[1].media_id
    storage.path(broken, "image-preview-800.jpg").write_bytes(b"\xff\xd8 not a JPEG at all")
    summary = run_extract(items, settings, workers=1, progress_factory=quiet)
    assert summary.steps["embeddings"].done == 2
    assert dict(summary.failures) == {("embeddings", "decode"): 1}
    failure = read_failure(storage, broken, "embeddings")
    assert failure is not None and "cannot read its preview" in failure.message
    assert str(items[1].path) in failure.message
    assert not storage.exists(broken, embedding_kind("colours-1"))

    again = run_extract(items, settings, workers=1, progress_factory=quiet)
    assert again.steps["embeddings"].failed_before == 1 and not again.failures
    storage.path(broken, "image-preview-800.jpg").unlink()  # the preview step makes it again
    retried = run_extract(items, settings, retry_failed=True, workers=1, progress_factory=quiet)
    assert retried.steps["embeddings"].done == 1 and not retried.failures
    assert read_failure(storage, broken, "embeddings") is None


def test_a_model_that_cannot_run_fails_each_photo_with_the_reason(
    tmp_path: Path, model: Path
) -> None:
    items = photos(tmp_path / "photos")[:2]
    wrong = colour_model(tmp_path / "wrong.onnx", input_name="pixels")
    settings = Settings(storage_dir=tmp_path / "storage", embeddings=colour_settings(wrong))
    summary = run_extract(items, settings, workers=1, progress_factory=quiet)
    assert dict(summary.failures) == {("embeddings", "model"): 2}
    failure = read_failure(Storage(settings.storage_dir), items[0].media_id, "embeddings")
    assert failure is not None and "wrong.onnx cannot run" in failure.message


def test_a_worker_that_dies_costs_only_its_photo(tmp_path: Path, model: Path) -> None:
    items = photos(tmp_path / "photos")
    storage_dir = tmp_path / "storage"
    settings = Settings(storage_dir=storage_dir, embeddings=colour_settings(model))
    run_extract(items, settings, steps=("meta", "preview"), workers=2, progress_factory=quiet)
    victim = items[4].media_id

    def dying_pool(workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            workers,
            mp_context=get_context("forkserver"),
            initializer=die_on,
            initargs=(victim[4:],),
        )

    outcomes: list[embed.Outcome] = []
    todo = [(entry.media_id, entry.path) for entry in items]
    embed.run_batches(todo, colour_settings(model), storage_dir, 2, dying_pool, outcomes.extend)
    by_id = {outcome.media_id: outcome for outcome in outcomes}
    assert sorted(by_id) == sorted(entry.media_id for entry in items)
    assert by_id[victim].reason == "crash" and not by_id[victim].ok
    assert all(outcome.ok for media_id, outcome in by_id.items() if media_id != victim)
    failure = read_failure(Storage(storage_dir), victim, "embeddings")
    assert failure is not None and "died while working on it (embeddings)" in failure.message


def test_a_missing_model_is_said_once_and_the_rest_of_the_import_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    for n, colour in enumerate(("red", "blue")):
        colour_photo(folder / f"{n}.jpg", colour, seed=n)
    from homegallery.index import update_index

    config = parse_config(
        {
            "sources": [{"dir": str(folder)}],
            "storage": {"dir": str(tmp_path / "storage")},
            "database": {"file": str(tmp_path / "catalog.db")},
            "extractor": {"models": {"dir": str(tmp_path / "no-models")}},
        },
        tmp_path / "gallery.yml",
    )
    update_index(config)
    monkeypatch.setattr(homegallery.log, "_warned", set())  # nothing said yet
    with caplog.at_level(logging.WARNING, logger="homegallery.extract"):
        first = extract_gallery(config, workers=1, progress_factory=quiet)
        second = extract_gallery(config, workers=1, progress_factory=quiet)
    said = [record.getMessage() for record in caplog.records if "embeddings" in record.getMessage()]
    assert said == [
        "embeddings: model efficientnet-lite0 is not installed: run `homegallery models install "
        "efficientnet-lite0`; the rest of the import goes on without them"
    ]
    assert first.steps["preview"].done == 2 and first.steps["meta"].done == 2
    assert not first.failures and not second.failures
    assert first.steps["embeddings"].done == 0


def test_the_task_turned_off_runs_nothing_and_says_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = parse_config(
        {"extractor": {"models": {"embeddings": "off"}}}, tmp_path / "gallery.yml"
    )
    settings, reason = embed.from_config(config.extractor.models)
    assert settings is None and reason == ""


def test_settings_name_the_installed_file_and_the_variant(tmp_path: Path, model: Path) -> None:
    from homegallery.models.spec import EFFICIENTNET_LITE0 as SPEC
    from homegallery.models.store import Manifest, write_manifest

    folder = tmp_path / "models" / SPEC.folder_name
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(model.read_bytes())
    write_manifest(
        folder,
        Manifest(
            name=SPEC.name,
            version=SPEC.version,
            task=SPEC.task,
            onnx_sha256="",
            onnx_size=0,
            source="",
            package_sha256="",
            installed_at="",
        ),
    )
    settings = embed.settings_for(SPEC.name, tmp_path / "models", "fp32", 2, 8, 3)
    assert settings.model_file == folder / "model.onnx"
    assert (settings.model_tag, settings.input_name) == ("efficientnet-lite0-1", "image")
    assert embed.worker_count(settings, 4) == 3
    assert embed.worker_count(colour_settings(model, workers=0, threads=2), 4) == 2
    with pytest.raises(embed.ModelUnavailable, match="install --int8 efficientnet-lite0"):
        embed.settings_for(SPEC.name, tmp_path / "models", "int8", 1, 8, 0)
    assert labels_kind("efficientnet-lite0-1") == "labels-efficientnet-lite0-1.json"
