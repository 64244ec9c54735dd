"""Runs the cluster benchmark of ``homegallery.bench.cluster`` (see its docstring)."""

import sys

from homegallery.bench.cluster import main

if __name__ == "__main__":
    sys.exit(main())
