"""Runs the people benchmark of ``homegallery.bench.people`` (see its docstring)."""

import sys

from homegallery.bench.people import main

if __name__ == "__main__":
    sys.exit(main())
