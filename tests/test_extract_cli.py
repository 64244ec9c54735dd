"""The `homegallery extract` command: options, messages, and a whole run after `index`."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from homegallery.cli.extract import parse_steps
from homegallery.cli.main import main
from homegallery.config_template import render_config


def write_config(folder: Path, sources: list[Path]) -> Path:
    config = folder / "gallery.yml"
    config.write_text(
        render_config(sources, storage_dir="{baseDir}/storage", database_file="{baseDir}/db"),
        encoding="utf-8",
    )
    return config


def test_steps_option() -> None:
    assert parse_steps("geo,meta") == ("meta", "geo")
    assert parse_steps(" preview ") == ("preview",)
    with pytest.raises(argparse.ArgumentTypeError, match="unknown step thumbs"):
        parse_steps("meta,thumbs")
    with pytest.raises(argparse.ArgumentTypeError):
        parse_steps(",")


def test_no_sources_and_no_index_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = write_config(tmp_path, [])
    assert main(["--config", str(empty), "extract"]) == 1
    assert "no sources" in capsys.readouterr().err

    photos = tmp_path / "photos"
    photos.mkdir()
    (tmp_path / "with").mkdir()
    config = write_config(tmp_path / "with", [photos])
    assert main(["--config", str(config), "extract", "--workers", "1"]) == 0
    assert "0 media files" in capsys.readouterr().out
    assert main(["--config", str(config), "extract", "--workers", "-1"]) == 1


def test_index_then_extract(
    tmp_path: Path, photos_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, [photos_dir / "orientation", photos_dir / "gps"])
    assert main(["--config", str(config), "index"]) == 0
    assert main(["--config", str(config), "extract", "--only", "meta,preview,geo"]) == 0
    first = capsys.readouterr().out
    assert "25 media files" in first and "preview    25 done" in first
    assert main(["--config", str(config), "extract"]) == 0
    assert "0 with work" in capsys.readouterr().out
    storage = tmp_path / "storage"
    assert len(list(storage.rglob("*-place.json"))) == 9
    assert len(list(storage.rglob("*-image-preview-128.jpg"))) == 25
