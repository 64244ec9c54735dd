"""Config loading: defaults, path resolution and one clear line for every mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from homegallery.config import (
    ConfigError,
    PreviewJpeg,
    VideoExtractor,
    load_config,
    parse_size,
)
from homegallery.config_template import render_config


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_template_loads_with_every_default(tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    config_file = write(tmp_path / "gallery.yml", render_config([photos]))
    config = load_config(config_file)
    assert [source.dir for source in config.sources] == [str(photos)]
    assert config.extractor.image.preview_sizes == [1920, 1280, 800, 320, 128]
    assert config.extractor.image.preview_quality == 80
    # The template writes the encoder settings out; they must be the defaults.
    assert config.extractor.image.preview_jpeg == PreviewJpeg()
    assert config.extractor.video == VideoExtractor()
    assert config.server.host == "127.0.0.1"
    assert config.server.port == 3000
    assert config.sources[0].matcher == "size-ctime-inode"
    assert config.sources[0].exclude_if_present == ".galleryignore"


def test_empty_file_gives_defaults_under_xdg_data(tmp_path: Path, isolated_home: Path) -> None:
    config = load_config(write(tmp_path / "gallery.yml", ""))
    data = isolated_home / ".local/share/homegallery"
    assert config.storage.path == data / "storage"
    assert config.database.path == data / "catalog.db"
    assert config.sources == []


def test_relative_paths_and_variables_resolve_from_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "pics").mkdir()
    config = load_config(
        write(
            tmp_path / "gallery.yml",
            "sources:\n  - dir: pics\nstorage:\n  dir: '{baseDir}/store'\ndatabase:\n  file: db/c.db\n",
        )
    )
    assert config.sources[0].path == tmp_path / "pics"
    assert config.storage.path == tmp_path / "store"
    assert config.database.path == tmp_path / "db/c.db"
    assert config.sources[0].index_path == tmp_path / "db/index/pics.idx"


def test_home_and_environment_variables_expand(
    tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (isolated_home / "Pictures").mkdir()
    monkeypatch.setenv("GALLERY_STORE", str(tmp_path / "elsewhere"))
    config = load_config(
        write(
            tmp_path / "gallery.yml",
            "sources: [{dir: ~/Pictures}]\nstorage: {dir: $GALLERY_STORE}\n",
        )
    )
    assert config.sources[0].path == isolated_home / "Pictures"
    assert config.storage.path == tmp_path / "elsewhere"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("colour: blue\n", "unknown key `colour`"),
        ("server:\n  prot: 3000\n", "unknown key `server.prot`"),
        ("sources:\n  - dir: .\n    exclude: [x]\n", "unknown key `sources[0].exclude`"),
        ("server:\n  port: high\n", "`server.port`: expected `int`, got `str`"),
        ("sources:\n  - excludes: []\n", "missing key `sources[0].dir`"),
        ("sources:\n  - dir: .\n    matcher: sha1\n", "`sources[0].matcher`"),
        ("sources: [{dir: ./missing}]\n", "`sources[0].dir`: folder"),
        ("sources: [{dir: ., maxFileSize: huge}]\n", "`sources[0].maxFileSize`: not a size"),
        ("server: {port: 70000}\n", "`server.port`: 70000 is not a TCP port"),
        ("extractor: {image: {previewQuality: 0}}\n", "previewQuality"),
        ("extractor: {image: {previewJpeg: {quantTable: 9}}}\n", "previewJpeg.quantTable"),
        ("extractor: {image: {previewJpeg: {subsample: half}}}\n", "previewJpeg.subsample"),
        ("extractor: {image: {previewJpeg: {optimizeMaxSize: -1}}}\n", "optimizeMaxSize"),
        ("extractor: {video: {crf: 60}}\n", "`extractor.video.crf`: must be from 0 to 51"),
        ("- just\n- a list\n", "the top level must be a mapping"),
        ("sources: [\n", "invalid YAML at line"),
        (
            "sources: [{dir: ., index: a.idx}, {dir: ., index: a.idx}]\n",
            "already used by sources[0]",
        ),
    ],
)
def test_mistakes_give_one_line_naming_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    config_file = write(tmp_path / "gallery.yml", text)
    with pytest.raises(ConfigError) as caught:
        load_config(config_file)
    message = str(caught.value)
    assert message.startswith(f"{config_file}: ")
    assert expected in message
    assert "\n" not in message


def test_missing_folder_is_accepted_for_an_offline_source(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path / "gallery.yml", "sources: [{dir: ./unmounted, offline: true}]\n")
    )
    assert config.sources[0].offline


def test_missing_config_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="homegallery init"):
        load_config(tmp_path / "nope.yml")


def test_default_config_file_follows_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file = write(tmp_path / "custom.yml", "server: {port: 4000}\n")
    monkeypatch.setenv("HOMEGALLERY_CONFIG", str(config_file))
    assert load_config().server.port == 4000


@pytest.mark.parametrize(
    ("text", "expected"),
    [("20M", 20 * 1024**2), ("1G", 1024**3), ("500k", 500 * 1024), ("1.5 MB", 1572864), ("7", 7)],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


def test_parse_size_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="not a size"):
        parse_size("twelve")


def test_unquoted_off_turns_places_off(tmp_path: Path) -> None:
    config = load_config(write(tmp_path / "g.yml", "extractor: {geoReverse: {provider: off}}\n"))
    assert config.extractor.geo_reverse.provider == "off"


def test_missing_folder_of_an_indexed_source_is_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "index.idx").write_bytes(b"")
    config = load_config(
        write(tmp_path / "g.yml", "sources: [{dir: ./unmounted, index: index.idx}]\n")
    )
    assert config.sources[0].dir == str(tmp_path / "unmounted")
    assert "missing (unmounted?)" in caplog.text


def test_each_source_is_known_to_queries_by_its_index_name(tmp_path: Path) -> None:
    """HomeGallery's `index:` names a source by its index file; a default index file
    is named after the folder, and then the folder's own name is the index's name."""
    for name in ("My Photos", "phone", "ext-disk"):
        (tmp_path / name).mkdir()
    config_file = tmp_path / "gallery.yml"
    config_file.write_text(
        "sources:\n"
        "  - {dir: 'My Photos'}\n"
        "  - {dir: phone}\n"
        "  - {dir: ext-disk, index: '{configDir}/indexes/ext.idx'}\n"
    )
    sources = load_config(config_file).sources
    assert [source.index_name for source in sources] == ["My Photos", "phone", "ext"]
    assert sources[0].index_path.name == "My-Photos.idx"
