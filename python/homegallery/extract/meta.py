"""Metadata of photos (EXIF, XMP, IPTC, sidecars) and videos (ffprobe) as a MediaMeta.

Photos are read with exiv2 (through pyexiv2): it parses EXIF, IPTC and XMP in JPEG,
HEIC/AVIF, PNG, WebP, TIFF and the RAW formats (CR2, NEF, ARW, DNG …) in-process, at
thousands of files per second, where exiftool covers a little more but costs a Perl
process round trip per file (see benches/bench_meta.py for the figures). The pixel
size comes from libvips' header read, which knows the real decoded size of HEIC
images (their EXIF often names the uncropped sensor size). Values in a ``.xmp``
sidecar win over embedded ones: the sidecar is where photo managers write edits.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

from homegallery.errors import HomeGalleryError
from homegallery.extract import dates, regions
from homegallery.extract.ffmpeg_tools import ToolError, ffmpeg_binary, ffprobe_binary, run_tool
from homegallery.extract.lifeline import child_dies_with_this_process
from homegallery.extract.meta_blocks import parse_blocks, read_blocks
from homegallery.extract.schema import DateSource, MediaMeta, MediaType
from homegallery.index.kinds import media_type as media_type_of

# Descriptions cameras write by themselves; they say nothing about the picture.
# Descriptions cameras write by themselves ("OLYMPUS DIGITAL CAMERA", "SONY DSC"): they
# say nothing about the picture, so they are dropped like an empty field.
_CAMERA_DESCRIPTION = re.compile(
    r"^(?:[\w .,&-]*digital (?:still )?camera|[\w ]*\bdsc|default|<[^>]*>)$", re.IGNORECASE
)
_ISO6709 = re.compile(r"^\s*([+\-]\d+(?:\.\d+)?)([+\-]\d+(?:\.\d+)?)([+\-]\d+(?:\.\d+)?)?")
_XMP_GPS = re.compile(r"^\s*(\d+),(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?\s*([NSEW])\s*$")
_PROBE_TIMEOUT = 60.0


class MetaError(HomeGalleryError):
    """The file's metadata cannot be read at all (not a picture, unreadable, …)."""

    def __init__(self, message: str, reason: str = "meta") -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Sidecar:
    path: Path
    media_id: str


def media_type_for(kind: str) -> MediaType:
    """Index kind (``image``, ``raw``, ``video``) → stored type."""
    return {"image": "image", "raw": "rawImage", "video": "video"}.get(kind, "image")  # type: ignore[return-value]


# --- small value parsers -----------------------------------------------------------------


def _text(value: object) -> str | None:
    """A clean string: the x-default of XMP language alternatives, no NULs or padding."""
    if isinstance(value, dict):
        value = value.get('lang="x-default"') or next(iter(value.values()), None)
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _rational(value: object) -> float | None:
    """``4/300`` or ``2.8`` → float; None for 0/0, empty or malformed values."""
    text = _text(value)
    if text is None:
        return None
    try:
        number = float(Fraction(text.split()[0]))
    except (ValueError, ZeroDivisionError):
        return None
    return float(number) if math.isfinite(number) else None


def _integer(value: object) -> int | None:
    number = _rational(value)
    return round(number) if number is not None else None


def _exif_gps(degrees: object, reference: object) -> float | None:
    """EXIF ``43/1 28/1 281/100`` with ref ``N`` → 43.467…"""
    text = _text(degrees)
    if text is None:
        return None
    try:
        parts = [float(Fraction(part)) for part in text.split()]
    except (ValueError, ZeroDivisionError):
        return None
    if not parts or len(parts) > 3:
        return None
    value = float(sum(part / 60.0**index for index, part in enumerate(parts)))
    return -value if (_text(reference) or "").upper() in {"S", "W"} else value


def _xmp_gps(value: object) -> float | None:
    """XMP ``43,28.0469N`` or ``43,28,2.81N`` → 43.467…"""
    text = _text(value)
    match = _XMP_GPS.match(text or "")
    if not match:
        return None
    degrees, minutes, seconds, hemisphere = match.groups()
    result = float(degrees) + float(minutes) / 60 + float(seconds or 0) / 3600
    return -result if hemisphere in "SW" else result


def _position(latitude: float | None, longitude: float | None) -> tuple[float, float] | None:
    """A usable position; (0, 0) is what a GPS without a fix writes, so it counts as none."""
    if latitude is None or longitude is None:
        return None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    if abs(latitude) < 1e-6 and abs(longitude) < 1e-6:
        return None
    return round(latitude, 7), round(longitude, 7)


def _keywords(*values: object) -> list[str]:
    """Keywords of all sources, first spelling kept, duplicates (any case) dropped.

    A list holds one keyword per item (XMP bags, repeated IPTC tags); a single string
    may hold several separated by commas (what some tools write into one IPTC tag).
    """
    words: list[str] = []
    for value in values:
        if isinstance(value, list):
            words.extend(text for text in map(_text, value) if text)
        elif (text := _text(value)) is not None:
            words.extend(text.split(","))
    unique: dict[str, str] = {}
    for word in (word.strip() for word in words):
        if word:
            unique.setdefault(word.lower(), word)
    return list(unique.values())


def _description(camera: Sequence[str | None], *values: object) -> str | None:
    """The first real description: not a camera's stock text, not its make or model."""
    names = {name.lower() for name in camera if name}
    for value in values:
        text = _text(value)
        if text and not _CAMERA_DESCRIPTION.match(text) and text.lower() not in names:
            return text
    return None


# --- photos --------------------------------------------------------------------------------


@dataclass
class _Tags:
    exif: dict[str, Any]
    iptc: dict[str, Any]
    xmp: dict[str, Any]
    mime: str | None
    pixel_size: tuple[int, int]


def _read_tags(path: Path, media_type: MediaType = "image") -> _Tags:
    """exiv2's tags; for a photo it refuses or finds no EXIF in, the decoder library's blocks.

    A refused file keeps only what the blocks give (no IPTC) and its size comes from the
    decoder, so a damaged EXIF segment costs that segment and not the whole file.
    """
    try:
        tags = _exiv2_tags(path)
    except MetaError:
        blocks = read_blocks(path) if media_type == "image" else None
        if blocks is None:
            raise
        exif, xmp = parse_blocks(blocks)
        return _Tags(exif, {}, xmp, None, (0, 0))
    if media_type == "image" and not tags.exif:
        blocks = read_blocks(path)
        if blocks is not None:
            exif, xmp = parse_blocks(blocks)
            tags.exif, tags.xmp = exif, tags.xmp or xmp
    return tags


def _exiv2_tags(path: Path) -> _Tags:
    import pyexiv2

    pyexiv2.set_log_level(4)  # exiv2 warnings about maker notes would be raised as errors
    try:
        with pyexiv2.Image(str(path)) as image:
            try:
                exif = image.read_exif()
            except UnicodeDecodeError:
                exif = image.read_exif(encoding="latin-1")
            try:
                iptc = image.read_iptc()
            except UnicodeDecodeError:
                iptc = image.read_iptc(encoding="latin-1")
            xmp = image.read_xmp()
            mime = image.get_mime_type() or None
            size = (image.get_pixel_width(), image.get_pixel_height())
    except RuntimeError as error:
        message = str(error).strip() or type(error).__name__
        reason = "unsupported" if "unknown image type" in message.lower() else "meta"
        raise MetaError(f"{path}: cannot read metadata: {message}", reason) from None
    return _Tags(exif, iptc, xmp, mime, size)


def _read_sidecar(path: Path) -> dict[str, Any]:
    import pyexiv2

    pyexiv2.set_log_level(4)
    try:
        with pyexiv2.Image(str(path)) as sidecar:
            xmp: dict[str, Any] = sidecar.read_xmp()
    except RuntimeError as error:
        raise MetaError(f"{path}: cannot read the XMP sidecar: {error}", "sidecar") from None
    return xmp


def _decoded_size(path: Path) -> tuple[int, int, int | None, str | None] | None:
    """(width, height, orientation, loader) from libvips' header, or None if it can't load.

    The orientation is None when libvips found none (it reads no PNG ``eXIf`` chunk
    after the image data, where ImageMagick writes it).
    """
    import pyvips

    try:
        image = pyvips.Image.new_from_file(str(path), access="sequential")
    except pyvips.Error:
        return None
    fields = image.get_fields()
    orientation = int(image.get("orientation")) if "orientation" in fields else None
    loader = str(image.get("vips-loader")) if "vips-loader" in fields else None
    return image.width, image.height, orientation, loader


def _format(path: Path, mime: str | None, loader: str | None) -> str:
    if loader:
        name = loader.removesuffix("_source").removesuffix("_file").removesuffix("load")
        if name == "heif" and path.suffix.lower() == ".avif":
            return "avif"
        return name
    if mime and "/" in mime:
        return mime.split("/", 1)[1].removeprefix("x-")
    return path.suffix.lower().lstrip(".") or "unknown"


_Source = Literal["exif", "iptc", "xmp"]
_TagList = tuple[tuple[_Source, str], ...]

# Each field of a photo and the tags it is read from, in order: the first that gives a
# value wins (as ``a or b``: an empty text or a 0 gives way to the next tag).
_PHOTO_FIELDS: dict[str, tuple[Callable[[object], Any], _TagList]] = {
    "make": (_text, (("exif", "Exif.Image.Make"), ("xmp", "Xmp.tiff.Make"))),
    "model": (_text, (("exif", "Exif.Image.Model"), ("xmp", "Xmp.tiff.Model"))),
    "lens": (_text, (("exif", "Exif.Photo.LensModel"), ("xmp", "Xmp.aux.Lens"),
                     ("xmp", "Xmp.exifEX.LensModel"))),
    "iso": (_integer, (("exif", "Exif.Photo.ISOSpeedRatings"),
                       ("exif", "Exif.Photo.PhotographicSensitivity"))),
    "aperture": (_rational, (("exif", "Exif.Photo.FNumber"),)),
    "exposure_time": (_rational, (("exif", "Exif.Photo.ExposureTime"),)),
    "focal_length": (_rational, (("exif", "Exif.Photo.FocalLength"),)),
    "title": (_text, (("xmp", "Xmp.dc.title"), ("iptc", "Iptc.Application2.ObjectName"))),
}  # fmt: skip
# The rating: the first tag that has one, 0 included (it means "not rated" on purpose).
_RATING: _TagList = (("xmp", "Xmp.xmp.Rating"), ("exif", "Exif.Image.Rating"))
# Where a photo says when it was taken, most trusted first: (source, tag, its offset tag).
_PHOTO_DATES: tuple[tuple[DateSource, _Source, str, str | None], ...] = (
    ("exif", "exif", "Exif.Photo.DateTimeOriginal", "Exif.Photo.OffsetTimeOriginal"),
    ("exif", "exif", "Exif.Photo.DateTimeDigitized", "Exif.Photo.OffsetTimeDigitized"),
    ("xmp", "xmp", "Xmp.exif.DateTimeOriginal", None),
    ("xmp", "xmp", "Xmp.photoshop.DateCreated", None),
    ("xmp", "xmp", "Xmp.xmp.CreateDate", None),
    ("exif", "exif", "Exif.Image.DateTime", "Exif.Photo.OffsetTime"),
)
# The description: the first real one (see _description) of these.
_DESCRIPTIONS: _TagList = (
    ("xmp", "Xmp.dc.description"),
    ("iptc", "Iptc.Application2.Caption"),
    ("exif", "Exif.Image.ImageDescription"),
)


def _first(values: Sequence[Any]) -> Any:
    """``values[0] or values[1] or …``: the first true value, else the last one."""
    for value in values[:-1]:
        if value:
            return value
    return values[-1]


class _PhotoTags:
    """A photo's EXIF, IPTC and XMP tags (XMP with its sidecars' values on top)."""

    def __init__(self, tags: _Tags, sidecars: Sequence[Sidecar]) -> None:
        xmp = dict(tags.xmp)
        for sidecar in sidecars:
            read = _read_sidecar(sidecar.path)
            if any(key.startswith(regions.PREFIX) for key in read):
                # A sidecar's face regions replace the photo's, never mix with them.
                xmp = {
                    key: value for key, value in xmp.items() if not key.startswith(regions.PREFIX)
                }
            xmp.update(read)
        self.sources: dict[_Source, dict[str, Any]] = {
            "exif": tags.exif, "iptc": tags.iptc, "xmp": xmp,
        }  # fmt: skip
        self.exif = tags.exif

    def get(self, source: _Source, tag: str) -> object:
        return self.sources[source].get(tag)

    def field(self, name: str) -> Any:
        parse, sources = _PHOTO_FIELDS[name]
        return _first([parse(self.get(source, tag)) for source, tag in sources])

    def rating(self) -> int | None:
        found = (_integer(self.get(source, tag)) for source, tag in _RATING)
        rating = next((value for value in found if value is not None), None)
        return rating if rating is not None and -1 <= rating <= 5 else None

    def dates(self) -> list[tuple[DateSource, Any]]:
        return [
            (name, dates.parse_datetime(
                _text(self.get(source, tag)), _text(self.get(source, offset)) if offset else None
            ))
            for name, source, tag, offset in _PHOTO_DATES
        ]  # fmt: skip

    def position(self) -> tuple[float, float] | None:
        exif, xmp = self.exif, self.sources["xmp"]
        return _position(
            _exif_gps(exif.get("Exif.GPSInfo.GPSLatitude"), exif.get("Exif.GPSInfo.GPSLatitudeRef")),
            _exif_gps(exif.get("Exif.GPSInfo.GPSLongitude"), exif.get("Exif.GPSInfo.GPSLongitudeRef")),
        ) or _position(
            _xmp_gps(xmp.get("Xmp.exif.GPSLatitude")), _xmp_gps(xmp.get("Xmp.exif.GPSLongitude"))
        )  # fmt: skip

    def altitude(self) -> float | None:
        altitude = _rational(self.exif.get("Exif.GPSInfo.GPSAltitude"))
        if altitude is not None and _text(self.exif.get("Exif.GPSInfo.GPSAltitudeRef")) == "1":
            return -altitude
        return altitude


def _photo_size(path: Path, media_type: MediaType, tags: _Tags) -> tuple[int, int, int, str | None]:
    """(width, height) as shown (turned by the orientation), orientation, vips loader.

    What libvips reads is what the preview applies, so its orientation wins; a PNG's
    ``eXIf`` chunk after the image data, which it skips, counts too (the preview reads
    it as well). Otherwise (HEIF, whose decoder turns the picture by the container's
    own transforms; a JPEG whose EXIF libvips could not parse) the picture is as stored.
    """
    decoded = _decoded_size(path) if media_type == "image" else None
    orientation = _integer(tags.exif.get("Exif.Image.Orientation")) or 1
    if decoded is not None:
        width, height, found, loader = decoded
        if found is not None:
            orientation = found
        elif loader is None or not loader.startswith("png"):
            orientation = 1
    else:
        (width, height), loader = tags.pixel_size, None
    if not 1 <= orientation <= 8:
        orientation = 1
    if orientation >= 5:
        width, height = height, width
    return width, height, orientation, loader


def read_image_meta(
    path: Path,
    media_type: MediaType = "image",
    sidecars: Sequence[Sidecar] = (),
    mtime_ns: int | None = None,
) -> MediaMeta:
    """Metadata of one photo (or RAW) merged with its ``.xmp`` sidecars."""
    read = _read_tags(path, media_type)
    tags = _PhotoTags(read, sidecars)
    width, height, orientation, loader = _photo_size(path, media_type, read)
    chosen = dates.choose_date(
        [
            *tags.dates(),
            ("filename", dates.date_from_filename(path.name)),
            ("file", dates.date_from_mtime(mtime_ns) if mtime_ns is not None else None),
        ]
    )
    position, altitude = tags.position(), tags.altitude()
    latitude, longitude = position or (None, None)
    date, date_source = chosen or (None, None)
    make, model = tags.field("make"), tags.field("model")
    mime = read.mime
    if not mime or mime == "application/octet-stream":
        mime = media_type_of(path.name)
    return MediaMeta(
        type=media_type,
        mime=mime,
        format=_format(path, mime, loader),
        width=width or None,
        height=height or None,
        orientation=orientation,
        date=date,
        date_source=date_source,
        make=make,
        model=model,
        lens=tags.field("lens"),
        iso=tags.field("iso"),
        aperture=tags.field("aperture"),
        exposure_time=tags.field("exposure_time"),
        focal_length=tags.field("focal_length"),
        latitude=latitude,
        longitude=longitude,
        altitude=round(altitude, 2) if position and altitude is not None else None,
        rating=tags.rating(),
        title=tags.field("title"),
        description=_description(
            (make, model), *(tags.get(source, tag) for source, tag in _DESCRIPTIONS)
        ),
        keywords=_keywords(
            tags.get("xmp", "Xmp.dc.subject"), tags.get("iptc", "Iptc.Application2.Keywords")
        ),
        face_regions=regions.face_regions(tags.sources["xmp"], orientation),
        sidecar_ids=sorted(sidecar.media_id for sidecar in sidecars),
    )


# --- videos --------------------------------------------------------------------------------


def _probe(path: Path) -> dict[str, Any]:
    probe = ffprobe_binary()
    if probe is None:
        return _probe_with_ffmpeg(path)
    output = run_tool(
        [probe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams", str(path)],
        f"{path}: ffprobe",
        _PROBE_TIMEOUT,
    )
    try:
        result: dict[str, Any] = json.loads(output)
    except json.JSONDecodeError as error:
        raise MetaError(f"{path}: ffprobe gave unreadable output: {error}") from None
    return result


_DURATION = re.compile(r"Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_VIDEO_LINE = re.compile(r"Stream #\S+.*?: Video: (\w+).*?, (\d{2,5})x(\d{2,5})")
_AUDIO_LINE = re.compile(r"Stream #\S+.*?: Audio: (\w+)")
_TAG_LINE = re.compile(r"^\s{4,}(\w[\w.\-]*)\s*: (.*)$")
_ROTATE = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees")


def _probe_with_ffmpeg(path: Path) -> dict[str, Any]:
    """ffprobe's JSON rebuilt from ``ffmpeg -i`` (for the imageio-ffmpeg binary alone)."""
    import subprocess

    try:
        completed = subprocess.run(
            [ffmpeg_binary(), "-hide_banner", "-i", str(path)],
            capture_output=True,
            timeout=_PROBE_TIMEOUT,
            check=False,
            preexec_fn=child_dies_with_this_process(),
        )
    except subprocess.TimeoutExpired:
        raise MetaError(f"{path}: ffmpeg gave up after {_PROBE_TIMEOUT:.0f} s", "timeout") from None
    report = completed.stderr.decode("utf-8", "replace")
    duration = _DURATION.search(report)
    video = _VIDEO_LINE.search(report)
    if not duration or not video:
        last = report.strip().splitlines()[-1:] or ["no video stream"]
        raise MetaError(f"{path}: not a readable video: {last[0]}", "unsupported")
    hours, minutes, seconds = duration.groups()
    tags = {
        match.group(1): match.group(2).strip()
        for match in map(_TAG_LINE.match, report.splitlines())
        if match
    }
    stream: dict[str, Any] = {
        "codec_type": "video",
        "codec_name": video.group(1),
        "width": int(video.group(2)),
        "height": int(video.group(3)),
    }
    rotation = _ROTATE.search(report)
    if rotation:
        stream["side_data_list"] = [{"rotation": float(rotation.group(1))}]
    streams = [stream]
    audio = _AUDIO_LINE.search(report)
    if audio:
        streams.append({"codec_type": "audio", "codec_name": audio.group(1)})
    return {
        "format": {
            "duration": str(int(hours) * 3600 + int(minutes) * 60 + float(seconds)),
            "tags": tags,
        },
        "streams": streams,
    }


def _iso6709(text: str | None) -> tuple[float, float, float | None] | None:
    match = _ISO6709.match(text or "")
    if not match:
        return None
    latitude, longitude, altitude = match.groups()
    return float(latitude), float(longitude), float(altitude) if altitude else None


def _frame_rate(text: object) -> float | None:
    rate = _rational(text)
    return round(rate, 3) if rate else None


def _rotation(stream: Mapping[str, Any]) -> int:
    """Clockwise degrees a player turns the picture, from the display matrix or a tag."""
    for side_data in stream.get("side_data_list") or []:
        if "rotation" in side_data:
            return round(-float(side_data["rotation"])) % 360
    rotate = (stream.get("tags") or {}).get("rotate")
    return int(rotate) % 360 if rotate and str(rotate).lstrip("-").isdigit() else 0


# Each field of a video and the container (or video stream) tags it is read from, in
# order: the first that has a value wins. Tag names are lower case here.
_VIDEO_FIELDS: dict[str, tuple[str, ...]] = {
    "make": ("com.apple.quicktime.make", "com.android.manufacturer"),
    "model": ("com.apple.quicktime.model", "com.android.model"),
    "title": ("title",),
    "description": ("description", "comment"),
    # Apple writes the local time with its zone; creation_time is UTC (or, from some
    # cameras, local time wrongly marked UTC, which no file tells apart).
    "taken": ("com.apple.quicktime.creationdate", "creation_time"),
    "location": ("com.apple.quicktime.location.iso6709", "location", "location-eng"),
}


@dataclass
class _Probed:
    video: dict[str, Any]  # the first video stream
    audio: dict[str, Any] | None  # the first audio stream
    container: dict[str, Any]
    tags: dict[str, str]  # the container's tags, then the video stream's, names lower case

    def field(self, name: str) -> str | None:
        found: str | None = _first([self.tags.get(tag) for tag in _VIDEO_FIELDS[name]])
        return found

    def taken(self) -> datetime | None:
        found: datetime | None = _first(
            [dates.parse_datetime(self.tags.get(tag)) for tag in _VIDEO_FIELDS["taken"]]
        )
        return found

    def size(self) -> tuple[int, int, int]:
        """(width, height) as a player shows it, and the clockwise rotation."""
        rotation = _rotation(self.video)
        width, height = int(self.video.get("width") or 0), int(self.video.get("height") or 0)
        if rotation in (90, 270):
            width, height = height, width
        return width, height, rotation


def _probed(path: Path) -> _Probed:
    try:
        probe = _probe(path)
    except ToolError as error:
        raise MetaError(str(error), error.reason) from None
    streams = probe.get("streams") or []
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    if video is None:
        raise MetaError(f"{path}: no video stream", "unsupported")
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    container = probe.get("format") or {}
    tags = {str(key).lower(): str(value) for key, value in (container.get("tags") or {}).items()}
    for key, value in (video.get("tags") or {}).items():
        tags.setdefault(str(key).lower(), str(value))
    return _Probed(video, audio, container, tags)


def read_video_meta(path: Path, mtime_ns: int | None = None) -> MediaMeta:
    """Metadata of one video: size as shown, duration, codecs, creation time and place."""
    probed = _probed(path)
    video, container = probed.video, probed.container
    width, height, rotation = probed.size()
    chosen = dates.choose_date(
        [
            ("video", probed.taken()),
            ("filename", dates.date_from_filename(path.name)),
            ("file", dates.date_from_mtime(mtime_ns) if mtime_ns is not None else None),
        ]
    )
    location = _iso6709(probed.field("location"))
    position = _position(location[0], location[1]) if location else None
    latitude, longitude = position or (None, None)
    date, date_source = chosen or (None, None)
    duration = _rational(container.get("duration")) or _rational(video.get("duration"))
    return MediaMeta(
        type="video",
        mime=media_type_of(path.name),
        format=path.suffix.lower().lstrip(".") or None,
        width=width or None,
        height=height or None,
        date=date,
        date_source=date_source,
        make=probed.field("make"),
        model=probed.field("model"),
        latitude=latitude,
        longitude=longitude,
        altitude=location[2] if position and location else None,
        title=probed.field("title"),
        description=probed.field("description"),
        duration=round(duration, 3) if duration else None,
        video_codec=video.get("codec_name"),
        audio_codec=probed.audio.get("codec_name") if probed.audio else None,
        frame_rate=_frame_rate(video.get("avg_frame_rate") or video.get("r_frame_rate")),
        rotation=rotation,
    )


def read_meta(
    path: Path,
    media_type: MediaType,
    sidecars: Sequence[Sidecar] = (),
    mtime_ns: int | None = None,
) -> MediaMeta:
    if media_type == "video":
        return read_video_meta(path, mtime_ns)
    return read_image_meta(path, media_type, sidecars, mtime_ns)
