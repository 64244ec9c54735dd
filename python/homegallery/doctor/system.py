"""Checks of the machine: Python and the CPU, the Rust core, ffmpeg, libvips, onnxruntime.

Each check runs the real component on a small input where that is the only way to know
(an encoder list, a decoded HEIC), so a library that imports but cannot do the work is
found here and not in the middle of an import.
"""

from __future__ import annotations

import io
import logging
import platform
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from homegallery.doctor import Finding, Status

# numpy and onnxruntime publish wheels for these only: a 32-bit ARM system (armv7l, the
# default of older Raspberry Pi OS images) cannot install them.
SUPPORTED_MACHINES = {"x86_64": "x86-64", "amd64": "x86-64", "aarch64": "64-bit ARM"}
ARM_32_BIT = ("armv6l", "armv7l", "armv8l", "arm")


def check_python(
    version: tuple[int, int, int] = sys.version_info[:3], machine: str = platform.machine()
) -> list[Finding]:
    found = []
    shown = ".".join(str(part) for part in version)
    if version < (3, 10):
        found.append(
            Finding(
                "problem", "Python", f"Python {shown} is too old", "install Python 3.10 or newer"
            )
        )
    else:
        found.append(Finding("ok", "Python", f"Python {shown}"))
    name = SUPPORTED_MACHINES.get(machine.lower())
    if name is not None:
        found.append(Finding("ok", "CPU", f"{name} ({machine})"))
    elif machine.lower() in ARM_32_BIT:
        found.append(
            Finding(
                "problem",
                "CPU",
                f"{machine} is 32-bit ARM: only 64-bit ARM (aarch64) and x86-64 are supported, "
                "because numpy and onnxruntime have no 32-bit ARM packages",
                "install a 64-bit system (Raspberry Pi OS 64-bit runs on a Pi 3, 4 and 5)",
            )
        )
    else:
        found.append(
            Finding(
                "problem",
                "CPU",
                f"{machine}: not a supported processor (x86-64 and 64-bit ARM are)",
                "run homegallery on an x86-64 or 64-bit ARM machine",
            )
        )
    return found


def check_core() -> list[Finding]:
    try:
        from homegallery import _core  # lazy: the doctor reports a missing core, not dies
    except ImportError as error:
        return [
            Finding(
                "problem",
                "core",
                f"the Rust core does not load: {error}",
                "reinstall homegallery (`pip install --force-reinstall homegallery`)",
            )
        ]
    kernel = _core.scan_kernel()
    how = (
        "similarity scans use AVX2"
        if kernel == "avx2"
        else "similarity scans use the portable kernel (vectorised by the compiler: SSE2 or NEON)"
    )
    return [Finding("ok", "core", f"Rust core {_core.core_version()}: {how}")]


def _run(arguments: list[str]) -> str:
    completed = subprocess.run(
        arguments, capture_output=True, text=True, timeout=30, check=True, stdin=subprocess.DEVNULL
    )
    return completed.stdout


def check_ffmpeg(video_enabled: bool, encoder: str) -> list[Finding]:
    from homegallery.extract.ffmpeg_tools import (  # lazy: only the doctor needs it here
        ToolError,
        ffmpeg_binary,
        ffprobe_binary,
    )

    severity: Status = "problem" if video_enabled else "note"
    try:
        binary = ffmpeg_binary()
        version_line = _run([binary, "-hide_banner", "-version"]).splitlines()[0]
        encoders = _run([binary, "-hide_banner", "-encoders"])
    except (ToolError, OSError, subprocess.SubprocessError, IndexError) as error:
        return [
            Finding(
                severity,
                "ffmpeg",
                f"ffmpeg does not run: {error}",
                "install ffmpeg (`sudo apt install ffmpeg`)",
            )
        ]
    version = re.sub(r"^ffmpeg version (\S+).*", r"\1", version_line)
    bundled = "imageio_ffmpeg" in binary
    where = "the copy bundled with imageio-ffmpeg" if bundled else binary
    found = []
    if re.search(rf"^\s*V\S*\s+{re.escape(encoder)}\s", encoders, re.M):
        found.append(Finding("ok", "ffmpeg", f"ffmpeg {version} ({where}) with {encoder}"))
    else:
        found.append(
            Finding(
                severity,
                "ffmpeg",
                f"ffmpeg {version} ({where}) has no {encoder} encoder for the web videos",
                "install a full ffmpeg (`sudo apt install ffmpeg`) or set "
                "`extractor.video.encoder`",
            )
        )
    probe = ffprobe_binary()
    if probe is None:
        found.append(
            Finding(
                "note",
                "ffprobe",
                "no ffprobe: video metadata is read from ffmpeg's report instead (dates, size "
                "and duration; fewer tags)",
                "install ffmpeg from the system's packages for ffprobe (`sudo apt install ffmpeg`)",
            )
        )
    else:
        found.append(Finding("ok", "ffprobe", f"ffprobe ({probe})"))
    return found


def _decodes_with_vips(data: bytes) -> bool:
    import pyvips  # lazy: only the doctor needs it here

    try:
        pyvips.Image.new_from_buffer(data, "").avg()
    except pyvips.Error:
        return False
    return True


@contextmanager
def _vips_quiet() -> Iterator[None]:
    """A libvips without a codec logs a warning per tile: the finding says it once."""
    vips_log = logging.getLogger("pyvips")
    level = vips_log.level
    vips_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        vips_log.setLevel(level)


def _tiny_heic() -> bytes | None:
    """A 64×64 HEIC made here, as phones write them (HEVC); None without an encoder."""
    try:
        import pillow_heif  # lazy: only the doctor needs it here
        from PIL import Image  # lazy: only the doctor needs it here

        buffer = io.BytesIO()
        pillow_heif.from_pillow(Image.new("RGB", (64, 64), (200, 80, 40))).save(
            buffer, format="HEIF", quality=50
        )
    except (ImportError, OSError, ValueError, RuntimeError):
        return None
    return buffer.getvalue()


def check_libvips() -> list[Finding]:
    try:
        import pyvips  # lazy: only the doctor needs it here
    except (ImportError, OSError) as error:
        return [
            Finding(
                "problem",
                "libvips",
                f"pyvips does not load libvips: {error}",
                "reinstall pyvips-binary (`pip install --force-reinstall pyvips-binary`) or "
                "install libvips (`sudo apt install libvips42`)",
            )
        ]
    version = f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    found = [Finding("ok", "libvips", f"libvips {version}: JPEG, PNG, WebP, TIFF, HEIF")]
    with _vips_quiet():
        found += _check_heif_codecs()
    return found


def _check_heif_codecs() -> list[Finding]:
    import pyvips  # lazy: only the doctor needs it here

    found = []
    heic = _tiny_heic()
    if heic is not None and _decodes_with_vips(heic):
        found.append(Finding("ok", "HEIC", "HEIC (iPhone photos) decoded by libvips"))
    elif heic is not None:
        found.append(
            Finding(
                "note",
                "HEIC",
                "this libvips has no HEVC decoder (the pyvips-binary wheel leaves it out): "
                "HEIC photos are decoded by pillow-heif instead",
            )
        )
    else:
        found.append(
            Finding(
                "note",
                "HEIC",
                "pillow-heif cannot encode the HEIC test image, so HEIC decoding was not checked",
            )
        )
    try:
        avif = pyvips.Image.black(64, 64).heifsave_buffer(compression="av1")
    except pyvips.Error:
        avif = b""
    if avif and _decodes_with_vips(avif):
        found.append(Finding("ok", "AVIF", "AVIF decoded by libvips"))
    else:
        found.append(
            Finding(
                "note",
                "AVIF",
                "this libvips has no AV1 codec: AVIF photos are decoded by pillow-heif",
                "use the pyvips-binary wheel's libvips (`pip install --force-reinstall "
                "pyvips-binary`)",
            )
        )
    return found


def check_onnxruntime(needed: bool) -> list[Finding]:
    try:
        import onnxruntime  # lazy: only the doctor needs it here
    except ImportError as error:
        return [
            Finding(
                "problem" if needed else "note",
                "onnxruntime",
                f"onnxruntime does not load: {error}",
                "reinstall it (`pip install --force-reinstall onnxruntime`)",
            )
        ]
    providers = [
        name.removesuffix("ExecutionProvider")
        for name in onnxruntime.get_available_providers()
        if name != "AzureExecutionProvider"  # a remote service, never used here
    ]
    return [
        Finding(
            "ok",
            "onnxruntime",
            f"onnxruntime {onnxruntime.__version__}: {', '.join(providers)}",
        )
    ]
