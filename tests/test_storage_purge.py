"""``homegallery storage purge``: leftovers go, what an index or entry needs stays."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from homegallery.cli.main import main
from homegallery.config import Config, load_config
from homegallery.gallery import open_gallery
from homegallery.importer import ImportOptions, import_lock, import_update
from homegallery.index import load_index, update_index
from homegallery.storage import Storage, read_record


@pytest.fixture
def gallery_config(photos_dir: Path, tmp_path: Path) -> Path:
    source = tmp_path / "photos"
    shutil.copytree(photos_dir / "gps", source / "gps")
    shutil.copytree(photos_dir / "invalid", source / "invalid")  # failure records
    config_file = tmp_path / "gallery.yml"
    config_file.write_text(
        "sources: [{dir: photos}]\n"
        "database: {file: data/catalog.db}\n"
        "storage: {dir: data/storage}\n"
        "extractor: {workers: 1, image: {previewSizes: [320, 128]}, geoReverse: {provider: off},"
        " models: {embeddings: off}}\n"
    )
    import_update(load_config(config_file), ImportOptions(workers=1, quiet=True))
    return config_file


def stored(config: Config) -> set[str]:
    root = config.storage.path
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def purge(config_file: Path, *args: str) -> int:
    return main(["storage", "purge", "--config", str(config_file), "-q", *args])


def test_purge_removes_what_nothing_needs_and_keeps_the_rest(
    gallery_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(gallery_config)
    storage = Storage(config.storage.path)
    index = load_index(config.sources[0].index_path)
    gone = next(entry for entry in index if entry.path.startswith("gps/"))
    stem = storage.relative(gone.id, "x")[:-1]  # ab/cd/<id[4:]>-
    gone_files = {name for name in stored(config) if name.startswith(stem)}
    assert len(gone_files) >= 3  # the record (meta and the rest) and two previews
    kept_id = next(entry.id for entry in index if entry.id != gone.id)
    # Leftovers of a crashed write and of an extractor step that no longer exists, and a
    # file the storage did not make.
    folder = storage.folder(kept_id)
    (folder / ".abc.x1y2.part.jpg").write_bytes(b"half")
    stale = storage.path(kept_id, "failed-thumbnails.json")  # no such step
    stale.write_text("{}")
    (folder / "NOTES").write_text("mine")
    before = stored(config)

    (config.sources[0].path / gone.path).unlink()
    update_index(config)
    assert purge(gallery_config) == 0  # the catalog still holds the entry
    assert "removed 2 storage files" in capsys.readouterr().out
    assert stored(config) == before - {
        folder.relative_to(config.storage.path).as_posix() + "/.abc.x1y2.part.jpg",
        stale.relative_to(config.storage.path).as_posix(),
    }

    import_update(config, ImportOptions(workers=1, quiet=True))
    before = stored(config)
    assert purge(gallery_config, "--dry-run") == 0
    output = capsys.readouterr().out
    assert f"would remove {len(gone_files)} storage files" in output
    assert f"{len(gone_files)} files of ids no index or entry holds" in output
    assert "left alone: 1 file " in output
    assert stored(config) == before

    assert purge(gallery_config) == 0
    assert stored(config) == before - gone_files
    with open_gallery(config) as gallery:
        previews = [p for entry in gallery for p in entry.previews]
    assert previews and all((config.storage.path / p).is_file() for p in previews)
    failures = [
        name
        for name in stored(config)
        if name.endswith("-record.bin")
        and any(kind.startswith("failed-") for kind in read_record(config.storage.path / name))
    ]
    assert failures  # the broken photos' failure records are the ids' own: kept


def test_refused_while_an_import_runs(
    gallery_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(gallery_config)
    index = load_index(config.sources[0].index_path)
    (config.sources[0].path / index[0].path).unlink()
    update_index(config)
    import_update(config, ImportOptions(workers=1, quiet=True))
    before = stored(config)
    with import_lock(config.database.path):
        assert purge(gallery_config) == 1
    assert "another import is running" in capsys.readouterr().err
    assert stored(config) == before


def test_a_source_without_index_stops_it(
    gallery_config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "more").mkdir()
    with gallery_config.open("a") as handle:
        handle.write("\n")
    text = gallery_config.read_text().replace(
        "sources: [{dir: photos}]", "sources: [{dir: photos}, {dir: more}]"
    )
    gallery_config.write_text(text)
    before = stored(load_config(gallery_config))
    assert purge(gallery_config) == 1
    assert "has no index yet" in capsys.readouterr().err
    assert stored(load_config(gallery_config)) == before
