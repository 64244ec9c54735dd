"""Browser fixtures: Debian's Chromium driven by Playwright, real servers on loopback,
and screenshots of every failing test in test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from homegallery.cli.demo import shared_photos
from homegallery.config import Config
from homegallery.server import create_app
from homegallery.server.runner import running

from .galleries import build_gallery

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

playwright_api = pytest.importorskip("playwright.sync_api")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh page; on failure its screenshot goes to test-artifacts/<test>.png."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})  # type: ignore[attr-defined]
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture(scope="session")
def real_gallery(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The real camera photos (linked) and a generated video, through index, extract, build."""
    photos = shared_photos()
    if photos is None:
        pytest.skip(
            "the shared test photos (../shared/testdata/photos) are not beside this checkout"
        )
    files = [path for path in photos.rglob("*") if path.is_file() and path.name != "README.md"]
    return build_gallery(tmp_path_factory.mktemp("real"), files, photos)


@pytest.fixture(scope="session")
def ml_gallery(tmp_path_factory: pytest.TempPathFactory, embedding_models: Path) -> Config:
    """The real photos with their embeddings and labels by the real model."""
    photos = shared_photos()
    if photos is None:
        pytest.skip(
            "the shared test photos (../shared/testdata/photos) are not beside this checkout"
        )
    files = [path for path in photos.rglob("*") if path.is_file() and path.name != "README.md"]
    return build_gallery(tmp_path_factory.mktemp("ml"), files, photos, models_dir=embedding_models)


@pytest.fixture(scope="session")
def ml_server(ml_gallery: Config) -> Iterator[str]:
    with running(create_app(ml_gallery, poll_seconds=0.2)) as url:
        yield url


@pytest.fixture(scope="session")
def real_server(real_gallery: Config) -> Iterator[str]:
    with running(create_app(real_gallery, poll_seconds=0.2)) as url:
        yield url
