"""Runs the similarity benchmark of ``homegallery.bench.similarity`` (see its docstring)."""

import sys

from homegallery.bench.similarity import main

if __name__ == "__main__":
    sys.exit(main())
