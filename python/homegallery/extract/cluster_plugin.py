"""The model files a coordinator's workers need, copied onto each worker once.

A Dask worker plugin carries the bytes: the scheduler keeps it and gives it to every
worker that joins, later ones included, so a laptop added mid-run gets the models
without seeing the coordinator's disk. Each file lands in the worker's local folder
under its content hash; ``cluster_tasks`` maps the coordinator's path to that copy,
and the model steps' own per-process cache loads each session once per worker.

Imported only where the cluster is used (``dask[distributed]`` is an extra).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from homegallery.atomic import write_bytes
from homegallery.extract import cluster_tasks


class ModelFiles(WorkerPlugin):  # type: ignore[misc,unused-ignore]
    idempotent = True  # one name per set of files: the scheduler keeps the first

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        # Named by the files: registered again (every chunk of an import) with the same
        # models, the scheduler keeps the one it has and the workers get nothing new.
        digest = hashlib.blake2b(digest_size=8)
        for original, data in sorted(files.items()):
            digest.update(original.encode() + b"\0" + hashlib.blake2b(data).digest())
        self.name = f"homegallery-model-files-{digest.hexdigest()}"

    def setup(self, worker: Any) -> None:
        folder = Path(worker.local_directory) / "homegallery-models"
        for original, data in self.files.items():
            digest = hashlib.blake2b(data, digest_size=16).hexdigest()
            target = folder / f"{digest}-{Path(original).name}"
            if not target.is_file():
                write_bytes(target, data)
            cluster_tasks.MODEL_FILES[original] = str(target)


def model_files(paths: list[Path]) -> ModelFiles:
    return ModelFiles({str(path): path.read_bytes() for path in paths})
