"""Extraction on a real Dask cluster: a scheduler and two worker processes on 127.0.0.1.

Each run's storage is compared file for file with a local run's over the same photos:
the same stored files, the same bytes (failure records apart from their time), and
for the import the same catalog entries. The workers and the coordinator are killed
mid-run in two of the tests; the run still completes with the same files.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

# Dask is the `cluster` extra (and in `dev`): without it these tests cannot run at all.
pytest.importorskip("distributed", reason="Dask is not installed: pip install -e '.[dev]'")

import dask
from distributed import Client, LocalCluster

from homegallery.bench.video import make_clip
from homegallery.config import Config, load_config
from homegallery.extract.cluster import longest_first
from homegallery.extract.runner import extract_gallery
from homegallery.extract.worker import WorkItem, missing_message
from homegallery.importer import ImportOptions, import_initial
from homegallery.index import AddLimits, update_index
from homegallery.samples import shared_photos
from homegallery.storage import RECORD_KIND, read_record

REPO = Path(__file__).resolve().parent.parent
MODELS = os.environ.get("HOMEGALLERY_TEST_MODELS", "")
# A subset of the shared photos: GPS JPEGs, HEIC, TIFF, XMP and broken files.
SUBSET = [
    "gps/DSCN0010.jpg",
    "gps/DSCN0012.jpg",
    "gps/DSCN0021.jpg",
    "heic/samplefilehub.heif",
    "tiff/Jobagent.tiff",
    "xmp/BlueSquare.jpg",
    "xmp/no_exif.jpg",
    "invalid/corrupted.jpg",
    "orientation/portrait_6.jpg",
    "cameras/Canon_40D.jpg",
]


_CLIP = Path(tempfile.mkdtemp(prefix="hg-cluster-clip-")) / "clip.mp4"


def _photos(folder: Path) -> Path:
    """The subset, and a one-second video (a web video and a poster to make)."""
    shared = shared_photos()
    if shared is None:
        pytest.skip(
            "the shared test photos (../shared/testdata/photos) are not beside this checkout"
        )
    for name in SUBSET:
        target = folder / "photos" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(shared / name, target)
    if not _CLIP.is_file():
        make_clip(_CLIP, "320x240", 1.0)
    (folder / "photos" / "video").mkdir()
    shutil.copy2(_CLIP, folder / "photos" / "video" / "clip.mp4")
    return folder / "photos"


def _config(folder: Path, cluster: str = "") -> Config:
    models = (
        f"models: {{dir: {MODELS}, faceDetection: off, faceRecognition: off}}"
        if MODELS and Path(MODELS).is_dir()
        else "models: {embeddings: off, faceDetection: off, faceRecognition: off}"
    )
    config_file = folder / "gallery.yml"
    config_file.write_text(
        f"sources: [{{dir: {folder / 'photos'}}}]\n"
        f"database: {{file: {folder / 'data/catalog.db'}}}\n"
        f"storage: {{dir: {folder / 'data/storage'}}}\n"
        "extractor: {workers: 2, image: {previewSizes: [800, 320, 128]},"
        f" geoReverse: {{provider: offline}}, {models}}}\n{cluster}"
    )
    return load_config(config_file)


def _stored(config: Config) -> dict[str, bytes]:
    """Every finished stored file by its path below the storage, a record as its parts
    (``<path>/<kind>``); failure records without their time (the moment of the failure)
    and with the photos' folder as ``photos`` (each run imports its own copy)."""
    root = Path(config.storage.dir)
    photos = str(config.sources[0].path).encode()
    files: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith("."):
            continue
        name = path.relative_to(root).as_posix()
        parts = (
            {f"{name}/{kind}": data for kind, data in read_record(path).items()}
            if path.name.endswith(f"-{RECORD_KIND}")
            else {name: path.read_bytes()}
        )
        for key, data in sorted(parts.items()):
            if "failed-" in key.rpartition("/")[2]:
                record = msgspec.json.decode(data.replace(photos, b"photos"))
                record.pop("time")
                data = msgspec.json.encode(record)
            files[key] = data
    return files


def _entries(config: Config) -> list[tuple[object, ...]]:
    """The catalog's entries with their stored docs, without the build's signature
    (it covers the stored files' times) and with each file's source as ``photos``."""
    with sqlite3.connect(config.database.path) as connection:
        rows = connection.execute(
            "SELECT entries.*, doc FROM entries JOIN entry_docs ON entry = entries.rowid"
            " ORDER BY id"
        ).fetchall()
        names = [column[0] for column in connection.execute("SELECT * FROM entries").description]
    signature = names.index("signature")
    entries = []
    for row in rows:
        doc = msgspec.msgpack.decode(row[-1])
        for file in doc["files"]:
            file["source"] = "photos"
        entries.append(row[:signature] + row[signature + 1 : -1] + (doc,))
    return entries


@pytest.fixture(scope="module")
def local(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, bytes], list[tuple[object, ...]]]:
    """The reference: the subset imported with the local process pool."""
    folder = tmp_path_factory.mktemp("local")
    _photos(folder)
    config = _config(folder)
    assert import_initial(config, ImportOptions(quiet=True)).ok
    return _stored(config), _entries(config)


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        resources={"MEMORY": 2 * 1024**3},
    ) as running:
        yield running


def test_an_import_through_two_workers_equals_a_local_one(
    tmp_path: Path,
    local: tuple[dict[str, bytes], list[tuple[object, ...]]],
    cluster: LocalCluster,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, "homegallery.extract")
    _photos(tmp_path)
    config = _config(tmp_path)
    report = import_initial(config, ImportOptions(quiet=True, cluster=cluster.scheduler_address))
    assert report.ok
    stored = _stored(config)
    assert stored.keys() == local[0].keys()
    assert stored == local[0]
    assert _entries(config) == local[1]
    notes = report.chunks[0].extract.notes
    assert notes[0].startswith("cluster: ")  # tasks by worker, and the bytes shipped
    assert " MB sent" in notes[1]
    assert f"cluster dashboard: {cluster.dashboard_link}" in caplog.messages
    (poster,) = Path(config.storage.dir).rglob("*-video-frame-1.jpg")
    assert poster.stat().st_nlink == 2  # the largest preview, stored once as locally


def test_workers_on_a_shared_file_system_write_the_storage_at_their_own_paths(
    tmp_path: Path, local: tuple[dict[str, bytes], list[tuple[object, ...]]], cluster: LocalCluster
) -> None:
    """The workers see the photos and the storage under other folders (links here, a
    network mount elsewhere); ``cluster.pathMap`` says where, and no bytes travel."""
    _photos(tmp_path)
    view = tmp_path / "worker-view"
    view.mkdir()
    (tmp_path / "data" / "storage").mkdir(parents=True)
    (view / "photos").symlink_to(tmp_path / "photos")
    (view / "storage").symlink_to(tmp_path / "data" / "storage")
    config = _config(
        tmp_path,
        "cluster: {mode: shared, pathMap: {"
        f"{tmp_path / 'photos'}: {view / 'photos'}, "
        f"{tmp_path / 'data' / 'storage'}: {view / 'storage'}}}}}\n",
    )
    update_index(config)
    summary = extract_gallery(config, cluster=cluster.scheduler_address)
    assert not any("MB sent" in note for note in summary.notes)
    assert _stored(config) == local[0]


class _KillsAWorker:
    """A progress that kills one worker process when the first file is done."""

    def __init__(self, cluster: LocalCluster) -> None:
        self.cluster = cluster
        self.killed = 0

    def advance(self, count: int = 1) -> None:
        if not self.killed:
            with Client(self.cluster.scheduler_address, set_as_default=False) as client:
                pids = client.run(os.getpid)
            self.killed = next(iter(pids.values()))
            os.kill(self.killed, signal.SIGKILL)

    def close(self) -> None:
        pass


def test_a_worker_killed_mid_run_costs_only_its_tasks(
    tmp_path: Path, local: tuple[dict[str, bytes], list[tuple[object, ...]]], cluster: LocalCluster
) -> None:
    _photos(tmp_path)
    config = _config(tmp_path)
    update_index(config)
    killer = _KillsAWorker(cluster)
    summary = extract_gallery(
        config,
        cluster=cluster.scheduler_address,
        progress_factory=lambda label, total: killer if label == "extract" else _Silent(),
    )
    assert killer.killed
    assert not any(reason == "crash" for _, reason in summary.failures)
    assert _stored(config) == local[0]
    cluster.wait_for_workers(2, timeout=60)  # the nanny starts it again


class _Silent:
    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_coordinator_killed_mid_run_and_started_again_completes_with_whole_files(
    tmp_path: Path, local: tuple[dict[str, bytes], list[tuple[object, ...]]], cluster: LocalCluster
) -> None:
    _photos(tmp_path)
    config = _config(tmp_path)
    update_index(config)
    command = [
        sys.executable, "-m", "homegallery.cli.main", "extract", "-q",
        "--config", str(tmp_path / "gallery.yml"), "--cluster", cluster.scheduler_address,
    ]  # fmt: skip
    coordinator = subprocess.Popen(command, cwd=REPO)
    storage = Path(config.storage.dir)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and coordinator.poll() is None:
        if len(list(storage.rglob("*-image-preview-128.jpg"))) >= 2:
            break
        time.sleep(0.05)
    assert coordinator.poll() is None, "the run ended before it could be killed"
    coordinator.send_signal(signal.SIGKILL)
    coordinator.wait()
    partial = _stored(config)
    assert partial.keys() < local[0].keys()
    assert all(local[0][name] == data for name, data in partial.items())  # no half file
    extract_gallery(config, cluster=cluster.scheduler_address)
    assert _stored(config) == local[0]
    assert not [path for path in storage.rglob(".*") if ".part" in path.name]


def test_homegallery_worker_joins_with_its_memory_as_a_resource_and_extracts(
    tmp_path: Path, local: tuple[dict[str, bytes], list[tuple[object, ...]]]
) -> None:
    """A scheduler alone, then `homegallery worker ADDRESS` as a user starts it on a
    laptop: one process here, its memory limit announced, tasks asking for memory."""
    _photos(tmp_path)
    config = _config(tmp_path)
    update_index(config)
    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address="127.0.0.1:0") as scheduler:
        command = [
            sys.executable, "-m", "homegallery.cli.main", "worker", scheduler.scheduler_address,
            "--nworkers", "1", "--memory-limit", "1.5G", "--name", "laptop",
        ]  # fmt: skip
        worker = subprocess.Popen(command, cwd=REPO)
        try:
            with Client(scheduler.scheduler_address, set_as_default=False) as client:
                client.wait_for_workers(1, timeout=60)
                (info,) = client.scheduler_info()["workers"].values()
            assert info["name"] == "laptop"
            assert info["nthreads"] == 1
            assert info["resources"] == {"MEMORY": 1.5 * 1024**3}
            # it listens on the address facing the scheduler, not on every interface
            listening = subprocess.run(
                ["ss", "-ltnpH"], capture_output=True, text=True, check=True
            ).stdout
            children = subprocess.run(
                ["pgrep", "-P", str(worker.pid)], capture_output=True, text=True
            ).stdout.split()
            ours = [
                line
                for line in listening.splitlines()
                if any(f"pid={pid}," in line for pid in [str(worker.pid), *children])
            ]
            assert ours and all(" 127.0.0.1:" in line for line in ours), ours
            summary = extract_gallery(config, cluster=scheduler.scheduler_address)
        finally:
            worker.send_signal(signal.SIGINT)
            worker.wait(timeout=30)
    assert summary.notes[0].startswith("cluster: ") and "laptop " in summary.notes[0]
    assert _stored(config) == local[0]


def test_workers_that_do_not_see_the_shared_files_get_their_bytes(
    tmp_path: Path, local: tuple[dict[str, bytes], list[tuple[object, ...]]], cluster: LocalCluster
) -> None:
    """`shared` with a path the workers lack (a laptop without the mount): each task
    comes back unanswered and goes out again with the original's bytes."""
    _photos(tmp_path)
    config = _config(
        tmp_path,
        f"cluster: {{mode: shared, pathMap: {{{tmp_path}: /nonexistent/mount}}}}\n",
    )
    update_index(config)
    summary = extract_gallery(config, cluster=cluster.scheduler_address)
    assert any(" MB sent" in note for note in summary.notes)
    assert _stored(config) == local[0]


def test_long_tasks_go_first_and_ask_for_the_memory_of_their_pixels(tmp_path: Path) -> None:
    small, large, clip = (tmp_path / name for name in ("small.jpg", "large.jpg", "clip.mp4"))
    small.write_bytes(b"x" * 1_000)
    large.write_bytes(b"x" * 50_000)
    clip.write_bytes(b"x" * 10_000)
    items = [
        WorkItem("aa" * 16, small, "image"),
        WorkItem("bb" * 16, large, "image"),
        WorkItem("cc" * 16, clip, "video"),
    ]
    known = {items[0].media_id: 24_000_000}  # from its stored metadata

    def pixels(item: WorkItem) -> int | None:
        return known.get(item.media_id)

    ordered = longest_first([(item, ("preview",)) for item in items], pixels)
    assert [task.item.path.name for task in ordered] == ["clip.mp4", "large.jpg", "small.jpg"]
    memory = {task.item.path.name: task.memory for task in ordered}
    assert memory["small.jpg"] > memory["large.jpg"]  # 24 MP decoded, whatever its size
    assert memory["clip.mp4"] >= 512 * 1024**2


def test_a_file_whose_worker_dies_as_often_as_dask_allows_is_recorded_as_a_crash(
    tmp_path: Path, local: tuple[dict[str, bytes], list[tuple[object, ...]]]
) -> None:
    """Dask gives a task whose worker died to another worker until its
    ``allowed-failures``; past that the file's steps are recorded as crashes (as a local
    run records the file that kills its process) and the run goes on."""
    _photos(tmp_path)
    config = _config(tmp_path)
    update_index(config)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as one,
    ):
        killer = _KillsAWorker(one)
        summary = extract_gallery(
            config,
            cluster=one.scheduler_address,
            progress_factory=lambda label, total: killer if label == "extract" else _Silent(),
        )
    crashed = [failed for failed in summary.failed_files if failed.reason == "crash"]
    assert crashed and all("the worker died" in failed.message for failed in crashed)
    stored = _stored(config)
    records = [name for name, data in stored.items() if b'"reason":"crash"' in data]
    assert len(records) == len(crashed)
    # every other file is as a local run made it
    crashed_ids = {name.split("-")[0] for name in records}
    assert {
        name: data for name, data in stored.items() if name.split("-")[0] not in crashed_ids
    } == {name: data for name, data in local[0].items() if name.split("-")[0] not in crashed_ids}


def test_no_scheduler_at_the_address_is_one_clear_line(tmp_path: Path) -> None:
    _photos(tmp_path)
    config = _config(tmp_path)
    update_index(config)
    command = [
        sys.executable, "-m", "homegallery.cli.main", "extract",
        "--config", str(tmp_path / "gallery.yml"), "--cluster", "tcp://127.0.0.1:9",
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("homegallery extract: error: no Dask scheduler at tcp://127.0.0.1:9: ")
    )
    assert "Traceback" not in result.stderr


def test_a_file_gone_since_the_index_fails_as_in_a_local_run(
    tmp_path: Path, cluster: LocalCluster
) -> None:
    photos = _photos(tmp_path)
    config = _config(tmp_path)
    update_index(config)
    gone = photos / "gps" / "DSCN0010.jpg"
    gone.unlink()
    summary = extract_gallery(config, steps=("meta", "preview"), cluster=cluster.scheduler_address)
    failed = {(f.path, f.step, f.reason, f.message) for f in summary.failed_files}
    assert (str(gone), "meta", "missing", missing_message(gone)) in failed
    assert (str(gone), "preview", "missing", missing_message(gone)) in failed


def test_the_models_go_to_the_workers_once_for_all_chunks(
    tmp_path: Path, cluster: LocalCluster
) -> None:
    """Each chunk of an import connects again; the models' plugin is named by their
    files, so the scheduler keeps the one it has instead of sending them again."""
    from homegallery.extract.cluster_plugin import model_files

    model = tmp_path / "model.onnx"
    model.write_bytes(b"weights" * 1000)
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        first = client.register_plugin(model_files([model]))
        again = client.register_plugin(model_files([model]))
        model.write_bytes(b"other weights" * 1000)
        changed = client.register_plugin(model_files([model]))
        copies = client.run(
            lambda: (
                __import__("homegallery.extract.cluster_tasks").extract.cluster_tasks.MODEL_FILES
            )
        )
    assert first and not again and changed  # the workers' answers; none for the same files
    for files in copies.values():
        assert Path(files[str(model)]).read_bytes() == b"other weights" * 1000


def test_an_import_can_serve_the_scheduler_itself_with_this_machines_workers(
    tmp_path: Path,
    local: tuple[dict[str, bytes], list[tuple[object, ...]]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """`--serve-cluster HOST:PORT`: no `dask scheduler` to keep running on the Pi; its
    own cores work as workers, the log says how other machines join, and the one
    scheduler serves every chunk (a laptop's workers stay joined between chunks)."""
    caplog.set_level(logging.INFO, "homegallery.extract")
    _photos(tmp_path)
    config = _config(tmp_path)
    options = ImportOptions(
        quiet=True, cluster="serve:127.0.0.1:0", add_limits=AddLimits(6, 100, 1.0, 100)
    )
    report = import_initial(config, options)
    assert report.ok and len(report.chunks) == 2
    assert _stored(config) == local[0]
    assert _entries(config) == local[1]
    joins = [message for message in caplog.messages if "join with `homegallery worker" in message]
    assert len(joins) == 1 and joins[0].startswith("scheduler at tcp://127.0.0.1:")
    assert all(chunk.extract.notes[0].startswith("cluster: ") for chunk in report.chunks)
