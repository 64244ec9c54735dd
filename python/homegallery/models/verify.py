"""``homegallery models verify``: is each installed file still the one that was checked?

A disk error, a half-copied backup or a hand edit shows up here rather than as odd
similar-search results: each file's SHA-256 is compared with the pinned one (the
int8 file with the one its manifest recorded), and each model runs on the fixed
check input.
"""

from __future__ import annotations

from homegallery.models.convert import RunCheckError, check_values, run_check
from homegallery.models.fetch import sha256_file
from homegallery.models.store import Installed


def verify(found: Installed) -> list[str]:
    """Problems with an installed model, one line each; empty when all is well."""
    problems = []
    spec = found.spec
    if sha256_file(found.model) != spec.onnx_sha256:
        problems.append(f"{found.model} is not the pinned model (SHA-256 differs): reinstall it")
    else:
        try:
            check_values(spec, run_check(spec, found.model))
        except RunCheckError as error:
            problems.append(str(error))
    int8 = found.manifest.int8
    if int8 is not None:
        path = found.folder / "model-int8.onnx"
        if not path.is_file():
            problems.append(
                f"{path} is missing: run `homegallery models install --int8 --force {spec.name}`"
            )
        elif sha256_file(path) != int8.sha256:
            problems.append(f"{path} changed since it was made (SHA-256 differs): reinstall it")
        else:
            try:
                run_check(spec, path)
            except RunCheckError as error:
                problems.append(str(error))
    return problems
