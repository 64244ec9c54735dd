"""Web video transcoding: speed as a multiple of real time, bytes and quality, on a
generated 1080p clip.

The candidate is the configured default (libx264, main profile, CRF 25, preset
medium, 720p, AAC); the baseline is HomeGallery's settings (baseline profile, x264's
default CRF 23, preset slow). Beside the speed: the web video's kB per MB of the
clip, and its SSIM (ffmpeg's, all planes) against the clip scaled to the same size
with Lanczos. ffmpeg uses every core, so these are whole-machine figures. The poster
frame is timed too.

    .venv/bin/python benches/bench_video.py  (or: homegallery bench) [--quick] [--json FILE]
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from homegallery.bench.report import Figure, Report, measure, quick_stage_main
from homegallery.config import VideoExtractor
from homegallery.extract.ffmpeg_tools import ffmpeg_binary
from homegallery.extract.video import extract_frame, transcode

# HomeGallery's web video settings (its defaults; libx264's CRF is 23 when none is given).
HOMEGALLERY = VideoExtractor(preset="slow", profile="baseline", level="3.0", crf=23)


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


def video_ssim(web: Path, source: Path) -> float:
    """SSIM (all planes) of a web video against its source scaled to its size (Lanczos)."""
    result = subprocess.run(
        [
            *(ffmpeg_binary(), "-hide_banner", "-nostdin", "-i", str(web), "-i", str(source)),
            "-filter_complex",
            "[1:v][0:v]scale2ref=flags=lanczos[source][web];[web][source]ssim",
            *("-f", "null", "-"),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    match = re.search(r"All:(\d+(?:\.\d+)?)", result)
    if not match:
        raise ValueError(f"ffmpeg printed no SSIM: {result[-300:]}")
    return float(match.group(1))


def run(quick: bool) -> Report:
    size, seconds, height = ("640x360", 1.0, 360) if quick else ("1920x1080", 10.0, 1080)
    repeat = 1 if quick else 2
    default = VideoExtractor()
    report = Report(f"web video ({size}, {seconds:.0f} s, 30 fps, to {min(height, 720)}p)")
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "clip.mp4"
        make_clip(clip, size, seconds)
        clip_mb = clip.stat().st_size / 1e6
        outputs = {}
        timings = {}
        for name, settings in (("default", default), ("homegallery", HOMEGALLERY)):
            target = Path(folder) / f"{name}.mp4"

            def encode(settings: VideoExtractor = settings, target: Path = target) -> None:
                transcode(clip, target, settings, height, 30.0, seconds)

            timings[name] = measure(name, encode, repeat=repeat, warmup=0)
            outputs[name] = (target.stat().st_size / 1e3 / clip_mb, video_ssim(target, clip))
        poster = measure("poster", lambda: extract_frame(clip, 1.0, seconds), repeat=3)
    described = f"{default.profile} profile, CRF {default.crf}, preset {default.preset}"
    baseline = f"{HOMEGALLERY.profile}, CRF {HOMEGALLERY.crf}, {HOMEGALLERY.preset}"
    report.add(
        Figure(
            "transcode",
            described,
            seconds / timings["default"].best,
            "x real time",
            baseline,
            seconds / timings["homegallery"].best,
            note="seconds of web video made per second of work; below 1 an import falls "
            "behind a camera's videos (defer them: `run import --defer-videos`)",
        )
    )
    report.add(
        Figure(
            "transcode",
            "storage per original MB",
            outputs["default"][0],
            "kB/MB",
            baseline,
            outputs["homegallery"][0],
            higher_is_better=False,
        )
    )
    report.add(
        Figure(
            "transcode",
            "SSIM against a Lanczos downscale of the clip",
            outputs["default"][1],
            "SSIM",
            baseline,
            outputs["homegallery"][1],
        )
    )
    report.add(Figure("poster", "one frame as JPEG", poster.best * 1000, "ms",
                      higher_is_better=False))  # fmt: skip
    return report


def main(argv: Sequence[str] | None = None) -> int:
    return quick_stage_main(__doc__, "short small clip, one repeat", run, argv)


if __name__ == "__main__":
    sys.exit(main())
