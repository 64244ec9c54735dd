"""Pieces every command shares: loading the config and reporting failures plainly."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from homegallery.errors import HomeGalleryError

if TYPE_CHECKING:
    from homegallery.config import Config


class CommandError(HomeGalleryError):
    """A failure already phrased for the user; the CLI prints it and exits 1."""


def config_from_args(args: argparse.Namespace) -> Config:
    from homegallery.config import load_config  # lazy: light --help

    path: Path | None = getattr(args, "config", None)
    return load_config(path)
