"""Runs the objects benchmark of ``homegallery.bench.objects`` (see its docstring)."""

import sys

from homegallery.bench.objects import main

if __name__ == "__main__":
    sys.exit(main())
