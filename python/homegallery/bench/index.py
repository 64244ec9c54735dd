"""Index hot paths: checksums, walk + exclude, and an update with nothing changed."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from homegallery import _core
from homegallery.bench.files import write_tree
from homegallery.bench.report import Figure, Report, measure
from homegallery.config import Config, Source
from homegallery.index import update_index
from homegallery.progress import counted


class Hasher(Protocol):
    def update(self, data: bytes, /) -> object: ...
    def hexdigest(self) -> str: ...


# Patterns like a real gallery's: trash and thumbnail folders, sidecars and text out.
EXCLUDES = [".Trash*/", "@eaDir/", "*.txt", "*.xmp", "album-000[0-4]/", "!IMG_000001.txt"]


def _blake3_package() -> Callable[[], Hasher] | None:
    """The blake3 package's one-thread hasher: the `bench` extra, not a dependency."""
    try:
        import blake3  # lazy: optional, from `pip install homegallery[bench]`
    except ImportError:
        return None
    return lambda: blake3.blake3(max_threads=1)


def _python_hash(paths: list[Path], new_hasher: Callable[[], Hasher]) -> int:
    total = 0
    for path in paths:
        with path.open("rb") as handle:
            hasher = new_hasher()
            while chunk := handle.read(1 << 20):
                hasher.update(chunk)
                total += len(chunk)
            hasher.hexdigest()
    return total


def bench_checksums(report: Report, workdir: Path, files: int = 64, size: int = 4 << 20) -> None:
    paths = write_tree(workdir / "checksum", files, size=size)
    names = [str(path) for path in paths]
    megabytes = files * size / 1e6
    cores = os.cpu_count() or 1
    rust_all = measure("rust all cores", lambda: _core.hash_files(names, 0), repeat=3)
    rust_one = measure("rust 1 thread", lambda: _core.hash_files(names, 1), repeat=3)
    sha1 = measure("hashlib.sha1", lambda: _python_hash(paths, hashlib.sha1), repeat=3)
    package = _blake3_package()
    b3py = (
        None
        if package is None
        else measure("blake3 package", lambda: _python_hash(paths, package), repeat=3)
    )
    for timing, threads in ((rust_all, cores), (rust_one, 1)):
        value = megabytes / timing.best
        report.add(
            Figure(
                "checksums",
                f"blake3 Rust, {counted(threads, 'thread')}",
                value,
                "MB/s",
                "hashlib.sha1",
                megabytes / sha1.best,
                target=">= 3x sha1" if threads == cores else "",
            )
        )
        if b3py is None:
            continue
        report.add(
            Figure(
                "checksums",
                f"blake3 Rust, {counted(threads, 'thread')} vs blake3 package",
                value,
                "MB/s",
                "blake3 package, 1 thread",
                megabytes / b3py.best,
            )
        )


class PythonExcludes:
    """A plain gitignore-style matcher (last match wins, `!`, `dir/`, anchors, `**`).

    Baseline only: the same rules the Rust side applies, written the obvious way.
    """

    def __init__(self, patterns: list[str]) -> None:
        self.rules: list[tuple[re.Pattern[str], bool, bool]] = []
        for line in patterns:
            negated = line.startswith("!")
            pattern = line[1:] if negated else line
            directory_only = pattern.endswith("/")
            pattern = pattern.rstrip("/")
            anchored = "/" in pattern
            pattern = pattern.lstrip("/")
            regex = fnmatch.translate(pattern).replace(".*", "[^/]*")
            regex = regex.replace("[^/]*[^/]*/", "(?:.*/)?")
            if not anchored:
                regex = r"(?:.*/)?" + regex
            self.rules.append((re.compile(regex), negated, directory_only))

    def excluded(self, relative: str, is_dir: bool) -> bool:
        result = False
        for regex, negated, directory_only in self.rules:
            if directory_only and not is_dir:
                continue
            if regex.match(relative):
                result = not negated
        return result


def _python_walk(root: Path, matcher: PythonExcludes) -> int:
    found = 0
    stack = [""]
    while stack:
        relative = stack.pop()
        with os.scandir(root / relative) as entries:
            for entry in entries:
                child = f"{relative}/{entry.name}" if relative else entry.name
                if entry.is_dir(follow_symlinks=False):
                    if not matcher.excluded(child, True):
                        stack.append(child)
                elif not matcher.excluded(child, False):
                    entry.stat()
                    found += 1
    return found


def bench_walk(report: Report, workdir: Path, files: int = 100_000) -> None:
    root = workdir / f"walk-{files}"
    if not root.exists():
        write_tree(root, files)
    matcher = PythonExcludes(EXCLUDES)
    rust = measure("rust walk", lambda: _core.walk_source(str(root), EXCLUDES), repeat=3)
    python = measure("python walk", lambda: _python_walk(root, matcher), repeat=3)
    report.add(
        Figure(
            "walk",
            f"walk + exclude, {files:,} files, Rust parallel",
            files / rust.best,
            "files/s",
            "os.scandir + Python matcher",
            files / python.best,
        )
    )


def bench_index_update(report: Report, workdir: Path, files: int = 100_000) -> None:
    root = workdir / f"walk-{files}"
    if not root.exists():
        write_tree(root, files)
    source = Source(dir=str(root), index=str(workdir / f"index-{files}.idx"))
    config = Config(sources=[source])
    start = time.perf_counter()
    update_index(config)
    first = time.perf_counter() - start
    unchanged = measure("update", lambda: update_index(config), repeat=3, warmup=0)
    report.add(
        Figure(
            "index",
            f"update, {files:,} files, nothing changed",
            unchanged.best,
            "s",
            "first index of the same files",
            first,
            higher_is_better=False,
            target="< 2 s" if files >= 100_000 else "",
        )
    )


def run(quick: bool) -> Report:
    report = Report("index: checksums, walk + exclude, update")
    measure_all(report, quick)
    return report


def measure_all(report: Report, quick: bool = False, workdir: Path | None = None) -> None:
    with tempfile.TemporaryDirectory(prefix="hg-bench-index-") as temporary:
        folder = workdir or Path(temporary)
        bench_checksums(report, folder, files=16 if quick else 64, size=(1 if quick else 4) << 20)
        count = 5_000 if quick else 100_000
        bench_walk(report, folder, count)
        bench_index_update(report, folder, count)
