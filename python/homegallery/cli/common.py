"""Pieces every command shares: loading the config and reporting failures plainly."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from homegallery.errors import HomeGalleryError

if TYPE_CHECKING:
    from homegallery.config import Config


_COMMAND_PREFIX = re.compile(r"^``homegallery [a-z ]+``:\s*")
_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data):`~?([^`]+)`")


def help_text(doc: str | None) -> str:
    """A module docstring as a command's ``--help`` description: without the leading
    ``homegallery x``: (the usage line names the command) and in plain text, not
    reStructuredText (``x`` and :func:`x` read as `x`)."""
    text = _COMMAND_PREFIX.sub("", (doc or "").strip())
    text = _ROLE.sub(r"`\1`", text).replace("``", "`")
    return text[:1].upper() + text[1:]


class CommandError(HomeGalleryError):
    """A failure already phrased for the user; the CLI prints it and exits 1."""


def config_from_args(args: argparse.Namespace) -> Config:
    from homegallery.config import load_config  # lazy: light --help

    path: Path | None = getattr(args, "config", None)
    return load_config(path)


def pointer(query: str, column: int) -> str:
    """The query with a caret under the column an error names."""
    return f"  {query}\n  {' ' * (column - 1)}^"


@contextmanager
def query_errors(query: str) -> Iterator[None]:
    """A query the catalog cannot understand, as a command error with a caret under its
    column; a catalog that cannot be read, as one line."""
    from homegallery.catalog import CatalogError, QueryError  # lazy: light --help

    try:
        yield
    except QueryError as error:
        raise CommandError(f"{error}\n{pointer(query, error.column)}") from None
    except CatalogError as error:
        raise CommandError(str(error)) from None


def cluster_address(args: argparse.Namespace) -> str | None:
    """``--cluster ADDRESS`` or ``--serve-cluster HOST:PORT`` (a scheduler started here)."""
    if args.cluster and args.serve_cluster:
        raise CommandError("--cluster and --serve-cluster: give one of them")
    if args.serve_cluster:
        from homegallery.extract.cluster import SERVE_PREFIX  # lazy: light --help

        return f"{SERVE_PREFIX}{args.serve_cluster}"
    cluster: str | None = args.cluster
    return cluster
