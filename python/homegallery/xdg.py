"""Default locations on disk, following the XDG base directory specification.

Kept apart from the config schema so tests can point every default at a temporary
home by setting the XDG variables, without touching the user's real folders.
"""

import os
from pathlib import Path


def _base(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "")
    # The spec says relative values are invalid and must be ignored.
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / fallback


def config_home() -> Path:
    return _base("XDG_CONFIG_HOME", ".config") / "homegallery"


def data_home() -> Path:
    return _base("XDG_DATA_HOME", ".local/share") / "homegallery"


def cache_home() -> Path:
    return _base("XDG_CACHE_HOME", ".cache") / "homegallery"


def default_config_file() -> Path:
    """The config file used when no ``--config`` is given.

    ``HOMEGALLERY_CONFIG`` wins so that services and containers need no flag.
    """
    override = os.environ.get("HOMEGALLERY_CONFIG")
    if override:
        return Path(override)
    return config_home() / "gallery.yml"
