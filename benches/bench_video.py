"""Runs the video benchmark of ``homegallery.bench.video`` (see its docstring)."""

import sys

from homegallery.bench.video import main

if __name__ == "__main__":
    sys.exit(main())
