"""Where a storage folder's bytes go: per kind, its files' bytes and what they take on disk.

On disk every file takes whole blocks (4 KiB on ext4 and most others), so many small
files cost more than their bytes; the folders of the ``ab/cd`` layout take a block each.

    python scripts/storage_usage.py STORAGE [SOURCES]
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

from homegallery.storage import parse_name


def main() -> int:
    root = Path(sys.argv[1])
    usage: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    folders = [0, 0]
    sizes: list[int] = []
    seen: set[tuple[int, int]] = set()
    for path in root.rglob("*"):
        status = path.lstat()
        if path.is_dir():
            folders[0] += 1
            folders[1] += status.st_blocks * 512
            continue
        parsed = parse_name(path.name)
        kind = re.sub(r"-[0-9a-f]{6,}", "", parsed[1]) if parsed else "(other)"
        if (status.st_dev, status.st_ino) in seen:  # a second name of a stored file
            kind += " (linked)"
            usage[kind][0] += 1
            continue
        seen.add((status.st_dev, status.st_ino))
        sizes.append(status.st_size)
        entry = usage[kind]
        entry[0] += 1
        entry[1] += status.st_size
        entry[2] += status.st_blocks * 512
    print("| kind | files | bytes | on disk | bytes per file |")
    print("| --- | ---: | ---: | ---: | ---: |")
    total = [0, 0, 0]
    for kind, (count, size, disk) in sorted(usage.items(), key=lambda item: -item[1][2]):
        print(
            f"| {kind} | {count} | {size / 1e3:,.1f} kB | {disk / 1e3:,.1f} kB | {size / count:,.0f} B |"
        )
        total = [a + b for a, b in zip(total, (count, size, disk), strict=True)]
    print(f"| folders | {folders[0]} | | {folders[1] / 1e3:,.1f} kB | |")
    print(
        f"| total | {total[0]} | {total[1] / 1e3:,.1f} kB | {(total[2] + folders[1]) / 1e3:,.1f} kB | |"
    )
    print("\n| allocation unit | files take | folders take | over the bytes |")
    print("| --- | ---: | ---: | ---: |")
    for unit, name in (
        (4096, "4 KiB (ext4, XFS)"),
        (32768, "32 KiB (exFAT up to 32 GB)"),
        (131072, "128 KiB (exFAT above 32 GB)"),
    ):
        taken = sum(-(-size // unit) * unit for size in sizes)
        folder_bytes = folders[0] * unit
        print(
            f"| {name} | {taken / 1e3:,.1f} kB | {folder_bytes / 1e3:,.1f} kB"
            f" | {(taken + folder_bytes) / total[1] - 1:+.0%} |"
        )
    if len(sys.argv) > 2:
        sources = sum(p.stat().st_size for p in Path(sys.argv[2]).rglob("*") if p.is_file())
        print(
            f"\nsources {sources / 1e6:,.1f} MB; storage {total[1] / sources:.1%} of it"
            f" in bytes, {(total[2] + folders[1]) / sources:.1%} on disk"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
