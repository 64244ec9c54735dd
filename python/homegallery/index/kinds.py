"""Kind of a file by its extension: what the later stages do with it.

Decided by name only, because the index must not open files it does not hash; the
extractors look inside later and record what a file really is.
"""

from __future__ import annotations

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
        "avif",
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
