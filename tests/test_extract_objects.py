"""The ``objects`` step and object search on Debian darknet's demo photos, with the real NanoDet-m.

The photos (``apt-get install darknet``: /usr/share/darknet/data) are the classic
detector demo set; what a person would name in each was written down by eye, with
where it is in the photo.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import blake3
import numpy as np
import pytest
import yaml
from PIL import Image

from homegallery.config import load_config, parse_config
from homegallery.extract import objects
from homegallery.extract.objects import ObjectSettings, from_config, stored_object
from homegallery.extract.runner import run_extract
from homegallery.extract.schema import Objects, objects_kind, read_failure, read_objects
from homegallery.extract.worker import Settings, WorkItem
from homegallery.gallery import Gallery
from homegallery.ml.objects import COCO_CLASSES, Detection, decode, nms
from homegallery.storage import Storage

HOMEGALLERY = [sys.executable, "-m", "homegallery.cli.main"]
PHOTOS = ("dog", "eagle", "giraffe", "horses", "kite", "person", "scream")


class _Silent:
    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def quiet(label: str, total: int) -> _Silent:
    return _Silent()


def item(path: Path) -> WorkItem:
    return WorkItem(str(blake3.blake3(path.read_bytes()).hexdigest()), path, "image")


def object_settings(models_dir: Path) -> ObjectSettings:
    config = parse_config(
        {"extractor": {"models": {"dir": str(models_dir)}}}, models_dir / "gallery.yml"
    )
    settings, why = from_config(config.extractor.models)
    assert settings is not None, why
    return ObjectSettings(**{**settings.__dict__, "workers": 1})


# --- decoding ---------------------------------------------------------------------------


def _outputs() -> dict[str, np.ndarray]:
    outputs = {}
    for stride in (8, 16, 32):
        cells = (416 // stride) ** 2
        outputs[f"cls_{stride}"] = np.zeros((1, cells, 80), dtype=np.float32)
        outputs[f"box_{stride}"] = np.zeros((1, cells, 44), dtype=np.float32)
    return outputs


def test_a_cell_becomes_a_box_around_its_centre() -> None:
    outputs = _outputs()
    cell = 3 * 26 + 5  # stride 16: row 3, column 5, centre (88, 56)
    outputs["cls_16"][0, cell, COCO_CLASSES.index("dog")] = 0.8
    bins = outputs["box_16"][0, cell].reshape(4, 11)
    for side, peak in enumerate((2, 3, 4, 1)):  # left, top, right, bottom in bins
        bins[side, peak] = 60.0
    (found,) = decode(outputs, 0.5)
    assert found.name == "dog" and found.score == pytest.approx(0.8)
    assert found.box == pytest.approx((88 - 32, 56 - 48, 88 + 64, 56 + 16), abs=1e-3)


def test_nms_merges_a_class_and_keeps_other_classes_in_the_same_place() -> None:
    box = (10.0, 10.0, 110.0, 110.0)
    near = (14.0, 12.0, 112.0, 108.0)
    found = nms([Detection(16, 0.5, near), Detection(16, 0.7, box), Detection(15, 0.4, box)])
    assert [(d.name, d.score) for d in found] == [("dog", 0.7), ("cat", 0.4)]


def test_a_box_is_stored_relative_and_inside_the_picture() -> None:
    stored = stored_object(Detection(0, 0.91234, (-5.0, 20.0, 100.0, 250.0)), (200, 200))
    assert (stored.class_, stored.score) == ("person", 0.9123)
    assert (stored.x, stored.y, stored.width, stored.height) == (0.0, 0.1, 0.5, 0.9)


# --- the real model on the darknet photos ---------------------------------------------------


def _centre(found: Objects, name: str) -> tuple[float, float]:
    best = next(o for o in found.objects if o.class_ == name)
    return best.x + best.width / 2, best.y + best.height / 2


@pytest.fixture(scope="module")
def found(object_model_dir: Path, darknet_photos: Path) -> dict[str, Objects]:
    settings = object_settings(object_model_dir)
    session = objects.session_for(settings)
    result = {}
    for name in PHOTOS:
        with Image.open(darknet_photos / f"{name}.jpg") as image:
            picture = image.convert("RGB")
        picture.thumbnail((800, 800))  # what the step sees: the 800 preview
        result[name] = objects.find_objects(session, picture, settings.model_tag, 800)
    return result


def _named(found: Objects, score: float = 0.4) -> set[str]:
    return {o.class_ for o in found.objects if o.score >= score}


def test_the_objects_a_person_names_are_found_where_they_are(found: dict[str, Objects]) -> None:
    assert {"dog", "bicycle"} <= _named(found["dog"])
    assert _named(found["dog"]) & {"car", "truck"}
    dog_x, dog_y = _centre(found["dog"], "dog")  # lower left, below the bicycle
    assert dog_x < 0.45 and dog_y > 0.55
    car = "car" if "car" in _named(found["dog"]) else "truck"
    car_x, car_y = _centre(found["dog"], car)  # the van parked at the top right
    assert car_x > 0.6 and car_y < 0.35
    assert "giraffe" in _named(found["giraffe"])
    assert "bird" in _named(found["eagle"])
    assert "horse" in _named(found["horses"])
    assert {"kite", "person"} <= _named(found["kite"])
    kites = [o for o in found["kite"].objects if o.class_ == "kite" and o.score >= 0.4]
    assert len(kites) >= 3 and all(o.y + o.height < 0.5 for o in kites)  # in the sky
    assert {"person", "dog"} <= _named(found["person"])
    person_x, _ = _centre(found["person"], "person")
    dog_x, _ = _centre(found["person"], "dog")
    assert dog_x < person_x  # the dog sits left of the woman
    # the painting has nothing the detector is sure of
    assert not _named(found["scream"])


def test_scores_are_kept_best_first_down_to_the_stored_floor(found: dict[str, Objects]) -> None:
    for result in found.values():
        scores = [o.score for o in result.objects]
        assert scores == sorted(scores, reverse=True)
        assert all(score >= objects.STORED_SCORE for score in scores)


def test_the_step_stores_objects_resumes_and_records_a_broken_preview(
    tmp_path: Path, object_model_dir: Path, darknet_photos: Path
) -> None:
    settings = object_settings(object_model_dir)
    folder = tmp_path / "photos"
    folder.mkdir()
    good = item(Path(shutil.copy(darknet_photos / "dog.jpg", folder / "dog.jpg")))
    bad = item(Path(shutil.copy(darknet_photos / "kite.jpg", folder / "kite.jpg")))  # has an 800
    storage = tmp_path / "storage"
    run_settings = Settings(storage_dir=storage, objects=settings)
    first = run_extract(
        [good, bad], run_settings, ("meta", "preview", "objects"), workers=2, progress_factory=quiet
    )
    assert first.steps["objects"].done == 2 and not first.failures
    stored = read_objects(Storage(storage), good.media_id, settings.model_tag)
    assert stored is not None and stored.preview == 768 and stored.detector == "nanodet-m-1"
    assert "dog" in {o.class_ for o in stored.objects}  # read itself: its previews are small
    again = run_extract([good, bad], run_settings, ("objects",), workers=1, progress_factory=quiet)
    assert again.steps["objects"].skipped == 2 and again.steps["objects"].done == 0
    Storage(storage).delete(bad.media_id, objects_kind(settings.model_tag))
    for preview in Storage(storage).kinds(bad.media_id):
        if preview.startswith("image-preview-"):
            Storage(storage).path(bad.media_id, preview).write_bytes(b"not a jpeg")
    broken = run_extract([good, bad], run_settings, ("objects",), workers=1, progress_factory=quiet)
    assert broken.failures == {("objects", "decode"): 1}
    failure = read_failure(Storage(storage), bad.media_id, "objects")
    assert failure is not None and "cannot read its preview" in failure.message
    assert str(folder / "kite.jpg") in failure.message


# --- imported as a user would, then searched ---------------------------------------------


@pytest.fixture(scope="module")
def gallery(
    tmp_path_factory: pytest.TempPathFactory, object_model_dir: Path, darknet_photos: Path
) -> Iterator[Gallery]:
    root = tmp_path_factory.mktemp("objects")
    source = root / "photos"
    source.mkdir()
    for name in PHOTOS:
        shutil.copy(darknet_photos / f"{name}.jpg", source / f"{name}.jpg")
    config_file = root / "gallery.yml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "sources": [{"dir": str(source)}],
                "storage": {"dir": str(root / "storage")},
                "database": {"file": str(root / "catalog.db")},
                "extractor": {
                    "video": {"enabled": False},
                    "geoReverse": {"provider": "off"},
                    "models": {
                        "dir": str(object_model_dir),
                        "embeddings": "off",
                        "faceDetection": "off",
                        "faceRecognition": "off",
                    },
                },
            }
        ),
        encoding="utf-8",
    )
    run = subprocess.run(
        [*HOMEGALLERY, "-c", str(config_file), "-q", "run", "import", "--initial"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOMEGALLERY_CONFIG": ""},
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "not installed" not in run.stderr
    opened = Gallery(load_config(config_file))
    yield opened
    opened.close()


def _names(gallery: Gallery, query: str) -> set[str]:
    return {Path(entry.files[0].path).stem for entry in gallery.search(query)}


def test_object_queries_find_the_photos(gallery: Gallery) -> None:
    assert _names(gallery, "object:dog") >= {"dog", "person"}
    assert "giraffe" not in _names(gallery, "object:dog")
    assert _names(gallery, "object:giraffe") == {"giraffe"}
    assert _names(gallery, "giraffe") == {"giraffe"}  # a class name is a free-text word
    assert {"eagle", "giraffe"} <= _names(gallery, "objects in (bird, giraffe)")
    assert "kite" in _names(gallery, "count(objects) > 3")
    assert "scream" in _names(gallery, "not exists(objects)")
    assert _names(gallery, "object:kite and object:person") == {"kite"}


def test_a_more_general_word_finds_objects_ranked_below_their_own_name(gallery: Gallery) -> None:
    """Without labels (embeddings are off here) a bare word still reaches objects
    through WordNet: ``animal`` finds the horses and the giraffe, ``vehicle`` the
    bicycle and truck of dog.jpg."""
    animals = _names(gallery, "animal")
    assert {"horses", "giraffe", "dog", "eagle"} <= animals
    assert "dog" in _names(gallery, "vehicle")
    assert "horses" in _names(gallery, "equine")
    ranked = [Path(entry.files[0].path).stem for entry in gallery.search("horse")]
    assert ranked[0] == "horses"  # a horse at its own name before any weaker match


def test_entries_carry_their_objects_with_score_and_box(gallery: Gallery) -> None:
    (entry,) = gallery.search("file:dog.jpg")
    dogs = [o for o in entry.objects if o.class_ == "dog"]
    assert dogs and 0.4 <= dogs[0].score <= 1.0
    x, y, width, height = dogs[0].box
    assert 0.0 <= x < x + width <= 1.0 and 0.0 <= y < y + height <= 1.0
    assert all(o.score >= 0.4 for o in entry.objects)  # objectScore's default


def test_the_command_line_and_the_api_find_dog_jpg(gallery: Gallery) -> None:
    from homegallery.server import create_app
    from homegallery.server.runner import running

    config_file = gallery.config.database.path.parent / "gallery.yml"
    run = subprocess.run(
        [*HOMEGALLERY, "-c", str(config_file), "search", "--json", "object:dog"],
        capture_output=True,
        text=True,
        env={**os.environ, "HOMEGALLERY_CONFIG": ""},
    )
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    paths = {Path(entry["files"][0]["path"]).name for entry in found}
    assert "dog.jpg" in paths
    (dog,) = [entry for entry in found if entry["files"][0]["path"].endswith("dog.jpg")]
    assert any(o["class"] == "dog" for o in dog["objects"])
    with running(create_app(gallery.config, poll_seconds=0.2)) as url:
        query = urllib.parse.quote("object:bicycle")
        with urllib.request.urlopen(f"{url}/api/entries?q={query}") as response:
            page = json.load(response)
        (entry,) = page["entries"]
        with urllib.request.urlopen(f"{url}/api/entries/{entry['id']}") as response:
            detail = json.load(response)
    assert any(o["class"] == "bicycle" and len(o["box"]) == 4 for o in detail["objects"])


def test_a_missing_object_model_is_said_once_and_the_import_goes_on(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    darknet_photos: Path,
) -> None:
    import logging

    import homegallery.log
    from homegallery.extract.runner import extract_gallery
    from homegallery.index import update_index

    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(darknet_photos / "dog.jpg", folder / "dog.jpg")
    models = {"dir": str(tmp_path / "no-models"), "embeddings": "off", "faceDetection": "off"}
    config = parse_config(
        {
            "sources": [{"dir": str(folder)}],
            "storage": {"dir": str(tmp_path / "storage")},
            "database": {"file": str(tmp_path / "catalog.db")},
            "extractor": {"models": models},
        },
        tmp_path / "gallery.yml",
    )
    update_index(config)
    monkeypatch.setattr(homegallery.log, "_warned", set())  # nothing said yet
    with caplog.at_level(logging.WARNING, logger="homegallery.extract"):
        first = extract_gallery(config, workers=1, progress_factory=quiet)
        extract_gallery(config, workers=1, progress_factory=quiet)
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("objects")]
    assert said == [
        "objects: model nanodet-m is not installed: run `homegallery models install nanodet-m`; "
        "the rest of the import goes on without them"
    ]
    assert first.steps["preview"].done == 1 and not first.failures
    off = parse_config({"extractor": {"models": {"objects": "off"}}}, tmp_path / "off.yml")
    assert from_config(off.extractor.models) == (None, "")


def test_object_score_outside_0_to_1_is_a_config_error(tmp_path: Path) -> None:
    from homegallery.config import ConfigError

    with pytest.raises(ConfigError, match=r"objectScore`: must be a score from 0 to 1"):
        parse_config({"extractor": {"models": {"objectScore": 1.5}}}, tmp_path / "gallery.yml")
