"""The `homegallery extract` command: options, messages, and a whole run after `index`."""

from __future__ import annotations

import argparse
import io
import random
from pathlib import Path

import pytest
from PIL import Image

from homegallery.cli.extract import parse_steps
from homegallery.cli.main import main
from homegallery.config_template import render_config
from homegallery.samples import write_sample_photo
from homegallery.storage import read_record


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
    records = [read_record(path) for path in storage.rglob("*-record.bin")]
    assert sum("place.json" in record for record in records) == 9
    assert len(list(storage.rglob("*-image-preview-128.jpg"))) == 25


def _broken_folder(folder: Path, count: int) -> list[Path]:
    """``count`` files that no decoder reads: JPEGs cut after their first bytes, and
    one file of random bytes."""
    folder.mkdir(parents=True)
    good = Image.new("RGB", (64, 48), (200, 30, 30))
    buffer = io.BytesIO()
    good.save(buffer, "JPEG")
    paths = []
    for number in range(count - 1):
        path = folder / f"cut_{number:02d}.jpg"
        path.write_bytes(buffer.getvalue()[: 40 + number])
        paths.append(path)
    noise = folder / "noise.jpg"
    noise.write_bytes(random.Random(7).randbytes(5000))
    write_sample_photo(folder / "fine.jpg", 320, 240, seed=1)
    return [*paths, noise]


def test_failed_files_are_named_with_their_step_and_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = _broken_folder(tmp_path / "photos", 7)
    config = write_config(tmp_path, [tmp_path / "photos"])
    assert main(["--config", str(config), "index"]) == 0
    capsys.readouterr()
    assert main(["--config", str(config), "extract", "--only", "meta,preview"]) == 0
    out = capsys.readouterr().out
    named = [path for path in broken if f"{path}: preview failed (decode): " in out]
    assert "7 files failed in this run:" in out
    assert len(named) == 5 and "… and 2 more files (all with -v;" in out
    assert "fine.jpg" not in out

    assert main(["--config", str(config), "extract", "--failed"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[-1].startswith("14 failed steps;")  # meta and preview of each
    for path in broken:
        (line,) = [line for line in listed if line.startswith(f"{path}: preview failed")]
        cause = line.split("failed (decode): ", 1)[1]
        # a cause a person can act on, not the name of a libvips operation
        assert len(cause.split()) >= 3, line
        assert "Vips" not in cause and "thumbnail_source" not in cause, line
    assert main(["--config", str(config), "-v", "extract", "--retry-failed"]) == 0
    out = capsys.readouterr().out
    assert all(f"{path}: preview failed" in out for path in broken) and "more files" not in out


def test_no_failed_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_sample_photo(tmp_path / "photos" / "fine.jpg", 320, 240, seed=1)
    config = write_config(tmp_path, [tmp_path / "photos"])
    assert main(["--config", str(config), "index"]) == 0
    assert main(["--config", str(config), "extract", "--failed"]) == 0
    assert capsys.readouterr().out.endswith("no file failed\n")
