"""homegallery: a private, self-hosted photo and video gallery with a Rust core.

The public Python API grows here as the pipeline stages land; every stage is also
callable from its own module (``homegallery.index``, ``homegallery.extract``, …).
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from homegallery.config import Config, ConfigError, load_config

if TYPE_CHECKING:
    from homegallery.catalog import CatalogError, Entry, QueryError
    from homegallery.gallery import Gallery, open_gallery

# The scripting API loads on first use: the CLI imports this package for every
# command and should not pay for numpy and the catalog when it does not need them.
_LAZY = {
    "CatalogError": "homegallery.catalog",
    "Entry": "homegallery.catalog",
    "QueryError": "homegallery.catalog",
    "Gallery": "homegallery.gallery",
    "open_gallery": "homegallery.gallery",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'homegallery' has no attribute {name!r}")


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
