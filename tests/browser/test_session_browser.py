"""Issue 14: an idle session ends inside the dashboard's live fragment and its downloads too, not
only at the next click outside it. The server runs with an idle limit of a few seconds."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, expect

from .conftest import LiveApp, rerun, start_demo_app
from .test_dashboard_browser import LEADER, PASSWORD, log_in, open_tab

pytestmark = pytest.mark.browser
IDLE_SECONDS = 15


@pytest.fixture
def live_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveApp]:
    monkeypatch.setenv("SIPAS_SESSION_IDLE_MINUTES", str(IDLE_SECONDS / 60))
    app = start_demo_app(tmp_path, responses=2000, seed=3, user=(LEADER, "leader", PASSWORD))
    yield app
    app.stop()


def wait_until_idle_limit_passed(page: Page, since: float) -> None:
    """Wait (on the browser's clock, as a condition) until the idle limit has passed since `since`."""
    deadline_ms = (since + IDLE_SECONDS + 1) * 1000
    page.wait_for_function("deadline => Date.now() > deadline", arg=deadline_ms, timeout=(IDLE_SECONDS + 30) * 1000)


def test_a_click_inside_the_live_part_after_the_idle_limit_shows_the_login(live_app: LiveApp, laptop: Page) -> None:
    log_in(laptop, live_app)
    laptop.locator("[data-testid=stVegaLiteChart] svg").first.wait_for()
    last_click = time.time()
    wait_until_idle_limit_passed(laptop, last_click)
    with rerun(laptop):  # runs only the fragment, which finds the session ended and reruns the whole page
        laptop.get_by_role("tab", name="Ý kiến người dân").click()
    laptop.get_by_label("Tên đăng nhập").wait_for()
    assert laptop.get_by_text("hết hạn do không hoạt động").count() == 1
    assert laptop.locator("[data-testid=stDataFrame]").count() == 0  # no comments feed


def test_a_download_after_the_idle_limit_gives_no_file(live_app: LiveApp, laptop: Page) -> None:
    log_in(laptop, live_app)
    laptop.locator("[data-testid=stVegaLiteChart] svg").first.wait_for()
    open_tab(laptop, "Tải về")
    button = laptop.get_by_role("button", name="Tải bảng số liệu (XLSX)")
    button.wait_for()
    last_click = time.time()
    wait_until_idle_limit_passed(laptop, last_click)
    with pytest.raises(PlaywrightError), laptop.expect_download(timeout=10_000):
        button.click()
    ranking = laptop.get_by_role("tab", name="Xếp hạng")
    if ranking.count():  # the next click anywhere (unless the live part's own refresh came first): the login
        with rerun(laptop):
            ranking.click()
    laptop.get_by_label("Tên đăng nhập").wait_for()
    expect(laptop.get_by_text("hết hạn do không hoạt động")).to_have_count(1)  # the reason: idle too long
