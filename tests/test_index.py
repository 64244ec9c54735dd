"""The file index, end to end on real folders: the scenarios of HomeGallery's suite
and the awkward cases (unreadable, vanishing, non-UTF-8 and looping files)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import blake3
import pytest

from homegallery import _core
from homegallery.cli.main import main
from homegallery.config import Config, Source
from homegallery.index import (
    AddLimits,
    IndexEntry,
    load_index,
    read_journals,
    update_index,
)


def digest(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


def make_config(tmp_path: Path, **source_options: object) -> Config:
    source_dir = tmp_path / "photos"
    source_dir.mkdir(exist_ok=True)
    source = Source(dir=str(source_dir), index=str(tmp_path / "index" / "photos.idx"))
    for key, value in source_options.items():
        setattr(source, key, value)
    return Config(sources=[source])


def entries(config: Config) -> dict[str, IndexEntry]:
    return {entry.path: entry for entry in load_index(config.sources[0].index_path)}


def write(config: Config, relative: str, data: bytes) -> Path:
    path = Path(config.sources[0].dir) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_two_files_give_two_entries_with_their_checksums(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    write(config, "a.jpg", b"first photo")
    write(config, "sub/b.mp4", b"a video")
    result = update_index(config)
    assert result.ok
    found = entries(config)
    assert sorted(found) == ["a.jpg", "sub/b.mp4"]
    assert found["a.jpg"].id == digest(b"first photo")
    assert found["sub/b.mp4"].id == digest(b"a video")
    assert found["a.jpg"].kind == "image"
    assert found["sub/b.mp4"].kind == "video"
    assert found["a.jpg"].size == len(b"first photo")
    assert result.sources[0].added == 2


def test_add_remove_rename_and_overwrite(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    write(config, "a.jpg", b"A")
    write(config, "b.jpg", b"B")
    update_index(config)
    write(config, "c.jpg", b"C")
    assert update_index(config).sources[0].added == 1
    assert len(entries(config)) == 3

    root = Path(config.sources[0].dir)
    (root / "a.jpg").unlink()
    (root / "b.jpg").unlink()
    result = update_index(config).sources[0]
    assert result.removed == 2
    assert list(entries(config)) == ["c.jpg"]

    (root / "c.jpg").rename(root / "renamed.jpg")
    result = update_index(config).sources[0]
    assert (result.moved, result.added, result.removed) == (1, 0, 0)
    assert result.bytes_hashed == 0  # recognised by inode, not read again
    assert entries(config)["renamed.jpg"].id == digest(b"C")

    write(config, "renamed.jpg", b"other content")
    result = update_index(config).sources[0]
    assert result.changed == 1
    assert entries(config)["renamed.jpg"].id == digest(b"other content")

    journals = read_journals(config.sources[0].index_path)
    assert [journal.sequence for journal in journals] == [1, 2, 3, 4, 5]
    assert journals[3].moved[0].old_path == "c.jpg"
    assert journals[3].moved[0].path == "renamed.jpg"
    assert journals[4].changed[0].old_id == digest(b"C")
    assert [j.sequence for j in read_journals(config.sources[0].index_path, 3)] == [4, 5]


def test_copy_to_another_folder_is_a_move_by_id_with_size_matcher(tmp_path: Path) -> None:
    config = make_config(tmp_path, matcher="size")
    write(config, "a/photo.jpg", b"same bytes")
    update_index(config)
    root = Path(config.sources[0].dir)
    (root / "b").mkdir()
    (root / "b/photo.jpg").write_bytes(b"same bytes")
    (root / "a/photo.jpg").unlink()
    result = update_index(config).sources[0]
    assert (result.moved, result.added, result.removed) == (1, 0, 0)


def test_unchanged_files_are_not_read_again(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    for number in range(5):
        write(config, f"{number}.jpg", bytes([number]) * 100)
    update_index(config)
    result = update_index(config).sources[0]
    assert result.bytes_hashed == 0
    assert result.journal == 0
    assert len(read_journals(config.sources[0].index_path)) == 1


def test_max_file_size_and_exclude_if_present(tmp_path: Path) -> None:
    config = make_config(tmp_path, max_file_size="1K")
    write(config, "small.jpg", b"x" * 100)
    write(config, "big.jpg", b"x" * 2000)
    write(config, "private/secret.jpg", b"s")
    write(config, "private/.galleryignore", b"")
    result = update_index(config).sources[0]
    assert list(entries(config)) == ["small.jpg"]
    assert result.too_large == 1
    assert result.excluded == 1


def test_quick_start_exclude_file_keeps_only_jpg_and_png(tmp_path: Path) -> None:
    exclude_file = tmp_path / "excludes"
    exclude_file.write_text("*.*\n!*.*/\n!*.jpg\n!*.JPG\n!*.png\n!*.PNG\n")
    config = make_config(tmp_path, exclude_from_file=str(exclude_file))
    for name in ["a.jpg", "b.JPG", "c.png", "d.PNG", "e.mp4", "f.gif", "2020.07/g.jpg", "x.xmp"]:
        write(config, name, name.encode())
    update_index(config)
    assert sorted(entries(config)) == ["2020.07/g.jpg", "a.jpg", "b.JPG", "c.png", "d.PNG"]


def test_add_limits_grow_the_index_in_chunks(tmp_path: Path) -> None:
    limits = AddLimits.parse("200,500,1.25,8000")
    sizes = [0]
    for _ in range(8):
        sizes.append(sizes[-1] + limits.allowed_new(sizes[-1]))
    assert sizes[1:] == [200, 700, 1200, 1700, 2200, 2750, 3437, 4296]
    assert limits.allowed_new(40_000) == 8000

    config = make_config(tmp_path)
    for number in range(10):
        write(config, f"{number:02d}.jpg", bytes([number]))
    small = AddLimits.parse("2,3,1.5,4")
    counts = []
    for _ in range(4):
        result = update_index(config, add_limits=small).sources[0]
        counts.append((result.entries, result.pending))
    assert counts == [(2, 8), (5, 5), (8, 2), (10, 0)]


@pytest.mark.parametrize("text", ["", "a,b", "0,1,1,1", "1,2,3,4,5", "10,5,0.5,100"])
def test_bad_add_limits_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="add limits"):
        AddLimits.parse(text)


def test_non_utf8_names_round_trip(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    raw_name = os.fsencode(config.sources[0].dir) + b"/caf\xe9.jpg"
    with open(raw_name, "wb") as handle:  # noqa: PTH123
        handle.write(b"latin-1 name")
    update_index(config)
    (entry,) = load_index(config.sources[0].index_path)
    assert (Path(config.sources[0].dir) / entry.path).read_bytes() == b"latin-1 name"
    assert entry.id == digest(b"latin-1 name")
    assert update_index(config).sources[0].bytes_hashed == 0


def test_symlink_loop_and_broken_link(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    write(config, "a/photo.jpg", b"p")
    root = Path(config.sources[0].dir)
    (root / "a" / "loop").symlink_to(root)
    (root / "dangling.jpg").symlink_to(root / "missing.jpg")
    result = update_index(config).sources[0]
    assert list(entries(config)) == ["a/photo.jpg"]
    assert result.file_errors == [("dangling.jpg", "broken symlink")]


def test_empty_source_gives_an_empty_index(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    result = update_index(config)
    assert result.ok
    assert result.sources[0].entries == 0
    assert config.sources[0].index_path.exists()


def test_unmounted_source_keeps_its_entries(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    write(config, "a.jpg", b"A")
    update_index(config)
    root = Path(config.sources[0].dir)
    (root / "a.jpg").unlink()
    root.rmdir()  # the disk is gone
    result = update_index(config)
    assert not result.ok
    assert "index kept" in result.sources[0].error
    assert list(entries(config)) == ["a.jpg"]
    root.mkdir()  # mounted again but empty: still not "everything deleted"
    result = update_index(config)
    assert not result.ok and "unmounted" in result.sources[0].error
    assert list(entries(config)) == ["a.jpg"]


def test_offline_source_is_not_walked(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    write(config, "a.jpg", b"A")
    update_index(config)
    config.sources[0].offline = True
    write(config, "b.jpg", b"B")
    result = update_index(config).sources[0]
    assert result.status == "offline"
    assert list(entries(config)) == ["a.jpg"]


def test_file_vanishing_before_its_checksum_is_an_error_of_that_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path)
    write(config, "stays.jpg", b"stays")
    doomed = write(config, "vanishes.jpg", b"gone soon")
    real_hash_files = _core.hash_files

    def delete_then_hash(
        paths: list[str], threads: int = 0, roots: list[str] | None = None
    ) -> list[tuple[str | None, int, str | None]]:
        doomed.unlink(missing_ok=True)  # the file goes away after the walk saw it
        return real_hash_files(paths, threads, roots)

    monkeypatch.setattr(_core, "hash_files", delete_then_hash)
    result = update_index(config).sources[0]
    assert list(entries(config)) == ["stays.jpg"]
    assert [path for path, _ in result.file_errors] == ["vanishes.jpg"]
    assert "No such file" in result.file_errors[0][1]


def test_unreadable_changed_file_keeps_its_old_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path)
    path = write(config, "a.jpg", b"version one")
    update_index(config)
    path.write_bytes(b"version two, longer")
    real_hash_files = _core.hash_files

    def fail_reads(
        paths: list[str], threads: int = 0, roots: list[str] | None = None
    ) -> list[tuple[str | None, int, str | None]]:
        return [
            (None, 0, "read error: Input/output error")
            for _ in real_hash_files(paths, threads, roots)
        ]

    monkeypatch.setattr(_core, "hash_files", fail_reads)
    result = update_index(config).sources[0]
    assert result.file_errors == [("a.jpg", "read error: Input/output error")]
    assert entries(config)["a.jpg"].id == digest(b"version one")


def test_hash_files_reports_each_problem_and_goes_on(tmp_path: Path) -> None:
    good = tmp_path / "good"
    good.write_bytes(b"good")
    outcomes = _core.hash_files([str(tmp_path / "missing"), str(tmp_path), str(good)], 2)
    assert outcomes[0][0] is None and "No such file" in (outcomes[0][2] or "")
    assert outcomes[1][0] is None and outcomes[1][2] == "is a folder"
    assert outcomes[2] == (digest(b"good"), 4, None)


# Indexes a source whose big files are cut short and grown again every millisecond
# while they are hashed (sparse files: no disk space used). A memory-mapped read of a
# page past the new end raises SIGBUS, which kills the process (returncode -7).
_TRUNCATED_WHILE_HASHED = """
import json, os, sys, threading, time
from pathlib import Path
from homegallery.config import Config, Source
from homegallery.index import load_index, update_index

folder, index = sys.argv[1], sys.argv[2]
big = [os.path.join(folder, f"big-{number}.mp4") for number in range(4)]
for path in big:
    with open(path, "wb") as handle:
        handle.truncate(256 << 20)
stop = threading.Event()

def cut_and_grow():
    while not stop.is_set():
        for path in big:
            os.truncate(path, 4096)
            os.truncate(path, 256 << 20)
        time.sleep(0.001)

thread = threading.Thread(target=cut_and_grow)
thread.start()
try:
    result = update_index(Config(sources=[Source(dir=folder, index=index)])).sources[0]
finally:
    stop.set()
    thread.join()
print(json.dumps({"indexed": [e.path for e in load_index(Path(index))],
                  "errors": result.file_errors}))
"""


def test_file_truncated_while_hashed_is_an_error_of_that_file(tmp_path: Path) -> None:
    source = tmp_path / "photos"
    source.mkdir()
    (source / "a.jpg").write_bytes(b"a photo")
    (source / "b.jpg").write_bytes(b"another photo")
    run = subprocess.run(
        [sys.executable, "-c", _TRUNCATED_WHILE_HASHED, str(source), str(tmp_path / "i.idx")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, f"returncode {run.returncode}: {run.stderr[-2000:]}"
    outcome = json.loads(run.stdout)
    assert outcome["indexed"] == ["a.jpg", "b.jpg"]
    errors = dict(outcome["errors"])
    assert sorted(errors) == [f"big-{number}.mp4" for number in range(4)]
    assert all("changed while reading" in message for message in errors.values()), errors


def test_unreadable_source_root_keeps_its_error_kind(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as missing:
        _core.walk_source(str(tmp_path / "missing"), [])
    assert missing.value.errno == errno.ENOENT
    assert missing.value.filename == str(tmp_path / "missing")
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(NotADirectoryError) as not_a_folder:
        _core.walk_source(str(tmp_path / "file"), [])
    assert not_a_folder.value.errno == errno.ENOTDIR


def test_zero_byte_file_is_indexed(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    write(config, "empty.jpg", b"")
    update_index(config)
    assert entries(config)["empty.jpg"].id == digest(b"")


def test_index_command_dry_run_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.jpg").write_bytes(b"A")
    config_file = tmp_path / "gallery.yml"
    config_file.write_text("sources: [{dir: photos}]\ndatabase: {file: data/catalog.db}\n")
    assert main(["index", "--config", str(config_file), "--dry-run"]) == 0
    assert "would add 1" in capsys.readouterr().out
    assert not (tmp_path / "data").exists()
    assert main(["index", "--config", str(config_file), "--add-limits", "1,1,1,1"]) == 0
    output = capsys.readouterr().out
    assert "added 1" in output
    assert (tmp_path / "data/index/photos.idx").exists()


def test_index_command_rejects_unknown_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "photos").mkdir()
    config_file = tmp_path / "gallery.yml"
    config_file.write_text("sources: [{dir: photos}]\n")
    assert main(["index", "-c", str(config_file), "--source", str(tmp_path)]) == 1
    assert "not a source of the config" in capsys.readouterr().err


def test_real_photos_are_indexed(photos_dir: Path, tmp_path: Path) -> None:
    config = Config(sources=[Source(dir=str(photos_dir), index=str(tmp_path / "p.idx"))])
    result = update_index(config).sources[0]
    found = {entry.path: entry for entry in load_index(tmp_path / "p.idx")}
    assert result.file_errors == []
    assert found["gps/DSCN0010.jpg"].id == digest((photos_dir / "gps/DSCN0010.jpg").read_bytes())
    assert found["heic/IMG_5195.HEIC"].kind == "image"
    assert found["README.md"].kind == "other"
    assert len(found) == result.seen


@pytest.mark.parametrize(
    ("name", "kind", "media_type"),
    [
        ("DSC00001.HIF", "image", "image/heif"),  # Sony, Canon, Fujifilm 10-bit HEIF
        ("DSCF0001.MPO", "image", "image/jpeg"),  # stereo cameras, portrait mode
        ("IMG_20240501_101010_00_001.insp", "image", "image/jpeg"),  # Insta360
        ("IMG_0001.HEIC", "image", "image/heic"),
        ("PXL_20240501.jpg", "image", "image/jpeg"),
        ("photo.avif", "image", "image/avif"),
        ("B0001.FFF", "raw", None),  # Hasselblad
        ("VID_20240501_101010_00_001.insv", "video", "video/mp4"),
        ("00001.MTS", "video", "video/mp2t"),
        ("MOV001.MOD", "video", "video/mpeg"),  # not an XML DTD
        ("C0001.MXF", "video", "application/mxf"),
        ("GL010001.LRV", "other", None),  # GoPro's low-resolution copy of the .MP4
    ],
)
def test_what_phones_and_cameras_write_is_imported(
    name: str, kind: str, media_type: str | None
) -> None:
    from homegallery.index.kinds import kind_of
    from homegallery.index.kinds import media_type as media_type_of

    assert kind_of(name) == kind
    if media_type is not None:
        assert media_type_of(name) == media_type
