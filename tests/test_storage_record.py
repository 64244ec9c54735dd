"""The id's record: small kinds in one file, read beside an older storage's files,
written whole and atomically, folded in by ``storage compact``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from homegallery import _core
from homegallery.cli.main import main
from homegallery.extract.listing import StorageListing
from homegallery.extract.schema import (
    Failure,
    MediaMeta,
    Place,
    read_embedding,
    read_failure,
    read_meta,
    read_place,
    write_embedding,
    write_failure,
    write_meta,
    write_place,
)
from homegallery.maintenance.compact import compact_storage
from homegallery.storage import RECORD_KIND, Storage, StoredFileError, read_record

ID = "0123456789abcdef" * 4


def names(root: Path) -> list[str]:
    return sorted(path.name for path in root.rglob("*") if path.is_file())


def old_storage(root: Path) -> Storage:
    """A storage as versions before records wrote it: each small kind a file."""
    storage = Storage(root)
    storage.folder(ID).mkdir(parents=True)
    storage.path(ID, "meta.json").write_bytes(b'{"schema":1,"type":"image","width":640}\n')
    storage.path(ID, "place.json").write_bytes(b'{"schema":1,"source":"offline","city":"Siena"}\n')
    storage.path(ID, "image-preview-320.jpg").write_bytes(b"jpeg")
    return storage


def test_small_kinds_share_one_file_and_media_keep_their_own(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    write_meta(storage, ID, MediaMeta(type="image", width=4000))
    write_place(storage, ID, Place(source="offline", city="Tarifa"))
    write_embedding(storage, ID, "m-1", [0.6, 0.8])
    storage.write(ID, "objects-coco-1.json", b'{"objects":[]}')  # a later step's kind
    storage.write(ID, "image-preview-320.jpg", b"jpeg")
    assert names(tmp_path) == [f"{ID[4:]}-image-preview-320.jpg", f"{ID[4:]}-{RECORD_KIND}"]
    assert storage.kinds(ID) == [
        "embedding-m-1.npy",
        "image-preview-320.jpg",
        "meta.json",
        "objects-coco-1.json",
        "place.json",
    ]
    assert StorageListing(tmp_path).kinds(ID) == set(storage.kinds(ID))
    assert read_meta(storage, ID) == MediaMeta(type="image", width=4000)
    assert read_place(storage, ID) == Place(source="offline", city="Tarifa")
    assert list(read_embedding(storage, ID, "m-1")) == pytest.approx([0.6, 0.8])  # type: ignore[arg-type]
    assert storage.get(ID, "objects-coco-1.json") == b'{"objects":[]}'
    storage.delete(ID, "place.json")
    assert read_place(storage, ID) is None and storage.exists(ID, "meta.json")
    for kind in ("meta.json", "embedding-m-1.npy", "objects-coco-1.json"):
        storage.delete(ID, kind)
    assert names(tmp_path) == [f"{ID[4:]}-image-preview-320.jpg"]  # an empty record goes


def test_an_older_storage_is_read_as_it_is_and_folded_on_the_next_write(tmp_path: Path) -> None:
    storage = old_storage(tmp_path)
    assert read_meta(storage, ID) == MediaMeta(type="image", width=640)
    assert storage.kinds(ID) == ["image-preview-320.jpg", "meta.json", "place.json"]
    assert StorageListing(tmp_path).meta(ID) == MediaMeta(type="image", width=640)
    write_failure(storage, ID, Failure(step="preview", reason="decode", message="cut",
                                       path="/p.jpg", time="2026-12-02T00:00:00+00:00"))  # fmt: skip
    assert names(tmp_path) == [f"{ID[4:]}-image-preview-320.jpg", f"{ID[4:]}-{RECORD_KIND}"]
    assert set(read_record(storage.path(ID, RECORD_KIND))) == {
        "failed-preview.json",
        "meta.json",
        "place.json",
    }
    assert read_place(storage, ID) == Place(source="offline", city="Siena")
    failure = read_failure(storage, ID, "preview")
    assert failure is not None and failure.message == "cut"


def test_compact_folds_a_whole_storage_and_the_build_reads_both(tmp_path: Path) -> None:
    storage = old_storage(tmp_path)
    other = "abcd" + ID[4:]
    write_meta(storage, other, MediaMeta(type="video"))  # already a record
    before = {media_id: storage.kinds(media_id) for media_id in (ID, other)}
    report = compact_storage(tmp_path)
    assert (report.ids, report.files) == (1, 2)
    assert {media_id: storage.kinds(media_id) for media_id in (ID, other)} == before
    assert f"{ID[4:]}-meta.json" not in names(tmp_path)
    assert compact_storage(tmp_path).lines() == [
        "nothing to fold: every id's small kinds are in its record"
    ]


def test_a_broken_record_is_an_error_naming_it_and_the_next_write_replaces_it(
    tmp_path: Path,
) -> None:
    storage = Storage(tmp_path)
    write_meta(storage, ID, MediaMeta(type="image"))
    record = storage.path(ID, RECORD_KIND)
    record.write_bytes(record.read_bytes()[:-3])
    with pytest.raises(StoredFileError, match=r"record\.bin: cannot read the record"):
        read_meta(storage, ID)
    assert not storage.exists(ID, "meta.json")  # asks again rather than failing
    write_meta(storage, ID, MediaMeta(type="video"))
    assert read_meta(storage, ID) == MediaMeta(type="video")


_WRITER = """
import sys
from pathlib import Path
from homegallery.storage import Storage
storage, media_id, kind = Storage(Path(sys.argv[1])), sys.argv[2], sys.argv[3]
print("ready", flush=True)
for number in range(int(sys.argv[4])):
    storage.write(media_id, kind, str(number).encode() * 500)
"""


def _writer(root: Path, kind: str, rounds: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(root), ID, kind, str(rounds)],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ,
    )
    assert process.stdout is not None and process.stdout.readline() == "ready\n"
    return process


def test_two_processes_changing_one_record_lose_neither_kind(tmp_path: Path) -> None:
    writers = [_writer(tmp_path, kind, 150) for kind in ("labels-m-1.json", "faces-f-1.json")]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
        writer.stdout.close()  # type: ignore[union-attr]
    storage = Storage(tmp_path)
    assert storage.get(ID, "labels-m-1.json") == b"149" * 500
    assert storage.get(ID, "faces-f-1.json") == b"149" * 500


def test_a_writer_killed_mid_write_loses_nothing(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    write_meta(storage, ID, MediaMeta(type="image", width=1))
    for attempt in range(5):
        writer = _writer(tmp_path, "labels-m-1.json", 100_000)
        started = time.monotonic()
        while storage.get(ID, "labels-m-1.json") is None and time.monotonic() - started < 30:
            time.sleep(0.01)  # its first write is done: later ones are cut short
        time.sleep(0.02 * attempt)
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        writer.stdout.close()  # type: ignore[union-attr]
        # the record is whole: the kind written before and the last finished write
        assert read_meta(storage, ID) == MediaMeta(type="image", width=1)
        labels = storage.get(ID, "labels-m-1.json")
        assert labels is not None and len(set(labels.split(b"\n"))) == 1
    assert storage.get(ID, "labels-m-1.json") is not None
    # the killed writes leave temporary files at most, which purge and the next
    # attempt clear; none of them counts as a kind
    assert storage.kinds(ID) == ["labels-m-1.json", "meta.json"]


def test_the_record_format_is_the_cores(tmp_path: Path) -> None:
    record = _core.storage_record_encode([("meta.json", b"{}"), ("a.npy", b"\x00\xff")])
    assert record == b"HGR1" + b"\x05\x00a.npy\x02\x00\x00\x00\x00\xff" + (
        b"\x09\x00meta.json\x02\x00\x00\x00{}"
    )
    assert _core.storage_record_decode(record) == [("a.npy", b"\x00\xff"), ("meta.json", b"{}")]
    with pytest.raises(ValueError, match="ends inside a part"):
        _core.storage_record_decode(record[:-1])


def test_storage_compact_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "gallery.yml"
    config.write_text(
        "sources: [{dir: photos}]\ndatabase: {file: data/catalog.db}\nstorage: {dir: data/storage}\n"
    )
    (tmp_path / "photos").mkdir()
    old_storage(tmp_path / "data" / "storage")
    assert main(["storage", "compact", "--config", str(config)]) == 0
    assert capsys.readouterr().out == "folded 2 files of 1 ids into their records\n"
