"""Runs the text column benchmark of ``homegallery.bench.text_columns`` (see its docstring)."""

import sys

from homegallery.bench.text_columns import main

if __name__ == "__main__":
    sys.exit(main())
