"""``homegallery doctor`` on real galleries: the real ffmpeg, libvips, onnxruntime and
models, and the problems a new user meets (a model not installed, a source gone, a
32-bit Pi, a disk too small, too many workers for the memory)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from homegallery.cli.main import main
from homegallery.config import parse_config
from homegallery.doctor import Finding
from homegallery.doctor.gallery import (
    COUNT_SECONDS,
    MEMORY_OF_IMPORT,
    MEMORY_PER_WORKER,
    STORAGE_PER_PHOTO,
    SourceCount,
    check_memory,
    check_privacy,
    count_sources,
    disk_finding,
)
from homegallery.doctor.system import check_python


def _gallery(tmp_path: Path, models_dir: Path, embeddings: str = "efficientnet-lite0") -> Path:
    photos = tmp_path / "photos"
    (photos / "2024").mkdir(parents=True)
    for number in range(3):
        Image.new("RGB", (64, 48), (number * 60, 90, 30)).save(photos / "2024" / f"{number}.jpg")
    clip = ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=5:duration=1", str(photos / "clip.mp4")]
    subprocess.run(["ffmpeg", "-v", "error", *clip], check=True)
    config = tmp_path / "gallery.yml"
    config.write_text(
        f"sources:\n  - dir: {photos}\n"
        f"storage:\n  dir: {tmp_path}/storage\n"
        f"database:\n  file: {tmp_path}/catalog.db\n"
        f"extractor:\n  models:\n    dir: {models_dir}\n    embeddings: {embeddings}\n"
        "    faceDetection: 'off'\n    faceRecognition: 'off'\n    objects: 'off'\n",
        encoding="utf-8",
    )
    return config


def _doctor(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["doctor", "--config", str(config)])
    return code, capsys.readouterr().out


def test_a_complete_gallery_has_no_problem(
    tmp_path: Path, embedding_models: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _doctor(_gallery(tmp_path, embedding_models), capsys)
    assert code == 0, out
    lines = out.splitlines()
    for topic in ("Python", "CPU", "core", "ffmpeg", "libvips", "HEIC", "AVIF", "onnxruntime"):
        assert any(line.split()[1:2] == [topic] for line in lines if line.strip()), topic
    assert "embeddings: efficientnet-lite0 installed" in out
    assert "3 photos and 1 video need about" in out
    assert "nothing leaves this machine" in out
    assert "no problems" in out


def test_a_model_not_installed_is_a_problem_with_its_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _doctor(_gallery(tmp_path, tmp_path / "no-models"), capsys)
    assert code == 1
    assert "problem  models       embeddings: efficientnet-lite0 is not installed" in out
    assert "fix: `homegallery models install efficientnet-lite0`" in out


def test_a_missing_source_is_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = _gallery(tmp_path, tmp_path / "models", embeddings="off")
    (tmp_path / "photos" / "2024" / "0.jpg").rename(tmp_path / "kept.jpg")
    config.write_text(
        config.read_text(encoding="utf-8").replace(str(tmp_path / "photos"), "/nonexistent/disk"),
        encoding="utf-8",
    )
    code, out = _doctor(config, capsys)
    assert code == 1
    assert "problem  config" in out
    assert "/nonexistent/disk" in out


def test_without_a_system_ffmpeg_the_bundled_one_is_named(tmp_path: Path) -> None:
    """PATH holds only the environment's scripts: no system ffmpeg, no ffprobe."""
    config = _gallery(tmp_path, tmp_path / "models", embeddings="off")
    scripts = Path(sys.executable).parent
    result = subprocess.run(
        [str(scripts / "homegallery"), "doctor", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": str(scripts)},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(the copy bundled with imageio-ffmpeg) with libx264" in result.stdout
    assert "note     ffprobe      no ffprobe" in result.stdout


@pytest.mark.parametrize("machine", ["armv7l", "armv6l"])
def test_32_bit_arm_is_refused_with_the_reason(machine: str) -> None:
    [python, cpu] = check_python((3, 11, 2), machine)
    assert python.status == "ok"
    assert cpu.status == "problem"
    assert "only 64-bit ARM (aarch64)" in cpu.text
    assert "64-bit" in cpu.fix


def test_64_bit_arm_and_old_python() -> None:
    [python, cpu] = check_python((3, 9, 18), "aarch64")
    assert (python.status, cpu.status) == ("problem", "ok")
    assert "3.10" in python.fix
    assert cpu.text == "64-bit ARM (aarch64)"


def test_counting_the_sources_finds_photos_and_videos(tmp_path: Path) -> None:
    _gallery(tmp_path, tmp_path / "models")
    config = parse_config({"sources": [{"dir": str(tmp_path / "photos")}]}, tmp_path / "g.yml")
    count = count_sources(config)
    assert (count.photos, count.videos, count.complete) == (3, 1, True)
    assert count.video_bytes == (tmp_path / "photos" / "clip.mp4").stat().st_size


def test_a_disk_too_small_for_the_previews_is_a_problem(tmp_path: Path) -> None:
    count = SourceCount(photos=1_000)
    small = disk_finding(count, free=100 * 10**6, where=tmp_path)
    assert small.status == "problem"
    assert f"need about {1_000 * STORAGE_PER_PHOTO / 10**6:,.0f} MB" in small.text
    assert "storage.dir" in small.fix
    assert disk_finding(count, free=10**10, where=tmp_path).status == "ok"
    partial = disk_finding(SourceCount(photos=5, complete=False), 10**10, tmp_path)
    assert f"at least 5 photos and 0 videos (counting stopped after {COUNT_SECONDS:.0f} s)" in (
        partial.text
    )


def test_too_many_workers_for_the_memory_says_how_many_fit(tmp_path: Path) -> None:
    config = parse_config({"extractor": {"workers": 8}}, tmp_path / "gallery.yml")
    available = MEMORY_OF_IMPORT + 2 * MEMORY_PER_WORKER + 1
    [finding] = check_memory(config, available=available)
    assert finding.status == "note"
    assert "8 extract workers (from the config)" in finding.text
    assert finding.fix == "set `extractor.workers: 2` in the config"
    [enough] = check_memory(config, available=MEMORY_OF_IMPORT + 8 * MEMORY_PER_WORKER)
    assert enough.status == "ok"


def test_a_public_place_service_is_named(tmp_path: Path) -> None:
    config = parse_config(
        {"extractor": {"geoReverse": {"provider": "nominatim"}}}, tmp_path / "gallery.yml"
    )
    [finding] = check_privacy(config)
    assert finding == Finding(
        "note",
        "privacy",
        "place names come from https://nominatim.openstreetmap.org: the GPS position of every "
        "photo is sent to it",
        "set `extractor.geoReverse.provider: offline` to keep positions on this machine",
    )
