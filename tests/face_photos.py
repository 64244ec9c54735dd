"""Real photos with faces, from pinned registry packages (downloaded once, then cached).

npm ``@vladmandic/face-api`` 1.7.15 ships six group photos in ``demo/`` (3, 3, 3, 4,
5 and 4 faces, counted by eye); PyPI ``scikit-image`` 0.26.0 ships the astronaut
portrait (one face). Every file is checked against its SHA-256.
"""

from __future__ import annotations

from pathlib import Path

from homegallery.models.fetch import extract_member, sha256_file
from homegallery.models.spec import PackageSource
from models_helpers import PACKAGE_CACHE, cached_package

# name: (sha256, size, faces counted by eye)
GROUP_PHOTOS: dict[str, tuple[str, int, int]] = {
    "sample1.jpg": ("8ecae4b267b2d3169e06e00c7dee97097aa2a94635d45216f7732a5f4943cb51", 144_516, 3),
    "sample2.jpg": ("7d2b60ae6f13bf30f422e04df87451081a02c83de469056f25afb44b7000c691", 181_758, 3),
    "sample3.jpg": ("8eb081c9efb14370fa94d9feab9e5fbeafd19a627491853a80c2bf67f7ffa936", 221_049, 3),
    "sample4.jpg": ("729efa5923061d40eb4ed5f267a18cc7b8ba6f852bb2757b16d8b7e4937476fc", 210_824, 4),
    "sample5.jpg": ("6d45095ebb182d8f975c0790e0e4eefd86fbb40609cf4b271776d92e12662938", 166_400, 5),
    "sample6.jpg": ("9baad80f9d5e306fb9b8c0913d44445f1e95848df317530efb03d0934c57ba87", 302_445, 4),
}
ASTRONAUT = ("88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5", 791_555)


def _face_api(member: str, sha256: str, size: int) -> PackageSource:
    return PackageSource(
        registry="npm",
        package="@vladmandic/face-api",
        version="1.7.15",
        file_name="vladmandic-face-api-1.7.15.tgz",
        sha256="0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
        size=12_677_476,
        member=member,
        member_sha256=sha256,
        member_size=size,
    )


def _scikit_image(member: str, sha256: str, size: int) -> PackageSource:
    # A binary wheel: the one for this machine's Python and platform.
    return PackageSource(
        registry="pypi",
        package="scikit-image",
        version="0.26.0",
        file_name="scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
        sha256="74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af",
        size=13_711_217,
        member=member,
        member_sha256=sha256,
        member_size=size,
    )


def _photo(source: PackageSource, target: Path) -> Path:
    if not (target.is_file() and sha256_file(target) == source.member_sha256):
        target.parent.mkdir(parents=True, exist_ok=True)
        extract_member(source, cached_package(source), target)
        assert sha256_file(target) == source.member_sha256, f"{target.name} is not the pinned file"
    return target


def group_photo(name: str) -> Path:
    """One of face-api's demo photos, from the package cache."""
    sha256, size, _ = GROUP_PHOTOS[name]
    return _photo(_face_api(f"demo/{name}", sha256, size), PACKAGE_CACHE / "face-api" / name)


def astronaut() -> Path:
    """scikit-image's astronaut portrait (512 × 512 PNG, one face)."""
    return _photo(
        _scikit_image("skimage/data/astronaut.png", *ASTRONAUT),
        PACKAGE_CACHE / "scikit-image" / "astronaut.png",
    )
