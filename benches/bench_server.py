"""Runs the server benchmark of ``homegallery.bench.server`` (see its docstring)."""

import sys

from homegallery.bench.server import main

if __name__ == "__main__":
    sys.exit(main())
