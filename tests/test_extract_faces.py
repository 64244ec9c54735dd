"""The ``faces`` step on real group photos with the real YuNet and SFace.

The photos come from registry packages (face-api's demo photos, scikit-image's
astronaut); their faces were counted by eye.
"""

from __future__ import annotations

import itertools
import logging
import shutil
from pathlib import Path

import blake3
import numpy as np
import pytest
from PIL import Image, ImageOps

import homegallery.log
from face_photos import GROUP_PHOTOS, astronaut, group_photo
from homegallery.config import parse_config
from homegallery.extract import faces
from homegallery.extract.faces import FaceSettings, from_config, tile_starts
from homegallery.extract.runner import extract_gallery, run_extract
from homegallery.extract.schema import Faces, faces_kind, read_faces, read_failure
from homegallery.extract.worker import Settings, WorkItem
from homegallery.storage import Storage


class _Silent:
    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def quiet(label: str, total: int) -> _Silent:
    return _Silent()


def item(path: Path) -> WorkItem:
    return WorkItem(str(blake3.blake3(path.read_bytes()).hexdigest()), path, "image")


def face_settings(models_dir: Path, **changes: object) -> FaceSettings:
    config = parse_config(
        {"extractor": {"models": {"dir": str(models_dir)}}}, models_dir / "gallery.yml"
    )
    settings, why = from_config(config.extractor.models)
    assert settings is not None, why
    return FaceSettings(**{**settings.__dict__, "workers": 1, **changes})


def extract(
    items: list[WorkItem], storage: Path, settings: FaceSettings, retry: bool = False
) -> Settings:
    run_settings = Settings(storage_dir=storage, faces=settings)
    summary = run_extract(
        items, run_settings, ("meta", "preview", "faces"), retry, workers=2, progress_factory=quiet
    )
    assert not [key for key in summary.failures if key[0] != "faces"], summary.lines()
    return run_settings


def stored(storage: Path, entry: WorkItem, settings: FaceSettings) -> Faces:
    found = read_faces(Storage(storage), entry.media_id, settings.models_tag)
    assert found is not None
    return found


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(np.asarray(a), np.asarray(b)))


def test_every_face_of_the_group_photos_is_found_with_its_landmarks_inside_its_box(
    tmp_path: Path, face_model_dir: Path
) -> None:
    settings = face_settings(face_model_dir)
    folder = tmp_path / "photos"
    folder.mkdir()
    paths = {name: shutil.copy(group_photo(name), folder / name) for name in GROUP_PHOTOS}
    paths["astronaut.png"] = shutil.copy(astronaut(), folder / "astronaut.png")
    items = {name: item(Path(path)) for name, path in paths.items()}
    storage = tmp_path / "storage"
    extract(list(items.values()), storage, settings)
    expected = {name: count for name, (_, _, count) in GROUP_PHOTOS.items()}
    expected["astronaut.png"] = 1
    counts = {name: len(stored(storage, entry, settings).faces) for name, entry in items.items()}
    assert counts == expected
    for name, entry in items.items():
        found = stored(storage, entry, settings)
        # The 1280 preview; the 512-pixel astronaut has previews up to 320 only.
        assert found.preview == (320 if name == "astronaut.png" else 1280)
        for face in found.faces:
            assert face.score >= 0.7
            assert face.x >= 0 and face.x + face.width <= 1 and 0 < face.width < 0.5
            assert face.y >= 0 and face.y + face.height <= 1 and 0 < face.height < 0.5
            for x, y in face.landmarks:
                assert face.x <= x <= face.x + face.width, name
                assert face.y <= y <= face.y + face.height, name
            assert len(face.descriptor) == 128
            assert abs(np.linalg.norm(face.descriptor) - 1) < 1e-4
        # Different people of one photo: no two of its faces reach a cosine of 0.6.
        for first in range(len(found.faces)):
            for second in range(first + 1, len(found.faces)):
                descriptors = found.faces[first].descriptor, found.faces[second].descriptor
                assert cosine(*descriptors) < 0.6, name
    # A second run finds every file there and does nothing.
    again = run_extract(
        list(items.values()),
        Settings(storage_dir=storage, faces=settings),
        ("faces",),
        workers=2,
        progress_factory=quiet,
    )
    assert (again.steps["faces"].done, again.steps["faces"].skipped) == (0, 7)


def test_a_mirrored_and_a_resized_copy_give_the_same_face(
    tmp_path: Path, face_model_dir: Path
) -> None:
    settings = face_settings(face_model_dir)
    folder = tmp_path / "photos"
    folder.mkdir()
    with Image.open(astronaut()) as image:
        image.convert("RGB").save(folder / "original.jpg", quality=95)
        ImageOps.mirror(image.convert("RGB")).save(folder / "mirrored.jpg", quality=95)
        image.convert("RGB").resize((320, 320)).save(folder / "small.jpg", quality=95)
    with Image.open(group_photo("sample5.jpg")) as image:
        image.save(folder / "group.jpg")
    items = [item(folder / name) for name in ("original.jpg", "mirrored.jpg", "small.jpg")]
    group = item(folder / "group.jpg")
    storage = tmp_path / "storage"
    extract([*items, group], storage, settings)
    original, mirrored, small = (stored(storage, entry, settings).faces for entry in items)
    assert len(original) == len(mirrored) == len(small) == 1
    assert cosine(original[0].descriptor, mirrored[0].descriptor) > 0.8
    assert cosine(original[0].descriptor, small[0].descriptor) > 0.8
    # The mirrored face's box is the original's, mirrored.
    assert abs(mirrored[0].x - (1 - original[0].x - original[0].width)) < 0.02
    for other in stored(storage, group, settings).faces:
        assert cosine(original[0].descriptor, other.descriptor) < 0.363


def test_small_faces_of_a_large_picture_are_found_in_tiles(
    tmp_path: Path, face_model_dir: Path
) -> None:
    """A group photo 480 pixels wide inside a 1920-pixel picture: faces of ~30 pixels.

    Scaled to 640 as a whole they are ~10 pixels wide, too small for the detector;
    the tiles of the 1280 preview see them at ~20.
    """
    settings = face_settings(face_model_dir)
    folder = tmp_path / "photos"
    folder.mkdir()
    canvas = Image.new("RGB", (1920, 1440), (90, 90, 90))
    with Image.open(group_photo("sample5.jpg")) as image:
        canvas.paste(image.convert("RGB").resize((480, 349)), (700, 600))
    canvas.save(folder / "crowd.jpg", quality=95)
    entry = item(folder / "crowd.jpg")
    storage = tmp_path / "storage"
    extract([entry], storage, settings)
    found = stored(storage, entry, settings).faces
    assert len(found) == 5
    for face in found:
        assert 700 / 1920 <= face.x <= 1180 / 1920 and 600 / 1440 <= face.y <= 949 / 1440
    # Whole only (no tiles), the same preview gives fewer.
    import onnxruntime as ort

    session = ort.InferenceSession(str(settings.detector_file), providers=["CPUExecutionProvider"])
    preview = Storage(storage).path(entry.media_id, "image-preview-1280.jpg")
    with Image.open(preview) as image:
        picture = image.convert("RGB")
    faces_whole = faces.detect(session, picture.resize((640, 480)), settings.min_score)
    assert len(faces_whole) < 5


def test_tiles_cover_the_side_and_overlap() -> None:
    assert tile_starts(600) == [0]
    assert tile_starts(640) == [0]
    assert tile_starts(1280) == [0, 320, 640]
    assert tile_starts(960) == [0, 320]
    for length in (700, 1000, 1280, 1920, 4000):
        starts = tile_starts(length)
        assert starts[0] == 0 and starts[-1] + 640 == length
        assert all(b - a <= 640 - 160 for a, b in itertools.pairwise(starts))


def test_a_broken_preview_fails_its_photo_only_and_is_retried_when_asked(
    tmp_path: Path, face_model_dir: Path
) -> None:
    settings = face_settings(face_model_dir)
    folder = tmp_path / "photos"
    folder.mkdir()
    good = item(Path(shutil.copy(astronaut(), folder / "a.png")))
    with Image.open(group_photo("sample1.jpg")) as image:
        image.save(folder / "b.jpg")
    bad = item(folder / "b.jpg")
    storage = tmp_path / "storage"
    extract([good, bad], storage, settings)
    preview = Storage(storage).path(bad.media_id, "image-preview-1280.jpg")
    Storage(storage).delete(bad.media_id, faces_kind(settings.models_tag))
    preview.write_bytes(b"not a jpeg")
    run_settings = Settings(storage_dir=storage, faces=settings)
    summary = run_extract([good, bad], run_settings, ("faces",), workers=1, progress_factory=quiet)
    assert summary.failures == {("faces", "decode"): 1}
    failure = read_failure(Storage(storage), bad.media_id, "faces")
    assert failure is not None and "cannot read its preview" in failure.message
    assert read_faces(Storage(storage), good.media_id, settings.models_tag) is not None
    again = run_extract([good, bad], run_settings, ("faces",), workers=1, progress_factory=quiet)
    assert again.steps["faces"].failed_before == 1 and not again.failures
    with Image.open(group_photo("sample1.jpg")) as image:
        image.convert("RGB").resize((1280, 853)).save(preview)
    retried = run_extract(
        [good, bad], run_settings, ("faces",), True, workers=1, progress_factory=quiet
    )
    assert retried.steps["faces"].done == 1 and not retried.failures
    assert read_failure(Storage(storage), bad.media_id, "faces") is None
    assert len(stored(storage, bad, settings).faces) == 3


def test_missing_models_are_said_once_and_the_import_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(astronaut(), folder / "a.png")
    from homegallery.index import update_index

    config = parse_config(
        {
            "sources": [{"dir": str(folder)}],
            "storage": {"dir": str(tmp_path / "storage")},
            "database": {"file": str(tmp_path / "catalog.db")},
            "extractor": {"models": {"dir": str(tmp_path / "no-models"), "embeddings": "off"}},
        },
        tmp_path / "gallery.yml",
    )
    update_index(config)
    monkeypatch.setattr(homegallery.log, "_warned", set())  # nothing said yet
    with caplog.at_level(logging.WARNING, logger="homegallery.extract"):
        first = extract_gallery(config, workers=1, progress_factory=quiet)
        extract_gallery(config, workers=1, progress_factory=quiet)
    said = [record.getMessage() for record in caplog.records if "faces" in record.getMessage()]
    assert said == [
        "faces: model yunet is not installed: run `homegallery models install yunet`; "
        "the rest of the import goes on without them"
    ]
    assert first.steps["preview"].done == 1 and not first.failures


def test_faces_turned_off_run_nothing(tmp_path: Path) -> None:
    config = parse_config(
        {"extractor": {"models": {"faceDetection": "off"}}}, tmp_path / "gallery.yml"
    )
    assert from_config(config.extractor.models) == (None, "")
