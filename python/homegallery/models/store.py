"""The installed models on disk: install, look up, remove, verify.

Layout under the models dir (``extractor.models.dir``, default ``{dataDir}/models``)::

    efficientnet-lite0-1/      one folder per model and version
        model.onnx             the converted model (SHA-256 pinned by the spec)
        model-int8.onnx        optional int8 variant (``models install --int8``)
        manifest.json          what was installed, from where, with which hashes
    .install-*/                an install in progress (removed when it fails)
    .lock                      held by an install or removal

An install builds the whole folder under a temporary name in the same directory and
renames it into place, so the folder either holds a checked model or does not exist;
a killed install leaves a ``.install-*`` folder that the next install or removal
sweeps away (under the lock, so never one that is still being written).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec

from homegallery.atomic import write_bytes
from homegallery.errors import HomeGalleryError
from homegallery.models.spec import OFF, TASK_DEFAULTS, ModelSpec, UnknownModelError, get_spec

log = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
INT8_FILE = "model-int8.onnx"
MANIFEST_FILE = "manifest.json"
_TEMP_PREFIX = ".install-"
_TRASH_PREFIX = ".remove-"

Precision = Literal["fp32", "int8"]


class ModelNotInstalled(HomeGalleryError):  # noqa: N818 (reads as a state, like FileNotFoundError)
    """A task needs a model that is not installed; the message names the command to run."""

    def __init__(self, spec: ModelSpec, int8: bool = False) -> None:
        option = "--int8 " if int8 else ""
        variant = " (int8 variant)" if int8 else ""
        super().__init__(
            f"model {spec.name}{variant} is not installed: "
            f"run `homegallery models install {option}{spec.name}`"
        )
        self.spec = spec


class Int8Manifest(msgspec.Struct, kw_only=True, rename="camel"):
    sha256: str
    size: int
    method: str


class Manifest(msgspec.Struct, kw_only=True, rename="camel"):
    name: str
    version: str
    task: str
    onnx_sha256: str
    onnx_size: int
    source: str
    package_sha256: str
    installed_at: str
    int8: Int8Manifest | None = None


@dataclass(frozen=True)
class Installed:
    spec: ModelSpec
    folder: Path
    manifest: Manifest

    @property
    def model(self) -> Path:
        return self.folder / MODEL_FILE

    @property
    def int8_model(self) -> Path | None:
        return self.folder / INT8_FILE if self.manifest.int8 is not None else None

    def size_on_disk(self) -> int:
        return sum(path.stat().st_size for path in self.folder.iterdir() if path.is_file())


def read_manifest(folder: Path) -> Manifest | None:
    try:
        return msgspec.json.decode((folder / MANIFEST_FILE).read_bytes(), type=Manifest)
    except (OSError, msgspec.DecodeError):
        return None


def write_manifest(folder: Path, manifest: Manifest) -> None:
    write_bytes(folder / MANIFEST_FILE, msgspec.json.format(msgspec.json.encode(manifest)) + b"\n")


def installed(spec: ModelSpec, models_dir: Path) -> Installed | None:
    """The installed copy of this model and version, or None; cheap (no hashing)."""
    folder = models_dir / spec.folder_name
    manifest = read_manifest(folder)
    if manifest is None or manifest.name != spec.name or manifest.version != spec.version:
        return None
    if not (folder / MODEL_FILE).is_file():
        return None
    return Installed(spec, folder, manifest)


def model_path(spec: ModelSpec, models_dir: Path, precision: Precision = "fp32") -> Path:
    """The ONNX file to load for ``spec``; raises :class:`ModelNotInstalled` if absent."""
    found = installed(spec, models_dir)
    if found is None:
        raise ModelNotInstalled(spec)
    if precision == "int8":
        int8 = found.int8_model
        if int8 is None or not int8.is_file():
            raise ModelNotInstalled(spec, int8=True)
        return int8
    return found.model


def task_model(task: str, choices: dict[str, str]) -> ModelSpec | None:
    """The model the config picks for ``task`` (None when the task is off)."""
    name = choices.get(task, TASK_DEFAULTS.get(task, OFF))
    return None if name == OFF else get_spec(name)


@contextlib.contextmanager
def models_lock(models_dir: Path) -> Iterator[None]:
    """One install or removal at a time in a models dir; waits for the other to end."""
    models_dir.mkdir(parents=True, exist_ok=True)
    with (models_dir / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another install in %s to finish", models_dir)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sweep_leftovers(models_dir: Path) -> list[Path]:
    """Removes what killed installs and removals left; call with the lock held."""
    removed: list[Path] = []
    if not models_dir.is_dir():
        return removed
    for path in models_dir.iterdir():
        if path.name.startswith((_TEMP_PREFIX, _TRASH_PREFIX)) and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def new_work_folder(models_dir: Path, spec: ModelSpec) -> Path:
    """A private folder for an install; readable like any folder once it is in place."""
    work = Path(tempfile.mkdtemp(prefix=f"{_TEMP_PREFIX}{spec.folder_name}-", dir=models_dir))
    umask = os.umask(0)
    os.umask(umask)
    work.chmod(0o777 & ~umask)
    return work


def _fsync_tree(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(work: Path, models_dir: Path, spec: ModelSpec) -> Path:
    """Renames a finished work folder into place, replacing an older copy atomically.

    The old folder (a forced reinstall) is first renamed aside, so at every moment the
    model's folder is either the old complete one or the new complete one.
    """
    _fsync_tree(work)
    final = models_dir / spec.folder_name
    if final.exists():
        trash = Path(tempfile.mkdtemp(prefix=f"{_TRASH_PREFIX}{spec.folder_name}-", dir=models_dir))
        final.replace(trash / "old")
        work.replace(final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        work.replace(final)
    fd = os.open(models_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return final


def remove(name: str, models_dir: Path) -> list[Path]:
    """Removes every installed version of a model; returns the folders removed."""
    get_spec(name)  # an unknown name is an error, not a silent no-op
    removed: list[Path] = []
    if not models_dir.is_dir():
        return removed
    with models_lock(models_dir):
        sweep_leftovers(models_dir)
        for folder in sorted(models_dir.iterdir()):
            manifest = read_manifest(folder) if folder.is_dir() else None
            if manifest is not None and manifest.name == name:
                trash = Path(tempfile.mkdtemp(prefix=_TRASH_PREFIX, dir=models_dir))
                folder.replace(trash / folder.name)
                shutil.rmtree(trash, ignore_errors=True)
                removed.append(folder)
    return removed


def stale_folders(models_dir: Path) -> list[tuple[Path, Manifest]]:
    """Installed folders of model versions that no spec names any more."""
    stale: list[tuple[Path, Manifest]] = []
    if not models_dir.is_dir():
        return stale
    for folder in sorted(models_dir.iterdir()):
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        manifest = read_manifest(folder)
        if manifest is None:
            continue
        try:
            spec = get_spec(manifest.name)
        except UnknownModelError:
            stale.append((folder, manifest))
            continue
        if spec.version != manifest.version:
            stale.append((folder, manifest))
    return stale


def now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
