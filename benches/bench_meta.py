"""Runs the meta benchmark of ``homegallery.bench.meta`` (see its docstring)."""

import sys

from homegallery.bench.meta import main

if __name__ == "__main__":
    sys.exit(main())
