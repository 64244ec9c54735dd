"""homegallery: a private, self-hosted photo and video gallery with a Rust core.

The public Python API grows here as the pipeline stages land; every stage is also
callable from its own module (``homegallery.index``, ``homegallery.extract``, …).
"""

from importlib.metadata import PackageNotFoundError, version

from homegallery.catalog import CatalogError, Entry, QueryError
from homegallery.config import Config, ConfigError, load_config
from homegallery.gallery import Gallery, open_gallery

try:
    __version__ = version("homegallery")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+unknown"

__all__ = [
    "CatalogError",
    "Config",
    "ConfigError",
    "Entry",
    "Gallery",
    "QueryError",
    "__version__",
    "load_config",
    "open_gallery",
]
