"""Runs the relevance benchmark of ``homegallery.bench.relevance`` (see its docstring)."""

import sys

from homegallery.bench.relevance import main

if __name__ == "__main__":
    sys.exit(main())
