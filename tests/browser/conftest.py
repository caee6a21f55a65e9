"""Browser tests: the real app (`streamlit run`) on a temporary database, in Debian's Chromium.

Playwright drives /usr/bin/chromium (installed by scripts/test.sh); it never downloads a browser.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from survey_app import front
from survey_app.core import config

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1366, "height": 768}
ARTIFACTS = config.PROJECT_DIR / "test-artifacts"


@dataclass
class LiveApp:
    url: str
    db: Path
    data_dir: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop the server the way a service manager does, so it checkpoints and releases the file."""
        front.stop_process(self.process)


def start_app(tmp_path: Path, prepare: list[list[str]] | None = None) -> LiveApp:
    """Run `survey_app init` (and any `prepare` commands) on a fresh database, then the app."""
    data_dir = tmp_path / "data"
    env = {**os.environ, "SIPAS_DATA_DIR": str(data_dir), "SIPAS_DB": str(data_dir / "sipas.duckdb"),
           "PYTHONPATH": str(config.PROJECT_DIR)}
    for command in [["init"], *(prepare or [])]:
        subprocess.run([sys.executable, "-m", "survey_app", *command], env=env, check=True,
                       capture_output=True, cwd=config.PROJECT_DIR)
    port = front.free_port()
    log = tmp_path / "streamlit.log"
    process = subprocess.Popen(front.app_command(port), env=env, cwd=config.PROJECT_DIR, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    app = LiveApp(f"http://127.0.0.1:{port}", data_dir / "sipas.duckdb", data_dir, process)
    try:
        front.wait_healthy(app.url, process, log)
    except RuntimeError:
        app.stop()
        raise
    return app


def start_demo_app(tmp_path: Path, *, responses: int, seed: int, user: tuple[str, str, str]) -> LiveApp:
    """Demo responses and one account (name, role, password), written before the app takes the file."""
    from survey_app.admin import accounts
    from survey_app.admin.units import import_units_file
    from survey_app.demo.generate import generate_demo
    from survey_app.store import open_store

    name, role, password = user
    with open_store(tmp_path / "data" / "sipas.duckdb") as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        generate_demo(store, responses=responses, seed=seed)
        accounts.create_user(store, "test", name, role, password)
    return start_app(tmp_path)


def cli(app: LiveApp, *args: str) -> str:
    """A survey_app command against the app's data folder (for those that do not open the database)."""
    env = {**os.environ, "SIPAS_DATA_DIR": str(app.data_dir), "SIPAS_DB": str(app.db)}
    done = subprocess.run([sys.executable, "-m", "survey_app", *args], env=env, check=True, capture_output=True,
                          text=True, cwd=config.PROJECT_DIR)
    return done.stdout.strip()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/test.sh, which installs Debian's chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield launched
        launched.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN",
                                  device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


@pytest.fixture
def laptop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=LAPTOP, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def wait_idle(page: Page) -> None:
    """Wait until Streamlit has finished running the script for the last interaction."""
    page.wait_for_timeout(150)
    page.locator("[data-testid=stApp][data-test-script-state=notRunning]").wait_for()


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
