"""The import loop as a user runs it: chunks, kill -9 and resume, watch, unmounted disks."""

from __future__ import annotations

import fcntl
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import msgspec
import pytest

from homegallery.catalog.generation import generation
from homegallery.catalog.schema import open_reader
from homegallery.config import Config, load_config
from homegallery.gallery import open_gallery
from homegallery.importer import (
    GalleryBusyError,
    ImportOptions,
    import_initial,
    import_lock,
    import_update,
    watch_and_import,
)
from homegallery.index import AddLimits
from homegallery.samples import write_sample_photo
from homegallery.server.runner import free_port

HOMEGALLERY = [sys.executable, "-m", "homegallery.cli.main"]


def make_gallery(folder: Path, photos: int = 12) -> Path:
    """A gallery config over generated photos (and one short video when ffmpeg exists)."""
    source = folder / "photos"
    for number in range(photos):
        write_sample_photo(
            source / f"{2010 + number % 3}" / f"IMG_{number:03d}.jpg",
            480 if number % 2 else 360,
            360 if number % 2 else 480,
            seed=number,
            gps=(43.77, 11.25) if number % 4 == 0 else None,
        )
    if shutil.which("ffmpeg"):
        subprocess.run(
            [
                "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
                "-t", "1", "-metadata", "creation_time=2012-05-04T12:30:00Z",
                "-pix_fmt", "yuv420p", str(source / "clip.mp4"),
            ],
            check=True,
        )  # fmt: skip
    config_file = folder / "gallery.yml"
    config_file.write_text(
        "sources: [{dir: photos}]\n"
        "database: {file: data/catalog.db}\n"
        "storage: {dir: data/storage}\n"
        "extractor: {workers: 1, image: {previewSizes: [320, 128]}, geoReverse: {provider: off}}\n"
    )
    return config_file


def catalog_snapshot(config: Config) -> list[dict[str, object]]:
    with open_gallery(config) as gallery:
        entries = [msgspec.to_builtins(entry) for entry in gallery]
    return sorted(entries, key=lambda entry: str(entry["id"]))


def test_initial_import_shows_entries_after_the_first_chunk(
    photos_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "photos"
    shutil.copytree(photos_dir / "gps", source / "gps")
    shutil.copytree(photos_dir / "orientation", source / "orientation")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=15",
         "-t", "1", "-pix_fmt", "yuv420p", str(source / "clip.mp4")],
        check=True,
    )  # fmt: skip
    config_file = tmp_path / "gallery.yml"
    config_file.write_text(
        "sources: [{dir: photos}]\ndatabase: {file: data/catalog.db}\n"
        "storage: {dir: data/storage}\nextractor: {workers: 1, geoReverse: {provider: off}}\n"
    )
    config = load_config(config_file)
    seen_after_chunk: list[tuple[int, int, int]] = []

    def after_chunk(chunk: object) -> None:
        with open_gallery(config) as gallery:
            indexed = chunk.index.total("entries")  # type: ignore[attr-defined]
            seen_after_chunk.append((indexed, chunk.index.total("seen"), len(gallery)))  # type: ignore[attr-defined]

    options = ImportOptions(
        add_limits=AddLimits.parse("5,5,1.5,100"), on_chunk=after_chunk, quiet=True
    )
    report = import_initial(config, options)
    assert report.ok
    first_indexed, total_files, first_entries = seen_after_chunk[0]
    assert first_indexed == 5 and total_files == 26
    assert first_entries == 5  # photos are in the catalog after the first chunk
    assert len(seen_after_chunk) > 2
    with open_gallery(config) as gallery:
        assert len(gallery) == 26
        assert len(gallery.search("type:video")) == 1
        assert len(gallery.search("year:2008")) == 9


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_killed_import_resumes_to_the_same_catalog(tmp_path: Path, seed: int) -> None:
    reference_file = make_gallery(tmp_path / "reference")
    killed_file = make_gallery(tmp_path / "killed")
    command = ["run", "import", "--initial", "--add-limits", "3,3,1.5,10", "-q"]
    subprocess.run([*HOMEGALLERY, "-c", str(reference_file), *command], check=True, timeout=300)

    rng = random.Random(seed)
    for _ in range(2):
        process = subprocess.Popen([*HOMEGALLERY, "-c", str(killed_file), *command])
        time.sleep(rng.uniform(0.5, 6.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
    subprocess.run([*HOMEGALLERY, "-c", str(killed_file), *command], check=True, timeout=300)

    reference = catalog_snapshot(load_config(reference_file))
    resumed = catalog_snapshot(load_config(killed_file))
    for entries in (reference, resumed):
        for entry in entries:
            for file in entry["files"]:  # type: ignore[attr-defined]
                file.pop("source")
                file.pop("mtime_ns", None)
    assert resumed == reference
    storage = tmp_path / "killed" / "data" / "storage"
    leftovers = [path for path in storage.rglob("*") if ".part" in path.name]
    assert leftovers == []


def test_new_file_in_a_watched_source_is_searchable_within_five_seconds(tmp_path: Path) -> None:
    config = load_config(make_gallery(tmp_path, photos=2))
    stop = threading.Event()
    imports: list[float] = []
    watcher = threading.Thread(
        target=watch_and_import,
        args=(config, ImportOptions(quiet=True), stop),
        kwargs={"debounce_ms": 300, "on_import": lambda report: imports.append(time.monotonic())},
        daemon=True,
    )
    watcher.start()
    try:
        deadline = time.monotonic() + 60
        while not imports and time.monotonic() < deadline:
            time.sleep(0.1)
        assert imports, "the first update did not finish"
        time.sleep(0.5)
        dropped_at = time.monotonic()
        write_sample_photo(
            Path(config.sources[0].dir) / "new" / "IMG_20200102_101010.jpg", 400, 300, seed=99
        )
        found = False
        while time.monotonic() - dropped_at < 5 and not found:
            with open_gallery(config) as gallery:
                found = bool(gallery.search("IMG_20200102_101010"))
            time.sleep(0.1)
        assert found, "the new photo was not searchable within 5 s"
    finally:
        stop.set()
        watcher.join(timeout=10)


def test_unmounted_source_keeps_its_entries(tmp_path: Path) -> None:
    config_file = make_gallery(tmp_path, photos=3)
    config = load_config(config_file)
    import_update(config, ImportOptions(quiet=True))
    before = catalog_snapshot(config)
    assert before
    shutil.rmtree(tmp_path / "photos")  # the disk is gone
    result = subprocess.run(
        [*HOMEGALLERY, "-c", str(config_file), "run", "import", "--update"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "index kept" in result.stderr
    assert catalog_snapshot(config) == before


def test_one_import_at_a_time(tmp_path: Path) -> None:
    config = load_config(make_gallery(tmp_path, photos=1))
    with (
        import_lock(config.database.path),
        pytest.raises(GalleryBusyError, match=f"pid {os.getpid()}"),
    ):
        import_update(config, ImportOptions(quiet=True))
    assert import_update(config, ImportOptions(quiet=True)).ok  # released after use
    assert not list(config.database.path.parent.glob("*.import.lock"))  # and not left behind


def test_a_lock_removed_while_another_process_waited_to_take_it_is_taken_anew(
    tmp_path: Path,
) -> None:
    catalog = tmp_path / "catalog.db"
    lock_file = tmp_path / "catalog.db.import.lock"
    with import_lock(catalog):
        stale = os.open(lock_file, os.O_RDWR)  # opened by a second importer just now
    # the first import finished and removed its file; the second locks the old inode
    # but must see it is gone, or a third would lock a new file beside it
    fcntl.flock(stale, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        with import_lock(catalog):
            assert lock_file.exists()
            with pytest.raises(GalleryBusyError), import_lock(catalog):
                pass
    finally:
        os.close(stale)
    assert not lock_file.exists()


def test_an_update_that_finds_nothing_new_writes_nothing(tmp_path: Path) -> None:
    """A cron pass over an unchanged gallery: no commit, so open pages do not reload."""
    config = load_config(make_gallery(tmp_path, photos=2))
    assert import_update(config, ImportOptions(quiet=True)).ok

    def state() -> tuple[int, str]:
        reader = open_reader(config.database.path)
        try:
            built = reader.execute("SELECT value FROM catalog_info WHERE key = 'built'")
            return generation(reader), built.fetchone()[0]
        finally:
            reader.close()

    before = state()
    time.sleep(1.1)  # `built` is kept to the second
    assert import_update(config, ImportOptions(quiet=True)).ok
    assert state() == before


def test_deferred_videos_come_after_the_images(tmp_path: Path) -> None:
    config = load_config(make_gallery(tmp_path, photos=2))
    report = import_initial(config, ImportOptions(defer_videos=True, quiet=True))
    assert all(chunk.extract.steps["video"].done == 0 for chunk in report.chunks)
    assert report.videos is not None and report.videos.steps["video"].done == 1
    with open_gallery(config) as gallery:
        (video,) = gallery.search("type:video")
        assert any(preview.endswith("video-preview-720.mp4") for preview in video.previews)


def _api_total(base: str, query: str) -> int | None:
    url = f"{base}/api/entries?{urllib.parse.urlencode({'q': query})}"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(json.load(response)["total"])
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def test_run_server_serves_and_imports_new_files(tmp_path: Path) -> None:
    config_file = make_gallery(tmp_path, photos=2)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    errors = tmp_path / "output.txt"
    with errors.open("w") as output:
        process = subprocess.Popen(
            [*HOMEGALLERY, "-c", str(config_file), "run", "server", "--port", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while (_api_total(base, "") or 0) < 3 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _api_total(base, "") == 3, "the first import did not reach the server"
        write_sample_photo(tmp_path / "photos" / "IMG_20210304_050607.jpg", 320, 240, seed=5)
        dropped = time.monotonic()
        while not _api_total(base, "IMG_20210304_050607") and time.monotonic() - dropped < 10:
            time.sleep(0.2)
        assert _api_total(base, "IMG_20210304_050607") == 1
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    # one log format, the gallery's, for its own lines, its import reports and the web
    # server's alike
    lines = errors.read_text().splitlines()
    assert lines, "the server said nothing"
    stamped = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d (DEBUG|INFO|WARNING|ERROR) \S+: ")
    unstamped = [line for line in lines if not stamped.match(line)]
    assert unstamped == ["homegallery run: interrupted"]  # the command's own last word


# --- stopping an import: kill -9 and SIGTERM leave no process behind --------------------


def _processes() -> dict[int, tuple[int, int, str]]:
    """pid → (parent pid, process group, state) of every process, from /proc."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry.name)] = (int(fields[1]), int(fields[2]), fields[0])
    return table


def _descendants(pid: int) -> set[int]:
    table = _processes()
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, (parent, _, _) in table.items() if parent in frontier}
        frontier -= found
        found |= frontier
    return found


def _running(pids: set[int], group: int) -> set[int]:
    """Those of ``pids``, or of process group ``group``, that still run (zombies are
    gone: only a process table entry waits for a parent that may never reap it)."""
    return {
        pid
        for pid, (_, process_group, state) in _processes().items()
        if (pid in pids or process_group == group) and state != "Z"
    }


def _command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _busy_gallery(folder: Path) -> Path:
    """Photos big enough to keep two workers busy, and a video whose web version takes
    ffmpeg several seconds."""
    source = folder / "photos"
    for number in range(16):
        write_sample_photo(source / f"IMG_{number:03d}.jpg", 2000, 1500, seed=number)
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=duration=30:size=640x360:rate=25",
         "-pix_fmt", "yuv420p", "-c:v", "libx264", "-preset", "ultrafast",
         str(source / "clip.mp4")],
        check=True,
    )  # fmt: skip
    config_file = folder / "gallery.yml"
    config_file.write_text(
        "sources: [{dir: photos}]\n"
        "database: {file: data/catalog.db}\n"
        "storage: {dir: data/storage}\n"
        "extractor: {workers: 2, geoReverse: {provider: off}}\n"
    )
    return config_file


def _import_in_the_middle_of_a_transcode(
    config_file: Path, log: Path
) -> tuple[subprocess.Popen[bytes], set[int]]:
    """An import in a session of its own, once ffmpeg makes the web video; returns it
    and every process it started (forkserver, resource tracker, workers, ffmpeg)."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*HOMEGALLERY, "-c", str(config_file), "run", "import", "--plain"],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and process.poll() is None:
        started = _descendants(process.pid)
        if any("libx264" in _command_line(pid) for pid in started):
            return process, started
        time.sleep(0.05)
    process.kill()
    process.wait()
    raise AssertionError(f"no transcode started: {log.read_text()[-2000:]}")


def _wait_until_gone(pids: set[int], group: int, seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while (left := _running(pids, group)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_killed_import_leaves_no_process_behind(tmp_path: Path) -> None:
    config_file = _busy_gallery(tmp_path)
    process, started = _import_in_the_middle_of_a_transcode(config_file, tmp_path / "log")
    assert len(started) >= 4, [_command_line(pid) for pid in started]
    process.send_signal(signal.SIGKILL)
    process.wait()
    left = _wait_until_gone(started, process.pid, 5)
    assert not left, [_command_line(pid) for pid in left]


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigterm_stops_an_import_within_seconds_and_the_next_run_completes(
    tmp_path: Path,
) -> None:
    config_file = _busy_gallery(tmp_path)
    log = tmp_path / "log"
    process, started = _import_in_the_middle_of_a_transcode(config_file, log)
    asked = time.monotonic()
    process.send_signal(signal.SIGTERM)
    returncode = process.wait(timeout=30)
    assert time.monotonic() - asked < 5
    assert returncode == 128 + signal.SIGTERM, log.read_text()[-2000:]
    assert "stopped by SIGTERM" in log.read_text()
    left = _wait_until_gone(started, process.pid, 5)
    assert not left, [_command_line(pid) for pid in left]

    rerun = subprocess.run(
        [*HOMEGALLERY, "-c", str(config_file), "run", "import", "-q"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    with open_gallery(load_config(config_file)) as gallery:
        assert len(gallery) == 17
        (video,) = gallery.search("type:video")
        assert any(preview.endswith("video-preview-720.mp4") for preview in video.previews)
    leftovers = [path for path in (tmp_path / "data").rglob("*") if ".part" in path.name]
    assert leftovers == []


def test_the_summary_counts_in_words_and_names_the_failed_file(tmp_path: Path) -> None:
    config = load_config(make_gallery(tmp_path, photos=1))
    broken = tmp_path / "photos" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a whole JPEG")
    report = import_update(config, ImportOptions(quiet=True))
    first, *rest = report.lines()
    assert first.startswith("import: 1 chunk in "), first
    assert "(s)" not in first and "; 1 file failed to extract" in first
    assert rest[0] == "failed files:"
    assert all(line.startswith(f"  {broken}: ") for line in rest[1:]) and len(rest) >= 2
