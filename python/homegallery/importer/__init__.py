"""The import: index, extract and build as one resumable loop, once or watching."""

from homegallery.importer.lock import GalleryBusyError, import_lock
from homegallery.importer.loop import ImportOptions, ImportReport, import_initial, import_update
from homegallery.importer.watch import watch_and_import

__all__ = [
    "GalleryBusyError",
    "ImportOptions",
    "ImportReport",
    "import_initial",
    "import_lock",
    "import_update",
    "watch_and_import",
]
