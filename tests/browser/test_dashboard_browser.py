"""A city-level leader logs in on a 1366×768 laptop: the dashboard draws its charts, the ranking of
each block lists every unit of the block, every tab opens, and the TV mode shows one block in large
type without citizens' comments. Screenshots land in test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from survey_app.admin.units import read_units_csv
from survey_app.core import config
from survey_app.core.config import BLOCKS
from survey_app.demo.generate import NEGATIVE_COMMENTS, POSITIVE_COMMENTS

from .conftest import LAPTOP, LiveApp, open_app, rerun, settled_layout, shot, start_demo_app

pytestmark = pytest.mark.browser

LEADER, PASSWORD = "lanh-dao-tp", "mat-khau-du-dai-1"
TABS = ("Thành phần, chi tiết", "Từng tiêu chí", "Xu hướng, giờ trong tuần", "Nhận định, mong đợi",
        "Ý kiến người dân", "Tải về")


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    """Demo responses and a city-level leader, written before the app takes the database."""
    app = start_demo_app(tmp_path, responses=5000, seed=2, user=(LEADER, "leader", PASSWORD))
    yield app
    app.stop()


def log_in(page: Page, app: LiveApp) -> None:
    open_app(page, app.url)
    page.get_by_label("Tên đăng nhập").fill(LEADER)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    with rerun(page):
        page.get_by_role("button", name="Đăng nhập").click()


def whole_page_shot(page: Page, name: str) -> None:
    """Streamlit scrolls inside its main area, so grow the window to the content for the picture."""
    height = page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight")
    page.set_viewport_size({"width": LAPTOP["width"], "height": min(height, 12_000)})
    settled_layout(page)
    shot(page, name)
    page.set_viewport_size(LAPTOP)


def unit_names_by_block() -> dict[str, set[str]]:
    units = read_units_csv(config.DEFAULT_UNITS_CSV.read_text(encoding="utf-8"))
    return {block: {u.name for u in units if u.block == block} for block in BLOCKS}


def comments_shown(page: Page) -> set[str]:
    """The demo's comments found in the page's text (hidden text included)."""
    text = page.get_by_test_id("stMain").text_content() or ""
    return {comment for comment in (*POSITIVE_COMMENTS, *NEGATIVE_COMMENTS) if comment in text}


def open_tab(page: Page, label: str) -> None:
    with rerun(page):  # the tabs rerun the live fragment (on_change="rerun"): only the open tab is drawn
        page.get_by_role("tab", name=label).click()


def test_ranking_lists_every_unit_of_each_block(live_app: LiveApp, laptop: Page) -> None:
    log_in(laptop, live_app)
    laptop.get_by_role("heading", name="Kết quả đánh giá sự hài lòng").wait_for()
    charts = laptop.locator("[data-testid=stVegaLiteChart]")
    charts.first.locator("svg").wait_for()
    assert charts.count() == len(BLOCKS)  # one ranking chart per block
    tables = laptop.locator("[data-testid=stDataFrame]")
    for number, (block, names) in enumerate(unit_names_by_block().items()):
        laptop.get_by_role("heading", name=BLOCKS[block]).wait_for()
        tables.nth(number).scroll_into_view_if_needed()
        # Data grids draw on a canvas; their accessible table carries the text. Column 2 is the unit.
        cells = tables.nth(number).locator("td[aria-colindex='2']")
        cells.first.wait_for(state="attached")
        shown = set(cells.all_inner_texts())
        assert shown == names, f"{BLOCKS[block]}: missing {names - shown}, foreign {shown - names}"
        labels = " ".join(charts.nth(number).locator("svg text").all_text_contents())
        assert any(name in labels for name in names)
        # The figures on the bars in the one number format (Vega's locale reaches Streamlit's renderer).
        assert re.search(r"\b\d{2},\d{2}\b", labels) and not re.search(r"\b\d{2}\.\d{2}\b", labels)
    whole_page_shot(laptop, "dashboard-1-ranking")


def test_every_tab_opens_and_tv_mode_hides_comments(live_app: LiveApp, laptop: Page) -> None:
    log_in(laptop, live_app)
    laptop.locator("[data-testid=stVegaLiteChart] svg").first.wait_for()
    for number, label in enumerate(TABS, start=2):
        open_tab(laptop, label)
        assert laptop.locator("[data-testid=stException]").count() == 0, label
        whole_page_shot(laptop, f"dashboard-{number}-{label.split(',')[0].lower().replace(' ', '-')}")
    assert laptop.get_by_role("button", name="Tải bảng số liệu (XLSX)").count() == 1
    open_tab(laptop, "Ý kiến người dân")
    grids = laptop.get_by_test_id("stDataFrame")
    grids.first.scroll_into_view_if_needed()  # a grid writes its accessible table once it is in view
    expect(laptop.get_by_role("columnheader", name="Góp ý", include_hidden=True)).to_have_count(1)
    assert comments_shown(laptop)  # citizens' words are on screen now, so the checks below can fail
    with rerun(laptop):
        laptop.get_by_text("Chế độ màn hình TV").click()
    laptop.locator("[data-testid=stVegaLiteChart] svg").first.wait_for()
    assert laptop.get_by_role("heading", name=BLOCKS["so"], exact=False).count() == 1
    expect(grids).to_have_count(0)  # the TV mode has no table at all, so no feed
    assert not comments_shown(laptop)
    shot(laptop, "dashboard-tv")


def test_clicking_a_row_of_the_drill_down_opens_that_level(live_app: LiveApp, laptop: Page) -> None:
    log_in(laptop, live_app)
    laptop.locator("[data-testid=stVegaLiteChart] svg").first.wait_for()
    open_tab(laptop, "Thành phần, chi tiết")
    grid = laptop.locator("[data-testid=stDataFrame]").first
    grid.locator("td[aria-colindex='2']").first.wait_for(state="attached")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    with rerun(laptop):
        laptop.mouse.click(box["x"] + 18, box["y"] + 36 + 18)  # the first row's selection box (rows are 35 px)
    shot(laptop, "dashboard-drill-click")
    laptop.get_by_role("heading", name="Chi tiết cấp dưới của Khối Sở, ban, ngành").wait_for()
    shot(laptop, "dashboard-drill-block")
