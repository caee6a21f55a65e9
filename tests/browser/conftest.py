"""Browser tests: the real app (`streamlit run`) on a temporary database, in Debian's Chromium.

Playwright drives /usr/bin/chromium (installed by scripts/test.sh); it never downloads a browser.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, WebSocket, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from survey_app import front
from survey_app.core import config

CHROMIUM = "/usr/bin/chromium"
PHONE = {"width": 360, "height": 740}
LAPTOP = {"width": 1366, "height": 768}
ARTIFACTS = config.PROJECT_DIR / "test-artifacts"
NOT_RUNNING = "[data-testid=stApp][data-test-script-state=notRunning]"  # the page shows no run in progress


@dataclass
class LiveApp:
    url: str
    db: Path
    data_dir: Path
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Stop the server the way a service manager does, so it checkpoints and releases the file."""
        front.stop_process(self.process)


def start_app(tmp_path: Path, prepare: list[list[str]] | None = None, *, db: str | None = None,
              name: str = "streamlit") -> LiveApp:
    """Run `survey_app init` (and any `prepare` commands) on a fresh database, then the app.
    With `db` (a PostgreSQL URL) several apps started on one tmp_path share the database and keys."""
    data_dir = tmp_path / "data"
    env = {**os.environ, "SIPAS_DATA_DIR": str(data_dir), "SIPAS_DB": db or str(data_dir / "sipas.duckdb"),
           "PYTHONPATH": str(config.PROJECT_DIR),
           # The production flag rules, but for the opening hours: the app runs on the real clock, and a
           # test run at night must not see its citizen's response flagged as outside_hours.
           "SIPAS_FLAG_OPENING_HOURS": ""}
    for command in [["init"], *(prepare or [])]:
        subprocess.run([sys.executable, "-m", "survey_app", *command], env=env, check=True,
                       capture_output=True, cwd=config.PROJECT_DIR)
    port = front.free_port()
    log = tmp_path / f"{name}.log"
    process = subprocess.Popen(front.app_command(port), env=env, cwd=config.PROJECT_DIR, stdout=log.open("wb"),
                               stderr=subprocess.STDOUT)
    app = LiveApp(f"http://127.0.0.1:{port}", Path(db) if db else data_dir / "sipas.duckdb", data_dir, process)
    try:
        front.wait_healthy(app.url, process, log)
    except RuntimeError:
        app.stop()
        raise
    return app


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    """The app on a fresh database with the demo units (test files that need more define their own)."""
    app = start_app(tmp_path)
    yield app
    app.stop()


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


@contextmanager
def new_page(browser: Browser, timeout_ms: int, **context: Any) -> Iterator[Page]:
    """A page in its own browser context whose app runs `rerun()` can wait for; closed afterwards.
    Every page of that context is watched, so pages opened later in it (`page.context.new_page()`,
    a link's new tab) can be waited on too."""
    opened = browser.new_context(**context)
    opened.set_default_timeout(timeout_ms)
    opened.on("page", _watch)
    page = opened.new_page()
    try:
        yield page
    finally:
        for watched in opened.pages:
            _RUNS.pop(watched, None)
        opened.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    with new_page(browser, 30_000, viewport=PHONE, is_mobile=True, has_touch=True, locale="vi-VN",
                  device_scale_factor=2) as page:
        yield page


@pytest.fixture
def laptop(browser: Browser) -> Iterator[Page]:
    with new_page(browser, 30_000, viewport=LAPTOP, locale="vi-VN") as page:
        yield page


# -- waiting for the app ---------------------------------------------------------------------------

_ENDS = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
         ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}  # not FINISHED_EARLY_FOR_RERUN: another run follows


@dataclass
class Runs:
    """What one page's WebSocket to the app says: when the browser asked for a run (a click, a tap, the
    first load; not the timed reruns of `run_every` fragments) and when a run ended, in frame order."""

    socket: WebSocket | None = None
    frames: int = 0
    asked: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)

    def watch(self, socket: WebSocket) -> None:
        if socket.url.endswith("/_stcore/stream"):
            self.socket = socket
            socket.on("framesent", self._sent)
            socket.on("framereceived", self._received)

    def navigating(self, request: Request) -> None:
        """A new document in the page (goto, reload): its old socket gets no more frames, and Chromium does
        not always report it closed, so the next frame to wait for comes on the socket the new document opens.
        (Streamlit's own page changes are no navigation requests: they keep the socket.)"""
        if request.is_navigation_request() and request.frame.parent_frame is None:
            self.socket = None

    def _sent(self, payload: str | bytes) -> None:
        self.frames += 1
        if isinstance(payload, bytes):
            message = BackMsg.FromString(payload)
            if message.WhichOneof("type") == "rerun_script" and not message.rerun_script.is_auto_rerun:
                self.asked.append(self.frames)

    def _received(self, payload: str | bytes) -> None:
        self.frames += 1
        if isinstance(payload, bytes):
            message = ForwardMsg.FromString(payload)
            if message.WhichOneof("type") == "script_finished" and message.script_finished in _ENDS:
                self.ended.append(self.frames)

    def done_since(self, mark: int) -> bool:
        """Has a run ended after the last run the browser asked for since frame `mark`?"""
        asked = [frame for frame in self.asked if frame > mark]
        return bool(asked) and any(frame > asked[-1] for frame in self.ended)


_RUNS: dict[Page, Runs] = {}


def _watch(page: Page) -> None:
    """Follow the app's WebSocket of a new page (from its first navigation on, reloads included)."""
    _RUNS[page] = Runs()
    page.on("websocket", _RUNS[page].watch)
    page.on("request", _RUNS[page].navigating)
    page.on("close", lambda closed: _RUNS.pop(closed, None))


@contextmanager
def rerun(page: Page, timeout_ms: float = 45_000) -> Iterator[None]:
    """Around an action that makes the app run again (a click, a tap, opening the page): wait until
    that run has ended and the page shows its result. Widgets inside an `st.form` do not rerun.

    The condition is read from the WebSocket, so a busy machine only makes the wait longer.
    """
    runs = _RUNS.get(page)
    if runs is None:
        raise LookupError("rerun() needs a page made by new_page() (or opened in its context) to watch its WebSocket")
    mark = runs.frames
    yield
    deadline = time.monotonic() + timeout_ms / 1000
    while not runs.done_since(mark):
        left = (deadline - time.monotonic()) * 1000
        if left <= 0:
            raise TimeoutError(f"the app did not finish the run asked for within {timeout_ms / 1000:g} s")
        # Waiting on the next frame (or the next socket) lets Playwright deliver the events that update `runs`.
        if runs.socket is None or runs.socket.is_closed():
            page.wait_for_event("websocket", timeout=left)
        else:
            try:  # in slices of at most a second, to notice a socket replaced during the wait
                runs.socket.wait_for_event("framereceived", timeout=min(left, 1000))
            except PlaywrightError:  # no frame yet, or the socket closed: look again at which socket is current
                continue
    page.locator(NOT_RUNNING).wait_for()


def settled_layout(page: Page) -> None:
    """After a resize: wait until no animation runs and two frames have been painted, so that charts
    have redrawn at the new width (for screenshots)."""
    page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
    page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")


def open_app(page: Page, url: str, timeout_ms: float = 45_000) -> None:
    """Go to `url` and wait until the app's first run has drawn the page."""
    with rerun(page, timeout_ms):
        page.goto(url)


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(autouse=True)
def clock() -> None:
    """The real clock, not tests/conftest.py's set one: the app runs in its own process on the real
    clock, so the data written for it beforehand (demo responses end "now") must too."""
