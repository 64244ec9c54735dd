"""Files as phones and cameras write them, generated: HEIC/HIF, MPO, PNG with eXIf, …

Each maker writes one file with real EXIF (piexif) so the tests of the extractors and
the import of a mixed folder check the same cases. The pictures carry a marker square
in their top-left corner as stored, so a test can tell whether a preview is upright.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import piexif
from PIL import Image, ImageDraw

MARKER = (250, 20, 20)


@dataclass(frozen=True)
class Shot:
    """What a file says about itself: when, where, which camera and how it is turned."""

    taken: datetime
    offset: str | None = None  # "+02:00"
    gps: tuple[float, float] | None = None
    make: str = "Apple"
    model: str = "iPhone 15 Pro"
    orientation: int = 1


def _rationals(value: float) -> tuple[tuple[int, int], ...]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = Fraction(round((value - degrees - minutes / 60) * 3600, 4)).limit_denominator(10000)
    return (degrees, 1), (minutes, 1), (seconds.numerator, seconds.denominator)


def exif_bytes(shot: Shot) -> bytes:
    """The EXIF block (``Exif\\0\\0`` + TIFF) of a shot, as a camera writes it."""
    stamp = shot.taken.strftime("%Y:%m:%d %H:%M:%S").encode()
    photo: dict[int, object] = {piexif.ExifIFD.DateTimeOriginal: stamp}
    if shot.offset:
        photo[piexif.ExifIFD.OffsetTimeOriginal] = shot.offset.encode()
    gps: dict[int, object] = {}
    if shot.gps:
        latitude, longitude = shot.gps
        gps = {
            piexif.GPSIFD.GPSLatitudeRef: b"N" if latitude >= 0 else b"S",
            piexif.GPSIFD.GPSLatitude: _rationals(latitude),
            piexif.GPSIFD.GPSLongitudeRef: b"E" if longitude >= 0 else b"W",
            piexif.GPSIFD.GPSLongitude: _rationals(longitude),
        }
    zeroth = {
        piexif.ImageIFD.Make: shot.make.encode(),
        piexif.ImageIFD.Model: shot.model.encode(),
        piexif.ImageIFD.Orientation: shot.orientation,
    }
    data: bytes = piexif.dump({"0th": zeroth, "Exif": photo, "GPS": gps})
    return data


def picture(width: int, height: int, colour: tuple[int, int, int] = (40, 120, 160)) -> Image.Image:
    """A plain picture with the marker in its top-left corner (as stored)."""
    image = Image.new("RGB", (width, height), colour)
    side = max(4, min(width, height) // 4)
    ImageDraw.Draw(image).rectangle((0, 0, side, side), fill=MARKER)
    return image


def marker_corner(image: Image.Image) -> str:
    """Which corner of a shown picture holds the marker: ``top-left``, ``bottom-right``, …"""
    rgb = image.convert("RGB")
    width, height = rgb.size
    inset_x, inset_y = max(1, width // 16), max(1, height // 16)
    corners = {
        "top-left": (inset_x, inset_y),
        "top-right": (width - 1 - inset_x, inset_y),
        "bottom-left": (inset_x, height - 1 - inset_y),
        "bottom-right": (width - 1 - inset_x, height - 1 - inset_y),
    }
    reds = [name for name, xy in corners.items() if _is_marker(rgb.getpixel(xy))]
    return reds[0] if len(reds) == 1 else f"unclear {reds}"


def _is_marker(pixel: object) -> bool:
    assert isinstance(pixel, tuple)
    red, green, blue = pixel[:3]
    return bool(red > 180 and green < 90 and blue < 90)


# Where the marker lands once a viewer applies the orientation (the stored top-left).
SHOWN_CORNER = {
    1: "top-left",
    2: "top-right",
    3: "bottom-right",
    4: "bottom-left",
    5: "top-left",
    6: "top-right",
    7: "bottom-right",
    8: "bottom-left",
}


# --- HEIF --------------------------------------------------------------------------------------


def write_heif(
    path: Path, shot: Shot, size: tuple[int, int] = (640, 480), ten_bit: bool = False
) -> Path:
    """A HEIC (or a 10-bit ``.hif`` as Sony and Canon write) with EXIF, via pillow-heif."""
    import numpy as np
    import pillow_heif

    image = picture(*size)
    if ten_bit:
        pixels = (np.asarray(image).astype(np.uint16) << 8) | np.asarray(image)
        heif = pillow_heif.from_bytes("RGB;16", image.size, pixels.tobytes())
    else:
        heif = pillow_heif.from_pillow(image)
    heif.save(path, exif=exif_bytes(shot), quality=60, enc_params={"preset": "ultrafast"})
    return path


def write_tiled_heic(path: Path, shot: Shot, size: tuple[int, int], tile: int) -> Path:
    """A grid HEIC of ``tile``-pixel tiles, as phones write theirs (512-pixel tiles there).

    Many tiles make many items: past 256 the libheif inside the libvips wheel refuses
    the file as a "security limit", as it does a 200 MP camera HEIC.
    """
    import pillow_heif

    heif = pillow_heif.from_pillow(picture(*size))
    heif.save(
        path, exif=exif_bytes(shot), quality=30, tile_size=tile, enc_params={"preset": "ultrafast"}
    )
    return path


def write_heif_with_extent_offsets(path: Path, shot: Shot, xmp: bytes | None = None) -> Path:
    """A valid HEIC whose items are located by extent offsets instead of base offsets.

    Both are ISO/IEC 23008-12 locations and libheif reads either; some encoders write
    the second, and exiv2 then finds no metadata at all in the file.
    """
    import pillow_heif

    heif = pillow_heif.from_pillow(picture(640, 480))
    heif.save(path, exif=exif_bytes(shot), xmp=xmp, quality=60)
    data = bytearray(path.read_bytes())
    _move_base_offsets_to_extents(data)
    path.write_bytes(bytes(data))
    return path


def _boxes(data: bytes | bytearray, start: int, end: int) -> list[tuple[str, int, int]]:
    """(type, offset of its body, end) of each box in ``data[start:end]``."""
    found = []
    while start + 8 <= end:
        size, kind = struct.unpack(">I4s", data[start : start + 8])
        found.append((kind.decode("latin-1"), start + 8, start + size))
        start += size
    return found


def _move_base_offsets_to_extents(data: bytearray) -> None:
    meta = next(box for box in _boxes(data, 0, len(data)) if box[0] == "meta")
    iloc = next(box for box in _boxes(data, meta[1] + 4, meta[2]) if box[0] == "iloc")
    body = iloc[1]
    version = data[body]
    sizes = data[body + 4] << 8 | data[body + 5]
    offset_size, length_size, base_size = sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15
    assert version == 0 and (offset_size, length_size, base_size) == (4, 4, 4), "pillow-heif"
    count = struct.unpack(">H", data[body + 6 : body + 8])[0]
    at = body + 8
    for _ in range(count):
        base = struct.unpack(">I", data[at + 4 : at + 8])[0]
        extents = struct.unpack(">H", data[at + 8 : at + 10])[0]
        data[at + 4 : at + 8] = b"\0\0\0\0"
        for extent in range(extents):
            where = at + 10 + extent * 8
            offset = struct.unpack(">I", data[where : where + 4])[0]
            data[where : where + 4] = struct.pack(">I", base + offset)
        at += 10 + extents * 8


def xmp_packet(taken: datetime, latitude: str, longitude: str) -> bytes:
    """An XMP packet with a date and a position (XMP writes GPS as ``48,51.4N``)."""
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:exif="http://ns.adobe.com/exif/1.0/"'
        f' exif:DateTimeOriginal="{taken.isoformat()}"'
        f' exif:GPSLatitude="{latitude}" exif:GPSLongitude="{longitude}"/>'
        "</rdf:RDF></x:xmpmeta>"
    ).encode()


# --- JPEG family -------------------------------------------------------------------------------


def write_jpeg(path: Path, shot: Shot, size: tuple[int, int] = (640, 480)) -> Path:
    picture(*size).save(path, "JPEG", quality=85, exif=exif_bytes(shot))
    return path


def write_mpo(path: Path, shot: Shot, size: tuple[int, int] = (640, 480)) -> Path:
    """A stereo MPO (two JPEGs, as 3D cameras and phones' portrait mode write)."""
    left, right = picture(*size), picture(*size, colour=(60, 140, 180))
    left.save(path, "MPO", save_all=True, append_images=[right], exif=exif_bytes(shot))
    return path


def write_broken_exif_jpeg(path: Path, shot: Shot, size: tuple[int, int] = (640, 480)) -> Path:
    """A JPEG whose EXIF segment is not valid TIFF (its byte order mark is damaged)."""
    write_jpeg(path, shot, size)
    data = bytearray(path.read_bytes())
    tiff = data.index(b"Exif\0\0") + 6
    data[tiff : tiff + 2] = b"XX"
    path.write_bytes(bytes(data))
    return path


def write_jpeg_with_unreadable_ifd0(path: Path, shot: Shot) -> Path:
    """A JPEG whose first IFD claims 32767 entries (a truncated directory)."""
    write_jpeg(path, shot)
    data = bytearray(path.read_bytes())
    tiff = data.index(b"Exif\0\0") + 6
    order = ">" if data[tiff : tiff + 2] == b"MM" else "<"
    ifd0 = tiff + struct.unpack(order + "I", data[tiff + 4 : tiff + 8])[0]
    data[ifd0 : ifd0 + 2] = struct.pack(order + "H", 0x7FFF)
    path.write_bytes(bytes(data))
    return path


# --- PNG ---------------------------------------------------------------------------------------


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_png_exif_after_data(path: Path, shot: Shot, size: tuple[int, int] = (400, 300)) -> Path:
    """A PNG with its ``eXIf`` chunk after the image data, where ImageMagick puts it."""
    picture(*size).save(path, "PNG")
    data = path.read_bytes()
    end = data.rindex(b"IEND") - 4
    tiff = exif_bytes(shot).removeprefix(b"Exif\0\0")
    path.write_bytes(data[:end] + _chunk(b"eXIf", tiff) + data[end:])
    return path
