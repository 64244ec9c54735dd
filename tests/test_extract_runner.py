"""Whole runs over real photos and generated videos: outputs, failures, resuming, crashes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import blake3
import pytest
from PIL import Image

from homegallery.config import VideoExtractor, parse_config
from homegallery.extract.meta import Sidecar
from homegallery.extract.runner import (
    Summary,
    extract_gallery,
    run_extract,
    settings_from_config,
    work_items_from_config,
    work_items_from_index,
)
from homegallery.extract.schema import (
    POSTER_KIND,
    preview_kind,
    read_failure,
    read_meta,
    read_place,
    video_kind,
)
from homegallery.extract.worker import Settings, WorkItem
from homegallery.index import update_index
from homegallery.samples import write_sample_photo
from homegallery.storage import Storage


def media_id(path: Path) -> str:
    return str(blake3.blake3(path.read_bytes()).hexdigest())


def item(path: Path, kind: str = "image", sidecars: tuple[Sidecar, ...] = ()) -> WorkItem:
    return WorkItem(media_id(path), path, kind, sidecars, path.stat().st_mtime_ns)


def make_video(path: Path, size: str, seconds: float, *metadata: str) -> Path:
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y"]
        + ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate=30:duration={seconds}"]
        + ["-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
        + ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
        + [argument for pair in metadata for argument in ("-metadata", pair)]
        + [str(path)],
        check=True,
    )
    return path


def leftovers(storage_dir: Path) -> list[Path]:
    return [path for path in storage_dir.rglob("*") if ".part" in path.name]


def quiet(label: str, total: int) -> _Silent:
    return _Silent()


class _Silent:
    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def test_real_photos_and_a_phone_video(photos_dir: Path, tmp_path: Path) -> None:
    videos = tmp_path / "videos"
    videos.mkdir()
    video = make_video(
        videos / "VID_20190504_123000.mp4",
        "1280x720",
        1,
        "creation_time=2019-05-04T10:30:00Z",
        "location=+43.7696+011.2558/",
    )
    # the real way in: the file index of two sources, read back as work items
    config = parse_config(
        {
            "sources": [{"dir": str(photos_dir)}, {"dir": str(videos)}],
            "storage": {"dir": str(tmp_path / "storage")},
            "database": {"file": str(tmp_path / "catalog.db")},
            "extractor": {"video": {"preset": "ultrafast"}},
        },
        tmp_path / "gallery.yml",
    )
    assert update_index(config).ok
    items = work_items_from_config(config)
    photos = [path for path in photos_dir.rglob("*") if path.is_file() and path.suffix != ".md"]
    assert len(items) == len(photos) + 1
    by_name = {entry.path.name: entry for entry in items}
    assert by_name[video.name].kind == "video"
    assert by_name["IMG_5195.HEIC"].media_id == media_id(photos_dir / "heic" / "IMG_5195.HEIC")
    settings = settings_from_config(config)
    storage = Storage(settings.storage_dir)

    summary = run_extract(items, settings, workers=2, progress_factory=quiet)

    # broken files are recorded with their reason, and nothing else stops
    assert dict(summary.failures) == {("preview", "decode"): 1}, summary.failed_files
    failure = read_failure(storage, by_name["corrupted.jpg"].media_id, "preview")
    assert failure is not None and "corrupted.jpg" in failure.message
    for entry in items:
        if entry.path.name != "corrupted.jpg":
            assert storage.exists(entry.media_id, preview_kind(128)), entry.path
            assert read_meta(storage, entry.media_id) is not None, entry.path

    # every orientation comes out upright
    for name, entry in by_name.items():
        if name.startswith(("landscape_", "portrait_")):
            with Image.open(storage.path(entry.media_id, preview_kind(320))) as image:
                width, height = image.size
            assert (width > height) == name.startswith("landscape_"), name
            meta = read_meta(storage, entry.media_id)
            assert meta is not None and (meta.width > meta.height) == (width > height)  # type: ignore[operator]

    # the GPS photos are placed in Italy; cameras have make and model
    for path in (photos_dir / "gps").glob("*.jpg"):
        place = read_place(storage, by_name[path.name].media_id)
        assert place is not None and (place.country, place.state) == ("Italy", "Tuscany")
    cameras = [
        read_meta(storage, by_name[path.name].media_id)
        for path in (photos_dir / "cameras").glob("*.jpg")
    ]
    assert sum(1 for meta in cameras if meta and meta.make and meta.model) >= 29

    # HEIC gets every preview size
    heic = by_name["IMG_5195.HEIC"].media_id
    assert all(storage.exists(heic, preview_kind(size)) for size in settings.preview_sizes)

    # the video: a playable 720p web video, a poster, previews, its date and place
    video_id = by_name[video.name].media_id
    web = storage.path(video_id, video_kind(720))
    probe = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", str(web)],
            check=True,
            capture_output=True,
        ).stdout
    )
    picture = next(s for s in probe["streams"] if s["codec_type"] == "video")
    assert (picture["codec_name"], picture["width"], picture["height"]) == ("h264", 1280, 720)
    with Image.open(storage.path(video_id, POSTER_KIND)) as poster:
        assert poster.size == (1280, 720)
    # the poster is the largest preview, stored once under both names
    poster_file = storage.path(video_id, POSTER_KIND).stat()
    largest_file = storage.path(video_id, preview_kind(1280)).stat()
    assert (poster_file.st_ino, poster_file.st_nlink) == (largest_file.st_ino, 2)
    assert storage.exists(video_id, preview_kind(1280)) and not storage.exists(
        video_id, preview_kind(1920)
    )
    video_meta = read_meta(storage, video_id)
    assert video_meta is not None and video_meta.date == "2019-05-04T10:30:00+00:00"
    video_place = read_place(storage, video_id)
    assert video_place is not None and video_place.city == "Florence"
    assert not leftovers(settings.storage_dir)

    # a second run does no work; --retry-failed tries the broken file once more
    again = run_extract(items, settings, workers=2, progress_factory=quiet)
    assert (again.planned, again.work_done) == (0, 0)
    assert again.steps["preview"].failed_before == 1
    retried = run_extract(items, settings, workers=2, retry_failed=True, progress_factory=quiet)
    assert retried.planned == 1 and dict(retried.failures) == {("preview", "decode"): 1}
    failure = read_failure(storage, by_name["corrupted.jpg"].media_id, "preview")
    assert failure is not None and failure.attempts == 2


def test_steps_can_run_alone_and_sidecar_edits_are_picked_up(tmp_path: Path) -> None:
    photo = write_sample_photo(tmp_path / "IMG_1.jpg", 900, 600, seed=1)
    sidecar = tmp_path / "IMG_1.xmp"
    sidecar.write_text(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        '22-rdf-syntax-ns#"><rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmp:Rating="3"/></rdf:RDF></x:xmpmeta>'
    )
    settings = Settings(storage_dir=tmp_path / "storage")
    storage = Storage(settings.storage_dir)
    first = WorkItem(
        media_id(photo.path), photo.path, "image", (Sidecar(sidecar, media_id(sidecar)),)
    )

    only_meta = run_extract([first], settings, steps=("meta",), workers=1, progress_factory=quiet)
    assert only_meta.steps["meta"].done == 1 and only_meta.steps["preview"].done == 0
    assert storage.kinds(first.media_id) == ["meta.json"]
    meta = read_meta(storage, first.media_id)
    assert meta is not None and meta.rating == 3

    sidecar.write_text(sidecar.read_text().replace('"3"', '"5"'))
    edited = WorkItem(first.media_id, photo.path, "image", (Sidecar(sidecar, media_id(sidecar)),))
    summary = run_extract([edited], settings, workers=1, progress_factory=quiet)
    assert summary.steps["meta"].done == 1 and summary.steps["preview"].done == 1
    meta = read_meta(storage, first.media_id)
    assert meta is not None and meta.rating == 5
    assert sorted(storage.kinds(first.media_id)) == sorted(
        ["meta.json", preview_kind(800), preview_kind(320), preview_kind(128)]
    )


def test_work_items_from_index_entries(tmp_path: Path) -> None:
    class Entry:
        def __init__(self, path: str, kind: str, id: str) -> None:
            self.path, self.kind, self.id, self.mtime_ns = path, kind, id, 1

    entries = [
        Entry("2020/IMG_1.jpg", "image", "a" * 64),
        Entry("2020/IMG_1.CR2", "raw", "b" * 64),
        Entry("2020/IMG_1.xmp", "sidecar", "c" * 64),
        Entry("2020/IMG_2.jpg", "image", "d" * 64),
        Entry("2020/IMG_2.jpg.xmp", "sidecar", "e" * 64),
        Entry("copy/IMG_2.jpg", "image", "d" * 64),
        Entry("2020/notes.txt", "other", "f" * 64),
    ]
    items = {entry.media_id: entry for entry in work_items_from_index(entries, tmp_path)}
    assert sorted(items) == ["a" * 64, "b" * 64, "d" * 64]
    assert [s.media_id for s in items["a" * 64].sidecars] == ["c" * 64]
    assert [s.media_id for s in items["b" * 64].sidecars] == ["c" * 64]
    assert items["b" * 64].kind == "raw"
    assert items["d" * 64].path == tmp_path / "2020/IMG_2.jpg"
    assert [s.path for s in items["d" * 64].sidecars] == [tmp_path / "2020/IMG_2.jpg.xmp"]


@dataclass
class Killer:
    marker: str = ""
    times: int = 0
    killed: int = 0


@pytest.fixture
def worker_killer() -> Iterator[Killer]:
    """Kills (SIGKILL) the worker process whose ffmpeg works on a file with a marker name."""
    control = Killer()
    stop = threading.Event()
    killed: set[int] = set()

    def hunt() -> None:
        while not stop.is_set():
            if control.marker and control.killed < control.times:
                marker = control.marker.encode()
                for pid in (p.name for p in Path("/proc").iterdir() if p.name.isdigit()):
                    try:
                        command = Path(f"/proc/{pid}/cmdline").read_bytes()
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue
                    if b"ffmpeg" not in command or b"-filter_complex" not in command:
                        continue
                    if marker not in command:
                        continue
                    parent = int(status.split("PPid:")[1].split()[0])
                    try:  # only a live worker: an ffmpeg orphaned by a kill has another parent
                        parent_command = Path(f"/proc/{parent}/cmdline").read_bytes()
                    except OSError:
                        continue
                    if parent <= 1 or b"python" not in parent_command or parent in killed:
                        continue
                    killed.add(parent)
                    os.kill(parent, signal.SIGKILL)
                    control.killed += 1
                    break
            time.sleep(0.005)

    thread = threading.Thread(target=hunt, daemon=True)
    thread.start()
    yield control
    stop.set()
    thread.join()


def test_a_killed_worker_is_retried_and_a_file_that_always_kills_is_recorded(
    tmp_path: Path, worker_killer: Killer
) -> None:
    photos = [write_sample_photo(tmp_path / f"p{n}.jpg", 640, 480, seed=n).path for n in range(6)]
    victim = make_video(tmp_path / "victim.mp4", "640x360", 3)
    settings = Settings(storage_dir=tmp_path / "storage", video=VideoExtractor(preset="medium"))
    storage = Storage(settings.storage_dir)
    items = [item(path) for path in photos] + [item(victim, "video")]

    worker_killer.marker, worker_killer.times = "victim.mp4", 1
    summary: Summary = run_extract(items, settings, workers=2, progress_factory=quiet)
    assert worker_killer.killed == 1
    assert summary.steps["video"].done == 1 and not summary.failures
    assert storage.exists(items[-1].media_id, video_kind(720))
    assert all(storage.exists(entry.media_id, preview_kind(320)) for entry in items)

    doomed = make_video(tmp_path / "doomed.mp4", "640x352", 3)  # other content, other id
    worker_killer.marker, worker_killer.times, worker_killer.killed = "doomed.mp4", 2, 0
    summary = run_extract([item(doomed, "video")], settings, workers=2, progress_factory=quiet)
    assert worker_killer.killed == 2
    assert dict(summary.failures) == {("video", "crash"): 1}
    failure = read_failure(storage, media_id(doomed), "video")
    assert failure is not None and "worker process died during the video step" in failure.message
    time.sleep(1)  # the orphaned ffmpeg processes finish their (unlinked) files
    assert storage.exists(media_id(doomed), preview_kind(320))


def test_a_file_gone_since_indexing_is_recorded_as_missing(tmp_path: Path) -> None:
    photo = write_sample_photo(tmp_path / "gone.jpg", 300, 200, seed=9).path
    entry = item(photo)
    photo.unlink()
    settings = Settings(storage_dir=tmp_path / "storage")
    summary = run_extract([entry], settings, workers=1, progress_factory=quiet)
    assert dict(summary.failures) == {("meta", "missing"): 1, ("preview", "missing"): 1}
    failure = read_failure(Storage(settings.storage_dir), entry.media_id, "meta")
    assert failure is not None and "gone.jpg: file not found" in failure.message


_RUN_SCRIPT = """
import sys
from pathlib import Path
from homegallery.extract.runner import run_extract
from homegallery.extract.worker import Settings, WorkItem
from homegallery.index import update_index
items = [WorkItem(line.split()[0], Path(line.split()[1]), "image") for line in sys.stdin]
run_extract(items, Settings(storage_dir=Path(sys.argv[1])), workers=2)
"""


def test_killing_the_whole_run_leaves_only_whole_files_and_a_rerun_finishes(
    tmp_path: Path,
) -> None:
    photos = [
        write_sample_photo(tmp_path / f"k{n}.jpg", 2400, 1800, seed=100 + n).path for n in range(10)
    ]
    items = [item(path) for path in photos]
    storage_dir = tmp_path / "storage"
    run = subprocess.Popen(
        [sys.executable, "-c", _RUN_SCRIPT, str(storage_dir)],
        stdin=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert run.stdin is not None
    run.stdin.write("".join(f"{entry.media_id} {entry.path}\n" for entry in items).encode())
    run.stdin.close()
    deadline = time.monotonic() + 30
    while not list(storage_dir.rglob("*-image-preview-1920.jpg")) and time.monotonic() < deadline:
        time.sleep(0.01)
    os.killpg(run.pid, signal.SIGKILL)  # the run and its workers, mid-way
    run.wait()

    storage = Storage(storage_dir)
    finished = [entry for entry in items if storage.exists(entry.media_id, preview_kind(128))]
    assert len(finished) < len(items), "the kill came too late to test anything"
    for path in storage_dir.rglob("*"):
        if path.is_file() and ".part" not in path.name:
            if path.suffix == ".jpg":
                with Image.open(path) as image:
                    image.load()  # a half-written JPEG would fail here
            elif path.suffix == ".json":
                json.loads(path.read_bytes())

    summary = run_extract(
        items, Settings(storage_dir=storage_dir), workers=2, progress_factory=quiet
    )
    assert not summary.failures
    assert summary.steps["meta"].done + summary.steps["meta"].skipped == len(items)
    assert all(storage.exists(entry.media_id, preview_kind(128)) for entry in items)
    assert not leftovers(storage_dir)


def test_only_what_the_index_journal_touched(tmp_path: Path) -> None:
    source = tmp_path / "photos"
    first = write_sample_photo(source / "IMG_1.jpg", 640, 480, seed=21).path
    write_sample_photo(source / "IMG_2.jpg", 640, 480, seed=22)
    sidecar = source / "IMG_1.xmp"
    rating = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/'
        '22-rdf-syntax-ns#"><rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
        'xmp:Rating="{}"/></rdf:RDF></x:xmpmeta>'
    )
    sidecar.write_text(rating.format(2))
    config = parse_config(
        {
            "sources": [{"dir": str(source)}],
            "storage": {"dir": str(tmp_path / "storage")},
            "database": {"file": str(tmp_path / "catalog.db")},
        },
        tmp_path / "gallery.yml",
    )
    assert update_index(config).ok
    everything = extract_gallery(config, workers=1, progress_factory=quiet)
    assert everything.steps["meta"].done == 2

    sidecar.write_text(rating.format(4))  # an edit in a photo manager
    result = update_index(config)
    touched = set().union(*(journal.touched_ids for journal in result.journals))
    assert media_id(first) not in touched  # only the sidecar's id changed
    summary = extract_gallery(config, workers=1, progress_factory=quiet, media_ids=touched)
    assert summary.items == 1 and summary.steps["meta"].done == 1
    meta = read_meta(Storage(config.storage.path), media_id(first))
    assert meta is not None and meta.rating == 4
