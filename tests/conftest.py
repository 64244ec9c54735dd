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
