"""Index hot paths: blake3 checksums (Rust, parallel) vs hashlib.sha1 and the blake3
package on one thread; walk + exclude of a generated tree vs os.scandir with a Python
gitignore matcher; an index update with nothing changed vs the first index.

    .venv/bin/python benches/bench_index.py [--quick] [--json FILE] [--workdir DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from homegallery.bench.index import measure_all
from homegallery.bench.report import Report, print_report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--workdir", type=Path, help="keep generated files here between runs")
    args = parser.parse_args()
    report = Report("index: checksums, walk + exclude, update")
    measure_all(report, quick=args.quick, workdir=args.workdir)
    print_report(report, args.json)


if __name__ == "__main__":
    main()
