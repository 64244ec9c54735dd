"""``homegallery export static``: what lands in the folder or archive, byte for byte."""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from homegallery.cli.main import main
from homegallery.config import load_config
from homegallery.gallery import open_gallery
from homegallery.importer import ImportOptions, import_update


@pytest.fixture
def gallery_config(photos_dir: Path, tmp_path: Path) -> Path:
    source = tmp_path / "photos"
    shutil.copytree(photos_dir / "gps", source / "gps")
    shutil.copytree(photos_dir / "orientation", source / "orientation")
    config_file = tmp_path / "gallery.yml"
    config_file.write_text(
        "sources: [{dir: photos}]\n"
        "database: {file: data/catalog.db}\n"
        "storage: {dir: data/storage}\n"
        "extractor: {workers: 1, image: {previewSizes: [1280, 320, 128]},"
        " geoReverse: {provider: offline}, models: {embeddings: off}}\n"
    )
    import_update(load_config(config_file), ImportOptions(workers=1, quiet=True))
    return config_file


def data_of(text: str) -> dict[str, object]:
    prefix = "window.GALLERY = "
    assert text.startswith(prefix)
    value: dict[str, object] = json.loads(text[len(prefix) :].rstrip().rstrip(";"))
    return value


def export(config_file: Path, *args: str) -> int:
    return main(["export", "static", "--config", str(config_file), "-q", *args])


def test_a_folder_holds_the_matching_entries_and_their_previews(
    gallery_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(gallery_config)
    out = tmp_path / "album"
    assert export(gallery_config, "--query", "year:2008", "--out", str(out)) == 0
    assert "exported 9 entries" in capsys.readouterr().out
    data = data_of((out / "data.js").read_text(encoding="utf-8"))
    with open_gallery(config) as gallery:
        expected = gallery.search("year:2008")
    records = data["entries"]
    assert isinstance(records, list)
    assert [r["id"] for r in records] == [e.id for e in expected]
    for record, entry in zip(records, expected, strict=True):
        assert record["grid"].endswith("-image-preview-320.jpg")
        largest = max(int(p.rsplit("-", 1)[1].split(".")[0]) for p in entry.previews)
        assert record["full"].endswith(f"-image-preview-{min(largest, 1280)}.jpg")
        stored = next(p for p in entry.previews if p.endswith(record["grid"].split("/")[-1]))
        assert (out / record["grid"]).read_bytes() == (config.storage.path / stored).read_bytes()
        assert "lat" in record and "/" not in record["name"]
        assert str(config.sources[0].path) not in json.dumps(record)
    for name in ("index.html", "viewer.js", "viewer.css", "world.js",
                 "vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css"):  # fmt: skip
        assert (out / name).is_file(), name
    assert "<base" not in (out / "index.html").read_text()
    # a web server running as another user reads it (the staging folder was private)
    assert out.stat().st_mode & 0o005 == 0o005
    assert (out / "data.js").stat().st_mode & 0o004


def test_archives_random_folders_and_a_base_path(
    gallery_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zipped = tmp_path / "album.zip"
    assert export(gallery_config, "--out", str(zipped), "--random-folder") == 0
    output = capsys.readouterr().out
    folder = output.split("in its folder ")[1].split("/")[0]
    assert zipped.stat().st_mode & 0o044 == 0o044  # not private like its temporary file
    with zipfile.ZipFile(zipped) as archive:
        names = archive.namelist()
        assert f"{folder}/index.html" in names and all(n.startswith(folder + "/") for n in names)
        assert len(data_of(archive.read(f"{folder}/data.js").decode())["entries"]) == 25  # type: ignore[arg-type]
    tarred = tmp_path / "album.tar.gz"
    assert export(gallery_config, "--out", str(tarred), "--base-path", "/trips/italy") == 0
    with tarfile.open(tarred) as archive:
        page = archive.extractfile("index.html")
        assert page is not None and '<base href="/trips/italy/">' in page.read().decode()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".album")]  # no leftovers


def test_refusals_and_dry_run(
    gallery_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    assert export(gallery_config, "--out", str(busy)) == 1
    assert "exists and is not an empty folder" in capsys.readouterr().err
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]
    assert export(gallery_config, "--out", str(tmp_path / "x"), "--base-path", "trips") == 1
    assert "must start with /" in capsys.readouterr().err
    assert export(gallery_config, "--out", str(tmp_path / "dry"), "--dry-run") == 0
    assert "would export 25 entries" in capsys.readouterr().out
    assert not (tmp_path / "dry").exists()
    assert export(gallery_config, "--out", str(tmp_path / "q"), "--query", "year >") == 1
