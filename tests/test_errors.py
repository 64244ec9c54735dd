"""Errors keep their kind: the package's own exceptions share one base, and a failure
of the Rust core reaches Python as the exception, errno and filename that Python's own
file functions give for the same path."""

from __future__ import annotations

import errno
import importlib
import os
import pickle
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import homegallery
from homegallery import _core
from homegallery.catalog.events import EventError
from homegallery.catalog.query.errors import QueryError
from homegallery.catalog.schema import ENTRY_TABLE_STATEMENTS
from homegallery.catalog.vectors import NoSimilarityError
from homegallery.errors import HomeGalleryError
from homegallery.extract.ffmpeg_tools import ToolError
from homegallery.extract.schema import StoredFileError
from homegallery.server.passwords import PasswordHashError
from homegallery.server.revocations import RevocationError
from homegallery.within import OutsideSourcesError

# Exceptions of the package that are not failures it explains, and why.
NOT_ERRORS = {
    "homegallery.server.services.QueryProblem": "an HTTP answer (Litestar HTTPException)",
    "homegallery.server.routes.events.TooLarge": "an HTTP answer (Litestar HTTPException)",
    "homegallery.cli.stopping.StopRequested": "a stop signal, raised as KeyboardInterrupt",
    "homegallery.bench.suite.StageSkipped": "a benchmark stage left out, not a failure",
}


def _subclasses(cls: type[BaseException]) -> Iterator[type[BaseException]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _own_exceptions() -> dict[str, type[BaseException]]:
    for module in pkgutil.walk_packages(homegallery.__path__, "homegallery."):
        importlib.import_module(module.name)
    return {
        f"{cls.__module__}.{cls.__qualname__}": cls
        for cls in _subclasses(BaseException)
        if cls.__module__.startswith("homegallery.")
    }


def test_every_exception_of_the_package_is_a_homegallery_error() -> None:
    own = _own_exceptions()
    missing = sorted(
        name
        for name, cls in own.items()
        if name not in NOT_ERRORS and not issubclass(cls, HomeGalleryError)
    )
    assert missing == [], f"derive these from homegallery.errors.HomeGalleryError: {missing}"
    assert set(NOT_ERRORS) <= set(own), "NOT_ERRORS names a class that is gone"
    assert len(own) > 25  # every module was imported, not just a few


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (QueryError, ValueError),
        (EventError, ValueError),
        (StoredFileError, ValueError),
        (PasswordHashError, ValueError),
        (NoSimilarityError, LookupError),
        (RevocationError, RuntimeError),
        (ToolError, RuntimeError),
        (OutsideSourcesError, PermissionError),
    ],
)
def test_errors_keep_the_builtin_base_callers_catch(
    error: type[Exception], builtin: type[Exception]
) -> None:
    assert issubclass(error, HomeGalleryError) and issubclass(error, builtin)


def test_an_error_with_an_os_base_still_crosses_to_a_worker_and_back() -> None:
    error = OutsideSourcesError("/photos/link.jpg: leads outside the sources")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is OutsideSourcesError and str(back) == str(error)


def _raised(action: Callable[[], object]) -> OSError:
    with pytest.raises(OSError) as caught:
        action()
    return caught.value


def _assert_like_python(core: OSError, python: OSError, path: Path) -> None:
    assert (type(core), core.errno) == (type(python), python.errno), (core, python)
    assert core.filename == os.fspath(path)
    assert core.strerror == python.strerror


def test_a_source_that_cannot_be_walked_raises_what_python_raises(tmp_path: Path) -> None:
    a_file = tmp_path / "IMG_1.jpg"
    a_file.write_bytes(b"jpeg")
    for root, expected in (
        (tmp_path / "unmounted", FileNotFoundError),
        (a_file, NotADirectoryError),
    ):
        core = _raised(lambda root=root: _core.walk_source(os.fspath(root), []))  # type: ignore[misc]
        assert isinstance(core, expected)
        _assert_like_python(core, _raised(lambda root=root: list(root.iterdir())), root)  # type: ignore[misc]


def _write_part(path: Path, schema: list[str] = ENTRY_TABLE_STATEMENTS) -> object:
    plan = _core.BuildPlan([], "")
    return _core.write_part(
        os.fspath(path), "/nonexistent-storage", schema, plan, 0, 0, set(), set()
    )


def _unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process may not create files in (root may, except in sysfs)."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o500)
        return folder
    return Path("/sys")


def test_a_part_file_that_cannot_be_written_raises_what_python_raises(tmp_path: Path) -> None:
    a_file = tmp_path / "IMG_1.jpg"
    a_file.write_bytes(b"jpeg")
    a_folder = tmp_path / "folder.db"
    a_folder.mkdir()
    for path, expected, python in (
        (tmp_path / "gone" / "part.db", FileNotFoundError, "create"),
        (a_file / "part.db", NotADirectoryError, "create"),
        (a_folder, IsADirectoryError, "remove"),
    ):
        core = _raised(lambda path=path: _write_part(path))  # type: ignore[misc]
        assert isinstance(core, expected)
        if python == "create":
            oracle = _raised(lambda path=path: path.open("xb"))  # type: ignore[misc]
        else:
            oracle = _raised(lambda path=path: path.unlink())  # type: ignore[misc]
        _assert_like_python(core, oracle, path)
    assert a_folder.is_dir() and a_file.read_bytes() == b"jpeg"  # nothing lost


def test_a_part_file_in_a_folder_without_write_access_is_a_permission_error(
    tmp_path: Path,
) -> None:
    path = _unwritable_folder(tmp_path) / "part.db"
    oracle = _raised(lambda: path.open("xb"))
    assert oracle.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
    _assert_like_python(_raised(lambda: _write_part(path)), oracle, path)


def test_a_sqlite_failure_without_an_errno_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "part.db"
    error = _raised(lambda: _write_part(path, ["CREATE TABLE entries ("]))
    assert type(error) is OSError and error.errno is None
    assert str(error).startswith(f"{path}: cannot write: ")


def test_bad_input_to_the_core_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"invalid exclude pattern \"\[z-a\]\""):
        _core.match_excludes(["[z-a]"], ["a.jpg"], False)
    with pytest.raises(ValueError, match="invalid exclude pattern"):
        _core.walk_source("/", ["[z-a]"])
