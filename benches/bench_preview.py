"""Runs the preview benchmark of ``homegallery.bench.preview`` (see its docstring)."""

import sys

from homegallery.bench.preview import main

if __name__ == "__main__":
    sys.exit(main())
