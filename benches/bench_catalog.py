"""Runs the catalog benchmark of ``homegallery.bench.catalog`` (see its docstring)."""

import sys

from homegallery.bench.catalog import main

if __name__ == "__main__":
    sys.exit(main())
