"""homegallery: a private, self-hosted photo and video gallery with a Rust core.

The public Python API grows here as the pipeline stages land; every stage is also
callable from its own module (``homegallery.index``, ``homegallery.extract``, …).
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    __version__: str
    from homegallery.catalog import CatalogError, Entry, QueryError
    from homegallery.config import Config, ConfigError, load_config
    from homegallery.gallery import Gallery, open_gallery

# The scripting API loads on first use: the CLI imports this package for every
# command and should not pay for numpy, msgspec, YAML and the catalog when it does not
# need them (`homegallery --help` stays well under 100 ms).
_LAZY = {
    "Config": "homegallery.config",
    "ConfigError": "homegallery.config",
    "load_config": "homegallery.config",
    "CatalogError": "homegallery.catalog",
    "Entry": "homegallery.catalog",
    "QueryError": "homegallery.catalog",
    "Gallery": "homegallery.gallery",
    "open_gallery": "homegallery.gallery",
}


def _installed_version() -> str:
    # importlib.metadata costs ~50 ms to import: asked for only when the version is.
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("homegallery")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.0.0+unknown"


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    if name == "__version__":
        found = _installed_version()
        globals()["__version__"] = found
        return found
    raise AttributeError(f"module 'homegallery' has no attribute {name!r}")


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
