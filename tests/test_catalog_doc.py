"""The stored form of entries: what it leaves out comes back whole, and it is smaller."""

from __future__ import annotations

import msgspec

from homegallery.catalog.doc import decode_doc, encode_doc
from homegallery.catalog.entry import DetectedObject, Entry, EntryFile

MAIN = "ab" * 32
TWIN = "cd" * 32


def _pair() -> Entry:
    return Entry(
        id=MAIN, type="image", date="2021-06-01T10:00:00+02:00", year=2021, width=4000,
        height=3000, make="Canon", latitude=43.77, longitude=11.25, city="Florence",
        tags=["sea", "Ärger"], objects=[DetectedObject(class_="boat", score=0.9)],
        files=[
            EntryFile(source="/photos", path="2021/IMG_1.jpg", size=1, kind="image", id=MAIN),
            EntryFile(source="/copies", path="IMG_1.jpg", size=1, kind="image", id=MAIN),
            EntryFile(source="/photos", path="2021/IMG_1.CR3", size=2, kind="raw", id=TWIN),
        ],
        previews=[f"ab/ab/{MAIN[4:]}-image-preview-320.jpg",
                  f"cd/cd/{TWIN[4:]}-image-preview-128.jpg"],
    )  # fmt: skip


def test_a_doc_comes_back_as_the_entry_it_was() -> None:
    entry = _pair()
    assert decode_doc(encode_doc(entry)) == entry
    bare = Entry(id=MAIN, type="video")
    assert decode_doc(encode_doc(bare)) == bare


def test_the_stored_form_leaves_out_what_the_id_says_and_keeps_the_rest() -> None:
    entry = _pair()
    stored = msgspec.msgpack.decode(encode_doc(entry))
    own, twins = stored["previews"]
    assert own == "image-preview-320.jpg"  # the entry's own preview: its kind
    assert twins == f"cd/cd/{TWIN[4:]}-image-preview-128.jpg"  # a twin's: the whole path
    assert [file.get("id") for file in stored["files"]] == [None, None, TWIN]
    assert entry.previews[0].startswith("ab/ab/") and entry.files[0].id == MAIN  # untouched


def test_the_stored_form_is_much_smaller_than_the_json_of_the_entry() -> None:
    entry = _pair()
    assert len(encode_doc(entry)) < 0.7 * len(msgspec.json.encode(entry))
