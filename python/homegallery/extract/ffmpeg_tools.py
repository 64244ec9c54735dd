"""Finding ffmpeg and ffprobe, and running them with a time limit.

The system ffmpeg is preferred (distributions build it with every codec and keep it
patched); where none is installed, the binary shipped in the ``imageio-ffmpeg`` wheel
is used so that a plain ``pip install`` still makes web videos. That wheel has no
ffprobe, so video metadata then comes from ffmpeg's own report (see ``meta``).
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Sequence

from homegallery.errors import HomeGalleryError
from homegallery.extract.lifeline import child_dies_with_this_process


class ToolError(HomeGalleryError, RuntimeError):
    """ffmpeg/ffprobe failed; the message holds the file and the tool's last words."""

    def __init__(self, message: str, reason: str = "ffmpeg") -> None:
        super().__init__(message)
        self.reason = reason


@functools.cache
def ffmpeg_binary() -> str:
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg
    except ImportError:  # pragma: no cover - imageio-ffmpeg is a dependency
        raise ToolError(
            "ffmpeg not found: install ffmpeg or imageio-ffmpeg", "missing-tool"
        ) from None
    return str(imageio_ffmpeg.get_ffmpeg_exe())


@functools.cache
def ffprobe_binary() -> str | None:
    return shutil.which("ffprobe")


def run_tool(arguments: Sequence[str], what: str, timeout: float) -> bytes:
    """Runs ffmpeg/ffprobe; returns stdout or raises ToolError naming ``what``.

    A time limit guards against files that make a decoder spin forever: one such file
    must cost one failure record, not a stuck worker. The tool ends with the process
    that runs it, so a killed worker leaves no transcode behind.
    """
    try:
        completed = subprocess.run(
            list(arguments),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            check=False,
            preexec_fn=child_dies_with_this_process(),
        )
    except subprocess.TimeoutExpired:
        raise ToolError(f"{what}: gave up after {timeout:.0f} s", "timeout") from None
    except OSError as error:
        raise ToolError(f"{what}: cannot run {arguments[0]}: {error}", "missing-tool") from None
    if completed.returncode != 0:
        lines = completed.stderr.decode("utf-8", "replace").strip().splitlines()
        cause = " | ".join(lines[-3:]) or f"exit status {completed.returncode}"
        raise ToolError(f"{what}: {cause}")
    return completed.stdout
