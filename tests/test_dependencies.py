"""Every runtime dependency in pyproject.toml is imported by the package at run time.

pip installs each of them on every user's machine (a Raspberry Pi included), so one
that only a benchmark or a test needs belongs in an extra. The table below names the
module that uses each; the test fails when pyproject.toml and the table drift, and when
the package no longer imports what the table says.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import msgspec

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "python" / "homegallery"

# dependency -> the module the package imports it as (loaded by that import, or, for
# the two that ship no importable code of their own and httptools, which uvicorn
# loads, by the module named).
USED_AS = {
    "numpy": "numpy",
    "msgspec": "msgspec",
    "pyyaml": "yaml",
    "pyvips": "pyvips",
    "pillow": "PIL",
    "ffmpeg-python": "ffmpeg",
    "pillow-heif": "pillow_heif",
    "pyexiv2": "pyexiv2",
    "rawpy": "rawpy",
    "reverse_geocode": "reverse_geocode",
    "imageio-ffmpeg": "imageio_ffmpeg",
    "onnxruntime": "onnxruntime",
    "onnx": "onnx",
    "litestar": "litestar",
    "watchfiles": "watchfiles",
    "uvicorn": "uvicorn",
    # loaded by uvicorn's protocol the server subclasses (server/connections.py)
    "httptools": "uvicorn.protocols.http.httptools_impl",
    "httpx": "httpx",
    "argon2-cffi": "argon2",
    "xstatic-leaflet": "xstatic.pkg.leaflet",
    "xstatic-leaflet-markercluster": "xstatic.pkg.leaflet_markercluster",
    # The libvips that pyvips loads: a library, not a module (see doctor/system.py).
    "pyvips-binary": "pyvips",
}


def _project() -> dict[str, Any]:
    project: dict[str, Any] = msgspec.toml.decode((REPO / "pyproject.toml").read_bytes())["project"]
    return project


def _dependency_names() -> set[str]:
    project = _project()
    return {
        re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0].lower() for line in project["dependencies"]
    }


def _imported_modules() -> set[str]:
    found: set[str] = set()
    for source in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module)
    return found


def test_the_table_names_every_runtime_dependency() -> None:
    assert _dependency_names() == set(USED_AS)


def test_the_package_imports_every_runtime_dependency() -> None:
    imported = _imported_modules()
    unused = {
        dependency
        for dependency, module in USED_AS.items()
        if not any(name == module or name.startswith(f"{module}.") for name in imported)
    }
    assert not unused, f"runtime dependencies nothing imports (move them to an extra): {unused}"


def test_the_benchmark_only_checksum_package_is_an_extra() -> None:
    extras = _project()["optional-dependencies"]
    assert any(line.startswith("blake3") for line in extras["bench"])
    assert "blake3" not in _dependency_names()


# extra -> the modules of the package that import it (each import inside a function, so
# that nothing loads it unless the extra's feature is used), apart from the modules that
# only the extra's feature imports.
EXTRAS = {"cluster": "distributed"}
ONLY_WITH_THE_EXTRA = {"cluster": {"extract/cluster_plugin.py", "extract/cluster_worker.py"}}


def test_the_cluster_extra_is_dask_and_imported_only_when_used() -> None:
    extras = _project()["optional-dependencies"]
    assert any(line.startswith("dask[distributed]") for line in extras["cluster"])
    assert "dask" not in _dependency_names()
    module = EXTRAS["cluster"]
    imported_at_top: list[str] = []
    for source in PACKAGE.rglob("*.py"):
        relative = source.relative_to(PACKAGE).as_posix()
        if relative in ONLY_WITH_THE_EXTRA["cluster"]:
            continue
        for node in ast.parse(source.read_text(), str(source)).body:
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name == module or name.startswith(f"{module}.") for name in names):
                imported_at_top.append(relative)
    assert not imported_at_top
