"""Web video bytes, quality and speed per encoder setting, on one clip.

Each setting transcodes the clip the way the extract step does; quality is ffmpeg's
SSIM (all planes) of the web video against the clip scaled to the same size with
Lanczos; speed is seconds of video per second of wall time (ffmpeg on every core).

    python scripts/measure_video.py CLIP [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import msgspec

from homegallery.config import VideoExtractor
from homegallery.extract.ffmpeg_tools import ffmpeg_binary
from homegallery.extract.video import transcode

CANDIDATES: dict[str, dict[str, Any]] = {
    "baseline profile, slow, CRF 23 (x264's default)": {"profile": "baseline", "level": "3.0"},
    "baseline profile, slow, CRF 26": {"profile": "baseline", "level": "3.0", "crf": 26},
    "baseline profile, slow, CRF 23, cap 2000k": {
        "profile": "baseline",
        "level": "3.0",
        "maxrate": "2000k",
        "bufsize": "4000k",
    },
    "main profile, slow, CRF 23": {"profile": "main", "level": "3.1", "crf": 23},
    "main profile, slow, CRF 24": {"profile": "main", "level": "3.1", "crf": 24},
    "main profile, slow, CRF 25": {"profile": "main", "level": "3.1", "crf": 25},
    "main profile, slow, CRF 26": {"profile": "main", "level": "3.1", "crf": 26},
    "main profile, medium, CRF 24": {
        "profile": "main",
        "level": "3.1",
        "preset": "medium",
        "crf": 24,
    },
    "main profile, medium, CRF 25": {
        "profile": "main",
        "level": "3.1",
        "preset": "medium",
        "crf": 25,
    },
    "high profile, slow, CRF 24": {"profile": "high", "level": "3.1", "crf": 24},
}


def probe(path: Path) -> tuple[int, float, float]:
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=height,r_frame_rate:format=duration",
            "-of",
            "json",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    data = json.loads(out)
    stream = data["streams"][0]
    numerator, denominator = stream["r_frame_rate"].split("/")
    return (
        int(stream["height"]),
        int(numerator) / int(denominator),
        float(data["format"]["duration"]),
    )


def ssim_of(web: Path, clip: Path) -> float:
    result = subprocess.run(
        [
            ffmpeg_binary(),
            "-hide_banner",
            "-nostdin",
            "-i",
            str(web),
            "-i",
            str(clip),
            "-filter_complex",
            "[1:v][0:v]scale2ref=flags=lanczos[ref][web];[web][ref]ssim",
            "-f",
            "null",
            "-",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    match = re.search(r"All:(\d\.\d+)", result)
    assert match, result
    return float(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("clip", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", default="", help="candidates (names separated by ;)")
    args = parser.parse_args()
    height, rate, duration = probe(args.clip)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        names = args.only.split(";") if args.only else list(CANDIDATES)
        for name in names:
            changes = CANDIDATES[name]
            settings = msgspec.structs.replace(VideoExtractor(), **changes)
            target = Path(folder) / "web.mp4"
            started = time.perf_counter()
            transcode(args.clip, target, settings, height, rate, duration)
            seconds = time.perf_counter() - started
            size = target.stat().st_size
            quality = ssim_of(target, args.clip)
            results[name] = {"bytes": size, "ssim": quality, "speed": duration / seconds}
            print(
                f"{name:48s} {size / 1e6:6.2f} MB {size * 8 / duration / 1e3:6.0f} kbit/s"
                f"  SSIM {quality:.4f}  {duration / seconds:5.2f}x real time",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
