"""The storage folder: one file stored under two names without its bytes twice."""

from __future__ import annotations

from pathlib import Path

from homegallery.storage import Storage


def test_share_stores_a_file_again_without_its_bytes_twice(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    media_id = "ab" * 32
    largest = storage.write(media_id, "image-preview-1280.jpg", b"jpeg bytes")
    poster = storage.share(media_id, largest, "video-frame-1.jpg")
    assert poster.read_bytes() == b"jpeg bytes"
    assert poster.stat().st_ino == largest.stat().st_ino
    assert storage.kinds(media_id) == ["image-preview-1280.jpg", "video-frame-1.jpg"]
