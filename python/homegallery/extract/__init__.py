"""Extractors: metadata, previews, embeddings, web videos and places, into the storage.

Each extractor is a module with one job (``meta``, ``dates``, ``preview``, ``embed``,
``video``, ``geo``); ``worker`` runs the steps for one file, ``runner`` plans a run (``listing``
tells what the storage holds) and spreads it over worker processes, and
``runner.extract_gallery(config)`` is the whole stage. ``schema`` holds the stored
formats that the catalog build reads. This package file stays free of heavy imports
(pyvips, ffmpeg) so that readers of the schema load fast.
"""

from homegallery.extract.schema import (
    MediaMeta,
    Place,
    read_meta,
    read_place,
)

__all__ = ["MediaMeta", "Place", "read_meta", "read_place"]
