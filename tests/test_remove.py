"""``homegallery remove``: entries out by query, their tags kept, out for good with --keep."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homegallery.catalog.events import read_events
from homegallery.catalog.schema import open_reader
from homegallery.cli.main import main
from homegallery.config import Config, load_config
from homegallery.gallery import open_gallery
from homegallery.importer import ImportOptions, import_lock, import_update
from homegallery.index import load_index
from homegallery.index.removed import exact_pattern, removed_file


@pytest.fixture
def gallery_config(photos_dir: Path, tmp_path: Path) -> Path:
    source = tmp_path / "photos"
    shutil.copytree(photos_dir / "gps", source / "gps")
    cameras = source / "cameras"
    cameras.mkdir()
    for name in ("Canon_40D.jpg", "Nikon_D70.jpg", "Pentax_K10D.jpg"):
        shutil.copy(photos_dir / "cameras" / name, cameras / name)
    # A name full of pattern characters, beside one the pattern would catch unescaped.
    shutil.copy(photos_dir / "cameras" / "Sony_HDR-HC3.jpg", cameras / "odd [1]*.jpg")
    shutil.copy(photos_dir / "cameras" / "sony-d700.jpg", cameras / "odd 1x.jpg")
    config_file = tmp_path / "gallery.yml"
    config_file.write_text(
        "sources: [{dir: photos}]\n"
        "database: {file: data/catalog.db}\n"
        "storage: {dir: data/storage}\n"
        "extractor: {workers: 1, image: {previewSizes: [128]}, geoReverse: {provider: off},"
        " models: {embeddings: off}}\n"
    )
    import_update(load_config(config_file), ImportOptions(workers=1, quiet=True))
    return config_file


def count(config: Config, query: str) -> int:
    with open_gallery(config) as gallery:
        return gallery.count(query)


def remove(config_file: Path, *args: str) -> int:
    return main(["remove", "--config", str(config_file), "-q", *args])


def test_dry_run_changes_nothing(gallery_config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = load_config(gallery_config)
    assert count(config, "make:nikon") == 10
    assert remove(gallery_config, "--query", "make:nikon", "--keep", "--dry-run") == 0
    output = capsys.readouterr().out
    assert "would remove 10 entries (10 files)" in output
    assert "would add 10 exclude rules" in output
    assert count(config, "make:nikon") == 10
    assert not removed_file(config.sources[0]).exists()


def test_without_keep_the_next_build_brings_them_back_with_their_tags(
    gallery_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(gallery_config)
    with open_gallery(config) as gallery:
        (canon,) = gallery.search_ids("file:Canon_40D.jpg")
        gallery.tag([canon], add=["kept"])
    assert remove(gallery_config, "--query", "make:canon") == 0
    assert "removed 1 entries" in capsys.readouterr().out
    assert count(config, "") == 13
    import_update(config, ImportOptions(workers=1, quiet=True))
    assert count(config, "tag:kept") == 1


def test_keep_keeps_them_out_until_the_rule_goes(
    gallery_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(gallery_config)
    with open_gallery(config) as gallery:
        (odd,) = gallery.search_ids('file:"odd [1]*.jpg"')
        gallery.tag([odd], add=["strange"])
    assert remove(gallery_config, "--query", 'file:"odd [1]*.jpg"', "--keep") == 0
    assert "added 1 exclude rules" in capsys.readouterr().out
    source = config.sources[0]
    assert exact_pattern("cameras/odd [1]*.jpg") in removed_file(source).read_text()
    indexed = {entry.path for entry in load_index(source.index_path)}
    assert "cameras/odd [1]*.jpg" not in indexed and "cameras/odd 1x.jpg" in indexed
    assert count(config, "tag:strange") == 0 and count(config, "") == 13

    import_update(config, ImportOptions(workers=1, quiet=True))
    assert count(config, "") == 13
    connection = open_reader(config.database.path)
    try:
        assert [e.add_tags for _, e in read_events(connection)] == [["strange"]]
    finally:
        connection.close()

    removed_file(source).unlink()
    import_update(config, ImportOptions(workers=1, quiet=True))
    assert count(config, "tag:strange") == 1 and count(config, "") == 14


def test_an_empty_or_broken_query_removes_nothing(
    gallery_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert remove(gallery_config, "--query", " ") == 1
    assert "empty one would remove every entry" in capsys.readouterr().err
    assert remove(gallery_config, "--query", "year >") == 1
    error = capsys.readouterr().err
    assert error.startswith("homegallery remove: error:") and "^" in error
    assert count(load_config(gallery_config), "") == 14


def test_refused_while_an_import_runs(
    gallery_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = load_config(gallery_config)
    with import_lock(config.database.path):
        assert remove(gallery_config, "--query", "make:nikon", "--keep") == 1
    assert "another import is running" in capsys.readouterr().err
    assert count(config, "make:nikon") == 10
    assert not removed_file(config.sources[0]).exists()


@given(
    st.lists(
        st.text(alphabet="ab *?[]!#\\ -._é", min_size=1, max_size=12).filter(
            lambda part: part not in (".", "..")
        ),
        min_size=1,
        max_size=3,
    )
)
def test_an_exact_pattern_matches_its_path_and_nothing_else(parts: list[str]) -> None:
    from homegallery import _core

    path = "/".join(parts)
    # (Below a folder of that name does not count: a file and a folder cannot share it.)
    others = [path + "x", "x" + path, f"other/{path}", path.replace("a", "b", 1)]
    others = [other for other in others if other != path]
    matches = _core.match_excludes([exact_pattern(path)], [path, *others], False)
    assert matches == [True] + [False] * len(others), (path, others)
