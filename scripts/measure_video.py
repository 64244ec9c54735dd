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
    "before: slow, CRF 23 (x264 default), cap 4000k": {},
    "slow, CRF 26": {"crf": 26},
    "slow, CRF 28": {"crf": 28},
    "medium, CRF 23": {"preset": "medium"},
    "medium, CRF 26": {"preset": "medium", "crf": 26},
    "slow, CRF 23, main profile": {"profile": "main", "level": "3.1"},
    "slow, CRF 26, main profile": {"profile": "main", "level": "3.1", "crf": 26},
    "slow, CRF 23, cap 2000k": {"maxrate": "2000k", "bufsize": "4000k"},
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
    args = parser.parse_args()
    height, rate, duration = probe(args.clip)
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, changes in CANDIDATES.items():
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
