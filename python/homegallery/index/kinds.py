"""Kind of a file by its extension: what the later stages do with it.

Decided by name only, because the index must not open files it does not hash; the
extractors look inside later and record what a file really is. The lists follow what
phones and cameras write: HEIC/HEIF and Sony's and Canon's 10-bit ``.hif``, AVIF,
stereo and portrait-mode ``.mpo``, Insta360's ``.insp``/``.insv`` (JPEG and MP4 by
content), the RAW formats libraw reads, camcorders' MPEG transport and program streams
(``.mts``, ``.m2t``, ``.mod``, ``.tod``) and professional cameras' ``.mxf``. GoPro's
``.lrv`` proxies are left out: they are low-resolution copies of the ``.mp4`` beside them.
"""

from __future__ import annotations

import mimetypes

IMAGE_EXTENSIONS = frozenset(
    [
        "jpg",
        "jpeg",
        "jpe",
        "png",
        "gif",
        "webp",
        "heic",
        "heif",
        "hif",
        "avif",
        "mpo",
        "insp",
        "tif",
        "tiff",
        "bmp",
        "jxl",
    ]
)
RAW_EXTENSIONS = frozenset(
    [
        "dng",
        "cr2",
        "cr3",
        "crw",
        "nef",
        "nrw",
        "arw",
        "srf",
        "sr2",
        "orf",
        "rw2",
        "raf",
        "pef",
        "srw",
        "x3f",
        "3fr",
        "iiq",
        "rwl",
        "erf",
        "mrw",
        "kdc",
        "dcr",
        "fff",
        "mef",
        "mos",
    ]
)
VIDEO_EXTENSIONS = frozenset(
    [
        "mp4",
        "m4v",
        "mov",
        "avi",
        "mkv",
        "webm",
        "mts",
        "m2ts",
        "m2t",
        "mod",
        "tod",
        "mxf",
        "insv",
        "dv",
        "3gp",
        "3g2",
        "mpg",
        "mpeg",
        "wmv",
        "flv",
        "ogv",
        "vob",
    ]
)
SIDECAR_EXTENSIONS = frozenset(["xmp", "aae", "thm", "json"])

# Media types the system's table lacks or gets wrong for these files (some give
# ``.hif`` as AVIF and ``.mod`` as an XML DTD).
_MEDIA_TYPES = {
    "hif": "image/heif",
    "mpo": "image/jpeg",  # browsers show its first picture
    "insp": "image/jpeg",
    "dng": "image/x-adobe-dng",
    "mts": "video/mp2t",
    "m2ts": "video/mp2t",
    "m2t": "video/mp2t",
    "mod": "video/mpeg",
    "tod": "video/mpeg",
    "insv": "video/mp4",
    "3gp": "video/3gpp",
}


def extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    _, dot, suffix = name.rpartition(".")
    return suffix.lower() if dot and _ else ""


def kind_of(path: str) -> str:
    suffix = extension(path)
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in RAW_EXTENSIONS:
        return "raw"
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    if suffix in SIDECAR_EXTENSIONS:
        return "sidecar"
    return "other"


def media_type(path: str) -> str | None:
    """The file's media type by its name (``image/heif`` for ``.hif``), or None if unknown."""
    return _MEDIA_TYPES.get(extension(path)) or mimetypes.guess_type(path)[0]
