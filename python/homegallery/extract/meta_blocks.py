"""A photo's EXIF and XMP blocks as its decoder's library reads them, for when exiv2 can't.

exiv2 reads nothing from some valid files: HEIF whose items are located by extent
offsets (libheif reads them), a JPEG whose EXIF segment is not valid TIFF (exiv2 then
refuses the whole file, XMP included) or whose first directory claims more entries than
it holds (Pillow reads the entries that are there). The blocks those libraries give are
parsed by exiv2 again, from memory, so every tag keeps the one name and parser the
metadata tables use; a block Pillow read is written out anew first, which leaves out
what could not be read.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAX_EXIF = 1 << 20  # a camera's EXIF fits 64 KiB; a larger chunk is not read into memory


@dataclass(frozen=True)
class Blocks:
    exif: bytes | None  # TIFF-structured EXIF, without the ``Exif\\0\\0`` header
    xmp: bytes | None


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(64)
    except OSError:
        return b""


def _is_heif_head(head: bytes) -> bool:
    import pillow_heif

    return bool(head) and bool(pillow_heif.is_supported(head))


def is_heif(path: Path) -> bool:
    """True for the HEIF family (HEIC, HIF, AVIF), told by the file's ``ftyp`` brands."""
    return _is_heif_head(_head(path))


def read_blocks(path: Path) -> Blocks | None:
    """The blocks libheif (HEIF), a chunk walk (PNG) or Pillow reads; None if none opens it.

    A PNG's chunks are walked rather than opened with Pillow, which decodes the whole
    picture to look for an ``eXIf`` chunk after the image data.
    """
    head = _head(path)
    if _is_heif_head(head):
        return _heif_blocks(path)
    if head.startswith(_PNG_SIGNATURE):
        return Blocks(png_exif(path), None)
    return _pillow_blocks(path)


def _heif_blocks(path: Path) -> Blocks | None:
    import pillow_heif

    try:
        info = pillow_heif.open_heif(str(path), convert_hdr_to_8bit=True).info
    except (ValueError, OSError, RuntimeError):
        return None
    exif = info.get("exif") or None
    return Blocks(bytes(exif).removeprefix(b"Exif\0\0") if exif else None, info.get("xmp"))


def _pillow_blocks(path: Path) -> Blocks | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data": what is left is wanted
            with Image.open(path) as image:
                exif = image.getexif()
                if exif:
                    for pointer in (_EXIF_IFD, _GPS_IFD):
                        if pointer in exif:
                            exif.get_ifd(pointer)
                tiff = exif.tobytes().removeprefix(b"Exif\0\0") if exif else None
                xmp = image.info.get("xmp")
    except UnidentifiedImageError:
        return None
    except Exception:
        # Pillow's EXIF reader raises many kinds of error on hostile data: the fallback
        # then gives nothing, and exiv2's refusal stands.
        return None
    return Blocks(tiff, xmp if isinstance(xmp, bytes) and xmp else None)


def parse_blocks(blocks: Blocks) -> tuple[dict[str, Any], dict[str, Any]]:
    """(EXIF tags, XMP tags) of the blocks, with exiv2's names; a block it refuses gives {}."""
    return _parse(blocks.exif, "exif"), _parse(blocks.xmp, "xmp")


def _parse(block: bytes | None, kind: str) -> dict[str, Any]:
    import pyexiv2

    if not block:
        return {}
    pyexiv2.set_log_level(4)
    try:
        with pyexiv2.ImageData(block) as data:
            if kind == "exif":
                try:
                    tags: dict[str, Any] = data.read_exif()
                except UnicodeDecodeError:
                    tags = data.read_exif(encoding="latin-1")
            else:
                tags = data.read_xmp()
    except RuntimeError:
        return {}
    return tags


def png_exif(path: Path) -> bytes | None:
    """The PNG's ``eXIf`` chunk wherever it is, found by chunk headers (no pixel is read).

    The PNG specification allows it after the image data, where ImageMagick writes it
    and where libvips does not look.
    """
    try:
        with path.open("rb") as file:
            if file.read(8) != _PNG_SIGNATURE:
                return None
            while header := file.read(8):
                if len(header) < 8:
                    return None
                length, kind = struct.unpack(">I4s", header)
                if kind == b"eXIf":
                    if length > _MAX_EXIF:
                        return None
                    body = file.read(length)
                    return body if len(body) == length else None
                if kind == b"IEND":
                    return None
                file.seek(length + 4, 1)  # the body and its CRC
    except OSError:
        return None
    return None


def exif_orientation(exif: bytes | None) -> int | None:
    """The orientation (1-8) an EXIF block gives, or None."""
    value = parse_blocks(Blocks(exif, None))[0].get("Exif.Image.Orientation")
    try:
        orientation = int(str(value).split()[0]) if value is not None else None
    except ValueError:
        return None
    return orientation if orientation is not None and 1 <= orientation <= 8 else None
