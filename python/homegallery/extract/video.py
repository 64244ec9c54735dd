"""Web videos (H.264 + AAC in MP4) and poster frames, made with ffmpeg.

The web video plays in every browser without plugins: H.264 with the main profile
at a constant quality (CRF) under a bit rate cap, AAC audio, the index ("moov") at the front so playback starts before the
download ends, at most ``previewSize`` lines high and never upscaled. ffmpeg turns
rotated phone videos upright while decoding, so the web video needs no rotation flag.
The command is built with ffmpeg-python and run with a time limit (see ffmpeg_tools).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import ffmpeg

from homegallery.config import VideoExtractor
from homegallery.extract.ffmpeg_tools import ToolError, ffmpeg_binary, run_tool

# Seconds of wall time allowed per second of video, on top of a fixed minute: the
# "slow" preset on a small ARM board runs at roughly real time, so 20x is a hang.
_TIMEOUT_PER_SECOND = 20.0
_TIMEOUT_BASE = 60.0


def output_height(display_height: int, preview_size: int) -> int:
    """Height of the web video: the preview size at most, even (H.264 needs it)."""
    height = min(display_height, preview_size)
    return max(2, height - height % 2)


def transcode_command(
    source: Path,
    target: Path,
    settings: VideoExtractor,
    display_height: int,
    frame_rate: float | None,
) -> list[str]:
    """The ffmpeg command line for one web video (exposed for tests and `--verbose`)."""
    video = ffmpeg.input(str(source))
    picture = video.video.filter("scale", -2, output_height(display_height, settings.preview_size))
    if frame_rate is None or frame_rate > settings.frame_rate:
        picture = picture.filter("fps", settings.frame_rate)
    options: dict[str, object] = {
        "vcodec": settings.encoder,
        "preset": settings.preset,
        "crf": settings.crf,
        "profile:v": settings.profile,
        "level": settings.level,
        "maxrate": settings.maxrate,
        "bufsize": settings.bufsize,
        "pix_fmt": "yuv420p",
        "movflags": "+faststart",
        "map_metadata": -1,
        "f": "mp4",
    }
    audio_options: dict[str, object] = {"acodec": "aac", "audio_bitrate": settings.audio_bitrate}
    streams = [picture, video.audio]
    output = ffmpeg.output(*streams, str(target), **options, **audio_options)
    arguments: list[str] = output.overwrite_output().compile(cmd=ffmpeg_binary())
    # ffmpeg-python maps audio unconditionally; "?" keeps files without sound working.
    arguments = [f"{argument}?" if argument == "0:a" else argument for argument in arguments]
    arguments[1:1] = ["-hide_banner", "-nostdin", "-loglevel", "error"]
    target_index = arguments.index(str(target))
    arguments[target_index:target_index] = list(settings.extra_args)
    return arguments


def transcode(
    source: Path,
    target: Path,
    settings: VideoExtractor,
    display_height: int,
    frame_rate: float | None,
    duration: float | None,
) -> None:
    """Writes the web video to ``target`` (a temporary path; the caller renames it)."""
    timeout = _TIMEOUT_BASE + _TIMEOUT_PER_SECOND * (duration or 600.0)
    command = transcode_command(source, target, settings, display_height, frame_rate)
    run_tool(command, f"{source}: ffmpeg transcode", timeout)
    if not target.is_file() or target.stat().st_size == 0:
        raise ToolError(f"{source}: ffmpeg wrote no video")


def poster_time(duration: float | None) -> float:
    """Where the poster frame is taken: a little in, past fade-ins and black first frames."""
    if not duration or duration <= 0:
        return 0.0
    return min(duration * 0.1, 3.0)


def extract_frame(source: Path, seconds: float, duration: float | None) -> bytes:
    """One frame, upright, at full size, as JPEG bytes (the poster's source)."""
    command: Sequence[str] = [
        ffmpeg_binary(),
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-ss",
        f"{seconds:.3f}",
        "-i",
        str(source),
        "-frames:v",
        "1",
        "-q:v",
        "2",
        "-f",
        "image2pipe",
        "-vcodec",
        "mjpeg",
        "-pix_fmt",
        "yuvj420p",
        "pipe:1",
    ]
    frame = run_tool(command, f"{source}: ffmpeg poster frame", _TIMEOUT_BASE)
    if not frame and seconds > 0:
        return extract_frame(source, 0.0, duration)
    if not frame:
        raise ToolError(f"{source}: no video frame could be decoded", "decode")
    return frame
