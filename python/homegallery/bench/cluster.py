"""Extract throughput on a Dask cluster: files per second with 0 (local), 1 and 2 workers.

A scheduler and its worker processes are started on 127.0.0.1, as ``homegallery
worker`` would on other machines, and the same photos are extracted (metadata and
previews) into a fresh storage each time, the originals' bytes shipped to the workers
and the results back (``cluster.mode: ship``). The local figure is the process pool
of a plain run with as many processes as the machine has cores.

On one machine the "remote" workers share its cores with the coordinator, which reads
and ships every file and stores every result: the figures say what the cluster's
overhead costs, not what a second machine gains (that is the local figure times the
machines, less the network). Bytes per file are what is shipped over the network.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from homegallery.bench.report import Figure, Report, quick_stage_main
from homegallery.bench.suite import StageSkipped
from homegallery.config import Config, load_config
from homegallery.extract.runner import Summary, extract_gallery
from homegallery.extract.steps import Step
from homegallery.index.run import update_index
from homegallery.samples import write_sample_photo

_STEPS: tuple[Step, ...] = ("meta", "preview")


def _gallery(folder: Path, photos: Path, name: str) -> Config:
    config_file = folder / f"{name}.yml"
    config_file.write_text(
        f"sources: [{{dir: {photos}, index: {folder / name}.idx}}]\n"
        f"database: {{file: {folder / name / 'catalog.db'}}}\n"
        f"storage: {{dir: {folder / name / 'storage'}}}\n"
        "extractor: {models: {embeddings: off, faceDetection: off, faceRecognition: off}}\n"
    )
    config = load_config(config_file)
    update_index(config)
    return config


def _extract(config: Config, cluster: str | None) -> Summary:
    return extract_gallery(
        config, steps=_STEPS, cluster=cluster, progress_factory=lambda *_: _Silent()
    )


class _Silent:
    def advance(self, count: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def run(quick: bool) -> Report:
    try:
        from distributed import LocalCluster  # lazy: dask is the `cluster` extra
    except ImportError:
        raise StageSkipped("Dask is not installed (pip install 'homegallery[cluster]')") from None
    if quick:
        raise StageSkipped(
            "starting worker processes takes longer than --quick allows; "
            "run `homegallery bench --stage cluster`"
        )
    report = Report("extract on a Dask cluster (metadata and previews)")
    count, width, height = 16, 2400, 1600
    with tempfile.TemporaryDirectory(prefix="hg-bench-cluster-") as scratch:
        folder = Path(scratch)
        photos = folder / "photos"
        for number in range(count):
            write_sample_photo(photos / f"p{number}.jpg", width, height, seed=number)
        local = _extract(_gallery(folder, photos, "local"), None)
        local_rate = local.planned / local.wall_seconds
        cores = os.cpu_count() or 1
        report.add(
            Figure("cluster", f"local, {cores} processes", local_rate, "files/s",
                   note=f"{width * height / 1e6:.0f} MP JPEGs, {count} files; the local pool's "
                   "start is in its time (as in every run), the workers were started before")
        )  # fmt: skip
        for workers in (1, 2):
            with LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
            ) as cluster:
                address = cluster.scheduler_address
                _extract(_gallery(folder, photos, f"warm{workers}"), address)  # imports loaded
                summary = _extract(_gallery(folder, photos, f"cluster{workers}"), address)
            rate = summary.planned / summary.wall_seconds
            report.add(
                Figure("cluster", f"{workers} worker(s) on 127.0.0.1", rate, "files/s",
                       f"local, {cores} processes", local_rate,
                       note="the workers share this machine's cores with the coordinator")
            )  # fmt: skip
            report.add(
                Figure("cluster", f"network per file, {workers} worker(s)",
                       summary.network_bytes / max(1, summary.planned) / 1e3, "kB",
                       higher_is_better=False,
                       note="the original shipped out, its previews and metadata back")
            )  # fmt: skip
    return report


def main(argv: Sequence[str] | None = None) -> int:
    return quick_stage_main(__doc__, "(skipped: the cluster stage has no quick form)", run, argv)


if __name__ == "__main__":
    sys.exit(main())
