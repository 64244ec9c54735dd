"""Runs the embeddings benchmark of ``homegallery.bench.embeddings`` (see its docstring)."""

import sys

from homegallery.bench.embeddings import main

if __name__ == "__main__":
    sys.exit(main())
