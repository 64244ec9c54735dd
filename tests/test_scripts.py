"""The set-up scripts as a new user runs them, in their --plan mode (which installs
nothing): what the demo installs, and what it says before the long first build."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _plan(*options: str) -> list[str]:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "bootstrap.sh"), *options, "--plan"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.splitlines()


def test_the_demo_installs_no_browser_and_the_checks_do() -> None:
    demo = _plan("--demo")[0].split()
    everything = _plan()[0].split()
    assert {"ffmpeg", "libvips42"} <= set(demo)
    assert "chromium" not in demo and "wordnet-base" not in demo
    assert {"chromium", "wordnet-base"} <= set(everything)
    assert "bootstrap.sh --demo" in (ROOT / "scripts" / "demo.sh").read_text()


def test_the_build_is_announced_with_how_long_it_takes() -> None:
    (note,) = [line for line in _plan("--demo") if "homegallery into .venv" in line]
    assert "minute" in note or "seconds" in note, note


def test_an_unknown_option_is_refused() -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "bootstrap.sh"), "--dmeo"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "unknown option --dmeo" in result.stderr
