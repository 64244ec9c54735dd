"""The stored form of an entry (``entry_docs.doc``): MessagePack, without repeats.

The docs are half of a catalog's bytes, and a build writes every byte three times
(its part file, the WAL, the database), so their size is build time. Two fields
repeat what the row already knows: a preview path is the entry's id plus a kind, and
the main file's id is the entry's id. The stored form keeps only the kind and leaves
that file id out; together with MessagePack this takes 40% off a typical doc. A
preview that belongs to a RAW twin keeps its whole path.

The build makes docs in the Rust core (``rust/catalog/entry_doc.rs``, the same form); this
module encodes the entries Python changes (user events) and decodes every doc read.
"""

from __future__ import annotations

import msgspec

from homegallery.catalog.entry import Entry
from homegallery.storage import relative_path

_ENCODER = msgspec.msgpack.Encoder()
_DECODER = msgspec.msgpack.Decoder(Entry)


def encode_doc(entry: Entry) -> bytes:
    media_id = entry.id
    prefix = relative_path(media_id, "")
    cut = len(prefix)
    stored = msgspec.structs.replace(
        entry,
        previews=[path[cut:] if path.startswith(prefix) else path for path in entry.previews],
        files=[
            msgspec.structs.replace(file, id="") if file.id == media_id else file
            for file in entry.files
        ],
    )
    return _ENCODER.encode(stored)


def decode_doc(data: bytes) -> Entry:
    entry = _DECODER.decode(data)
    media_id = entry.id
    # A kind never holds a "/"; a whole path always does.
    if entry.previews:
        prefix = relative_path(media_id, "")
        entry.previews = [path if "/" in path else prefix + path for path in entry.previews]
    for file in entry.files:
        if not file.id:
            file.id = media_id
    return entry
