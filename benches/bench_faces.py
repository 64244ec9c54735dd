"""Runs the faces benchmark of ``homegallery.bench.faces`` (see its docstring)."""

import sys

from homegallery.bench.faces import main

if __name__ == "__main__":
    sys.exit(main())
