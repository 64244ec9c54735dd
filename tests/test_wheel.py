"""The wheel as pip installs it: into a fresh environment, on a PATH with no Rust, no C
compiler and no system ffmpeg, then used for an import (photos and a video) and a search.

The wheel comes from ``$HOMEGALLERY_WHEEL_DIR`` (the release workflow builds it with
``scripts/build-wheels.sh`` first); otherwise the test builds one the same way, with
zig linking against glibc 2.28. Dependencies come through pip's own configuration, as
for a user.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from homegallery.samples import write_sample_photo

REPO = Path(__file__).resolve().parent.parent
MACHINE = platform.machine()
MANYLINUX = ("--compatibility", "manylinux_2_28")
WHEEL_TAG = f"cp310-abi3-manylinux_2_28_{MACHINE}"


def _run(arguments: Sequence[object], **options: Any) -> subprocess.CompletedProcess[str]:
    result: subprocess.CompletedProcess[str] = subprocess.run(
        [str(argument) for argument in arguments],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
        **options,
    )
    assert result.returncode == 0, f"{arguments}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("HOMEGALLERY_WHEEL_DIR")
    folder = Path(given) if given else tmp_path_factory.mktemp("dist")
    if not given:
        scripts = Path(sys.executable).parent
        _run(
            [scripts / "maturin", "build", "--release", "--zig", *MANYLINUX, "--out", folder],
            cwd=REPO,
            env={
                **os.environ,
                "PATH": f"{scripts}{os.pathsep}{os.environ['PATH']}",
                # zig's compiler and linker in a folder of their own, so that this build
                # and the editable one do not rebuild each other's artifacts.
                "CARGO_TARGET_DIR": str(REPO / "target" / "zig"),
            },
        )
    [found] = folder.glob(f"homegallery-*-{WHEEL_TAG}.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed; returns its bin folder."""
    venv = tmp_path_factory.mktemp("venv")
    base_python = getattr(sys, "_base_executable", sys.executable)
    _run([base_python, "-m", "venv", venv])
    _run([venv / "bin" / "python", "-m", "pip", "install", "-q", wheel])
    return venv / "bin"


def _clean_env(scripts: Path, home: Path) -> dict[str, str]:
    """Only the environment's scripts on PATH: what a user has after `pip install`."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    return {**keep, "PATH": str(scripts), "HOME": str(home), "XDG_CONFIG_HOME": str(home)}


def test_the_wheel_is_abi3_manylinux_and_carries_its_data(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "homegallery/_core.abi3.so" in names
    assert "homegallery/web/world/countries-50m.json" in names  # the offline map
    assert "homegallery/py.typed" in names
    assert any(name.startswith("homegallery/web/") and name.endswith(".js") for name in names)
    size = wheel.stat().st_size / 1e6
    print(f"\n{wheel.name}: {size:.1f} MB")


def test_installs_and_runs_without_rust_or_a_compiler(
    installed: Path, tmp_path: Path, wheel: Path
) -> None:
    env = _clean_env(installed, tmp_path / "home")
    for tool in ("cargo", "rustc", "cc", "gcc", "ffmpeg", "ffprobe"):
        assert shutil.which(tool, path=env["PATH"]) is None, tool
    version = _run([installed / "homegallery", "--version"], env=env).stdout.strip()
    assert version == f"homegallery {wheel.name.split('-')[1]}"

    photos = tmp_path / "photos"
    for number in range(4):
        write_sample_photo(photos / f"IMG_{number}.jpg", 800, 600, seed=number, gps=None)
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=320x240:rate=10:duration=2",
            "-pix_fmt",
            "yuv420p",
            str(photos / "clip.mp4"),
        ],
        check=True,
    )
    gallery = tmp_path / "gallery"
    _run([installed / "homegallery", "init", gallery, "--source", photos], env=env)
    config = gallery / "gallery.yml"
    imported = _run(
        [installed / "homegallery", "run", "import", "--initial", "--config", config], env=env
    )
    assert "5 catalog entries" in imported.stdout + imported.stderr
    web_videos = list((gallery / "storage").rglob("*video-preview-720.mp4"))
    assert len(web_videos) == 1  # made by the ffmpeg bundled with imageio-ffmpeg
    previews = list((gallery / "storage").rglob("*image-preview-320.jpg"))
    assert len(previews) == 5  # four photos and the video's poster frame
    found = _run(
        [installed / "homegallery", "search", "--count", "type:image", "--config", config],
        env=env,
    )
    assert found.stdout.strip() == "4"


def test_previews_use_the_libvips_pip_brought(installed: Path, tmp_path: Path) -> None:
    """pyvips loads the pyvips-binary wheel's libvips, not the system's (if any)."""
    loaded = _run(
        [
            installed / "python",
            "-c",
            "import pyvips; pyvips.Image.black(8, 8).avg()\n"
            "print(*{l.split()[-1] for l in open('/proc/self/maps') if 'libvips' in l})",
        ],
        env=_clean_env(installed, tmp_path),
    ).stdout.split()
    assert loaded, "libvips not loaded"
    assert all(path.startswith(str(installed.parent)) for path in loaded), loaded
