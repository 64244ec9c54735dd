"""Extractors: metadata, previews, embeddings, web videos and places, into the storage.

Each extractor is a module with one job (``meta``, ``dates``, ``preview``, ``embed``,
``video``, ``geo``); ``worker`` runs the steps for one file, ``runner`` plans a run (``listing``
tells what the storage holds) and spreads it over worker processes, and
``runner.extract_gallery(config)`` is the whole stage. ``schema`` holds the stored
formats that the catalog build reads. This package file stays free of heavy imports
(pyvips, ffmpeg) so that readers of the schema load fast.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from homegallery.extract.schema import MediaMeta, Place, read_meta, read_place

# Loaded on first use, so that the step names (`steps`) come without msgspec and the
# storage layout: the CLI reads them to build its help.
_LAZY = {
    name: "homegallery.extract.schema" for name in ("MediaMeta", "Place", "read_meta", "read_place")
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'homegallery.extract' has no attribute {name!r}")


__all__ = ["MediaMeta", "Place", "read_meta", "read_place"]
