"""Reproducible trees of files for the file-system benchmarks."""

from __future__ import annotations

import random
from pathlib import Path


def write_tree(root: Path, count: int, size: int = 0, seed: int = 7) -> list[Path]:
    """``count`` files in nested folders (~100 per folder), a mix of photo-like names.

    With ``size`` 0 the files are empty (walk and index benchmarks measure metadata
    work); otherwise each holds ``size`` random bytes (checksum benchmarks).
    """
    rng = random.Random(seed)
    extensions = ["jpg", "JPG", "png", "mp4", "xmp", "txt", "heic", "mov"]
    paths = []
    for number in range(count):
        folder = root / f"{2000 + number // 20000}" / f"album-{number // 100:05d}"
        if number % 100 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"IMG_{number:06d}.{extensions[number % len(extensions)]}"
        if size:
            path.write_bytes(rng.randbytes(size))
        else:
            with path.open("wb"):
                pass
        paths.append(path)
    return paths
