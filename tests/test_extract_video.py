"""Web videos and poster frames made by the real ffmpeg, checked with ffprobe."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from homegallery.bench.video import HOMEGALLERY, video_ssim
from homegallery.config import VideoExtractor
from homegallery.extract.ffmpeg_tools import ToolError, ffmpeg_binary
from homegallery.extract.video import (
    extract_frame,
    output_height,
    poster_time,
    transcode,
    transcode_command,
)
from homegallery.samples import write_sample_photo

FAST = VideoExtractor(preset="veryfast")  # still main profile (ultrafast drops CABAC)


def make_video(path: Path, size: str, seconds: float, audio: bool = True, rate: int = 30) -> Path:
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:
        inputs += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    codecs = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    codecs += ["-c:a", "aac"] if audio else []
    subprocess.run(["ffmpeg", "-v", "error", "-y", *inputs, *codecs, str(path)], check=True)
    return path


def probe(path: Path) -> dict[str, Any]:
    output = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
            str(path),
        ],
        check=True,
        capture_output=True,
    ).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def stream(info: dict[str, Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in info["streams"] if s["codec_type"] == kind)
    return found


def atoms(path: Path) -> list[str]:
    """Top-level MP4 boxes in file order."""
    data = path.read_bytes()
    names, offset = [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        names.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            break
        offset += size
    return names


def test_small_video_keeps_its_size_and_plays(tmp_path: Path) -> None:
    source = make_video(tmp_path / "in.mp4", "320x240", 2)
    target = tmp_path / "out.mp4"
    transcode(source, target, FAST, 240, 30.0, 2.0)
    info = probe(target)
    video, audio = stream(info, "video"), stream(info, "audio")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 320, 240)
    assert video["profile"] == "Main"  # what every browser with H.264 plays
    assert video["pix_fmt"] == "yuv420p"
    assert audio["codec_name"] == "aac"
    assert float(info["format"]["duration"]) == pytest.approx(2.0, abs=0.1)
    boxes = atoms(target)
    assert boxes.index("moov") < boxes.index("mdat"), "faststart puts the index first"


def test_1080p_becomes_720p(tmp_path: Path) -> None:
    source = make_video(tmp_path / "hd.mp4", "1920x1080", 0.4, audio=False, rate=60)
    target = tmp_path / "out.mp4"
    transcode(source, target, FAST, 1080, 60.0, 0.4)
    video = stream(probe(target), "video")
    assert (video["width"], video["height"]) == (1280, 720)
    assert video["avg_frame_rate"] == "30/1"  # 60 fps is brought down to frameRate


def test_rotated_phone_video_comes_out_upright(tmp_path: Path) -> None:
    plain = make_video(tmp_path / "plain.mp4", "320x240", 0.5, audio=False)
    rotated = tmp_path / "rotated.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(plain),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            str(rotated),
        ],
        check=True,
    )
    target = tmp_path / "out.mp4"
    transcode(rotated, target, FAST, 320, 30.0, 0.5)
    video = stream(probe(target), "video")
    assert (video["width"], video["height"]) == (240, 320)
    assert not video.get("side_data_list"), "the picture itself is turned, not flagged"

    frame = Image.open(io.BytesIO(extract_frame(rotated, 0.1, 0.5)))
    assert frame.size == (240, 320)


def test_output_height_and_poster_time() -> None:
    assert output_height(1080, 720) == 720
    assert output_height(481, 720) == 480
    assert poster_time(2.0) == pytest.approx(0.2)
    assert poster_time(3600) == 3.0
    assert poster_time(None) == 0.0


def test_settings_and_extra_arguments_reach_ffmpeg(tmp_path: Path) -> None:
    settings = VideoExtractor(
        preset="veryfast", maxrate="1000k", extra_args=["-crf", "30"], audio_bitrate="64k"
    )
    command = transcode_command(tmp_path / "in.mov", tmp_path / "out.mp4", settings, 1080, 30)
    text = " ".join(command)
    expected_options = (
        "-preset veryfast",
        "-maxrate 1000k",
        "-b:a 64k",
        "-profile:v main",
        "-crf 25",
    )
    for expected in expected_options:
        assert expected in text
    assert command.index("-crf") < command.index(str(tmp_path / "out.mp4"))
    assert "scale=-2:720" in text


def test_poster_frame(tmp_path: Path) -> None:
    source = make_video(tmp_path / "in.mp4", "320x240", 1, audio=False)
    frame = Image.open(io.BytesIO(extract_frame(source, poster_time(1.0), 1.0)))
    assert frame.format == "JPEG" and frame.size == (320, 240)
    # beyond the end: falls back to the first frame instead of failing
    assert extract_frame(source, 30.0, 1.0)


def test_broken_video_fails_with_the_file_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x01" * 200)
    with pytest.raises(ToolError) as caught:
        transcode(broken, tmp_path / "out.mp4", FAST, 240, 30, 1.0)
    assert str(broken) in str(caught.value)
    with pytest.raises(ToolError):
        extract_frame(broken, 0.0, None)


def test_web_video_is_half_homegallerys_size_at_no_lower_ssim(tmp_path: Path) -> None:
    """A slow pan over a real-looking photo with a little sensor noise: the defaults
    (main profile, CRF 25, preset medium) against HomeGallery's (baseline profile,
    x264's default CRF 23, preset slow)."""
    photo = write_sample_photo(tmp_path / "p.jpg", 1600, 1200, seed=3).path
    clip = tmp_path / "clip.mp4"
    pan = (
        "scale=1600:-2,zoompan=z='1+0.003*on':x='iw/2-(iw/zoom/2)+on':y='ih/2-(ih/zoom/2)'"
        ":d=60:s=960x540:fps=30,noise=alls=2:allf=t,format=yuv420p"
    )
    subprocess.run(
        [
            *(ffmpeg_binary(), "-v", "error", "-y", "-loop", "1", "-i", str(photo)),
            *("-vf", pan, "-t", "2", "-c:v", "libx264", "-preset", "veryfast", "-crf", "16"),
            str(clip),
        ],
        check=True,
    )
    ours, theirs = tmp_path / "ours.mp4", tmp_path / "theirs.mp4"
    transcode(clip, ours, VideoExtractor(), 540, 30.0, 2.0)
    transcode(clip, theirs, HOMEGALLERY, 540, 30.0, 2.0)
    assert ours.stat().st_size < 0.75 * theirs.stat().st_size
    assert video_ssim(ours, clip) >= video_ssim(theirs, clip) - 0.002
