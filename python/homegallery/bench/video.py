"""Web video transcoding speed, as a multiple of real time, on a generated 1080p clip.

The candidate is the configured default (HomeGallery's settings: libx264, preset slow,
baseline profile, 720p, AAC); the baseline is the same with preset veryfast, which
shows what the preset costs on this machine. ffmpeg uses every core, so these are
whole-machine figures. The poster frame is timed too.

    .venv/bin/python benches/bench_video.py  (or: homegallery bench) [--quick] [--json FILE]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from homegallery.bench.report import Figure, Report, measure, quick_stage_main
from homegallery.config import VideoExtractor
from homegallery.extract.ffmpeg_tools import ffmpeg_binary
from homegallery.extract.video import extract_frame, transcode


def make_clip(path: Path, size: str, seconds: float) -> None:
    picture = f"testsrc2=size={size}:rate=30:duration={seconds}"
    sound = f"sine=frequency=440:duration={seconds}"
    subprocess.run(
        [
            *(ffmpeg_binary(), "-v", "error", "-y"),
            *("-f", "lavfi", "-i", picture, "-f", "lavfi", "-i", sound),
            *("-c:v", "libx264", "-preset", "ultrafast", "-crf", "18", "-pix_fmt", "yuv420p"),
            *("-c:a", "aac", str(path)),
        ],
        check=True,
    )


def run(quick: bool) -> Report:
    size, seconds, height = ("640x360", 1.0, 360) if quick else ("1920x1080", 10.0, 1080)
    repeat = 1 if quick else 2
    default = VideoExtractor()
    fast = VideoExtractor(preset="veryfast")
    report = Report(f"web video ({size}, {seconds:.0f} s, 30 fps, to {min(height, 720)}p)")
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "clip.mp4"
        target = Path(folder) / "web.mp4"
        make_clip(clip, size, seconds)

        def encode(settings: VideoExtractor) -> None:
            transcode(clip, target, settings, height, 30.0, seconds)

        slow = measure("slow", lambda: encode(default), repeat=repeat, warmup=0)
        quick_preset = measure("veryfast", lambda: encode(fast), repeat=repeat, warmup=0)
        poster = measure("poster", lambda: extract_frame(clip, 1.0, seconds), repeat=3)
    report.add(
        Figure(
            "transcode",
            f"preset {default.preset} (default)",
            seconds / slow.best,
            "x real time",
            f"preset {fast.preset}",
            seconds / quick_preset.best,
            note="seconds of web video made per second of work; below 1 an import falls "
            "behind a camera's videos (defer them: `run import --defer-videos`)",
        )
    )
    report.add(Figure("poster", "one frame as JPEG", poster.best * 1000, "ms",
                      higher_is_better=False))  # fmt: skip
    return report


def main(argv: Sequence[str] | None = None) -> int:
    return quick_stage_main(__doc__, "short small clip, one repeat", run, argv)


if __name__ == "__main__":
    sys.exit(main())
