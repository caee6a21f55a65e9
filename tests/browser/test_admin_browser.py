"""As a new administrator would: set up a district with two counters and a leader in the browser; a
citizen rates the new counter on a phone; the leader logs in and sees that district only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from survey_app.collection import links
from survey_app.core.keys import KEY_FILE_NAME, load_keys

from .conftest import LiveApp, open_app, rerun, shot, start_demo_app

pytestmark = pytest.mark.browser

ADMIN, PASSWORD = "quan-tri", "mat-khau-du-dai-1"


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    """Demo responses in every district, and one administrator."""
    app = start_demo_app(tmp_path, responses=3000, seed=3, user=(ADMIN, "admin", PASSWORD))
    yield app
    app.stop()


def log_in(page: Page, app: LiveApp, name: str, password: str, landing: str) -> None:
    open_app(page, app.url)
    page.get_by_label("Tên đăng nhập").fill(name)
    page.get_by_label("Mật khẩu").fill(password)
    with rerun(page):
        page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("heading", name=landing, exact=True).wait_for()


def expand(page: Page, label: str) -> None:
    """Open an expander and wait for the end of its opening animation: until then its content is
    `inert`, and a widget clicked inside loses the click. When the content's height changes meanwhile,
    Streamlit cancels the animation (its `finished` rejects) and starts another: wait for the last one."""
    expander = page.get_by_test_id("stExpander").filter(has_text=label)
    expander.locator("summary").click()
    expander.locator("details").evaluate("""async d => {
        for (let round = 0, running; round < 50 && (running = d.getAnimations()).length; round++)
            await Promise.allSettled(running.map(a => a.finished));
    }""")
    expect(expander.get_by_test_id("stExpanderDetails")).not_to_have_attribute("inert", "")


def fill(page: Page, key: str, text: str) -> None:
    page.locator(f".st-key-{key} input").fill(text)


def choose(page: Page, key: str, option: str, *, rerun_after: bool = False) -> None:
    """Pick in a selectbox with the keyboard: type the option (it is then the first one listed), take it.
    `rerun_after`: a selectbox outside a form reruns the page when its value changes.

    Typing also reaches options that a long list has not drawn yet.
    """
    box = page.locator(f".st-key-{key} input")
    box.click()
    box.press("Control+A")
    box.press_sequentially(option)
    page.get_by_role("option").filter(has_text=option).first.wait_for()
    box.press("ArrowDown")
    if rerun_after:
        with rerun(page):
            box.press("Enter")
    else:
        box.press("Enter")
    expect(box).to_have_value(option)


def submit(page: Page, label: str) -> None:
    with rerun(page):
        page.get_by_test_id("stFormSubmitButton").filter(has_text=label).click()


def test_admin_sets_up_a_district_and_its_leader_sees_only_it(live_app: LiveApp, laptop: Page, phone: Page) -> None:
    log_in(laptop, live_app, ADMIN, PASSWORD, "Đơn vị và quầy")
    expand(laptop, "Thêm đơn vị")
    fill(laptop, "adm_new_unit_id", "q-moi")
    fill(laptop, "adm_new_unit_name", "Quận Mới")
    choose(laptop, "adm_new_unit_block", "Khối quận, huyện, thị xã")
    choose(laptop, "adm_new_unit_instrument", "nhanh-3")
    submit(laptop, "Thêm đơn vị")
    laptop.get_by_text("Đã thêm đơn vị q-moi (kèm Quầy 1).").wait_for()
    choose(laptop, "adm_unit", "Quận Mới (q-moi)", rerun_after=True)
    fill(laptop, "adm_new_counter_id", "quay-2")
    fill(laptop, "adm_new_counter_name", "Quầy 2 — Đất đai")
    submit(laptop, "Thêm quầy")
    laptop.get_by_text("Đã thêm quầy quay-2.").wait_for()
    shot(laptop, "admin-1-units")

    with rerun(laptop):
        laptop.get_by_role("link", name="Người dùng").click()
    laptop.get_by_role("heading", name="Người dùng", exact=True).wait_for()
    expand(laptop, "Thêm người dùng")
    fill(laptop, "adm_new_username", "lanh-dao-q-moi")
    choose(laptop, "adm_new_role", "Lãnh đạo")
    choose(laptop, "adm_new_user_unit", "Quận Mới (q-moi)")
    submit(laptop, "Thêm người dùng")
    message = laptop.get_by_text("Đã tạo tài khoản lanh-dao-q-moi.")
    message.wait_for()
    password = laptop.get_by_test_id("stAlertContainer").locator("code").inner_text()
    shot(laptop, "admin-2-users")
    with rerun(laptop):
        laptop.get_by_role("button", name="Đăng xuất").click()
    laptop.get_by_text("Đã đăng xuất.").wait_for()

    keys = load_keys(live_app.data_dir / KEY_FILE_NAME)
    open_app(phone, links.survey_url(links.make_token("q-moi", "quay-2", "nhanh-3", keys=keys), base_url=live_app.url))
    with rerun(phone):
        phone.locator(".st-key-r_HL1").get_by_role("radio", name="Hài lòng", exact=True).tap()
    phone.get_by_role("button", name="Gửi đánh giá").tap()
    phone.get_by_text("Cảm ơn Ông/Bà!").wait_for()

    log_in(laptop, live_app, "lanh-dao-q-moi", password, "Kết quả đánh giá sự hài lòng")
    nav = laptop.get_by_test_id("stSidebarNav")
    assert sorted(nav.get_by_role("link").all_inner_texts()) == ["Kết quả đánh giá", "Phản ánh", "Tài khoản của tôi"]
    main = laptop.get_by_test_id("stMain")
    main.get_by_text("Quận Mới").filter(visible=True).first.wait_for()
    shot(laptop, "admin-3-leader-dashboard")
    text = main.inner_text()
    assert "Quận Cầu Giấy" not in text and "Sở Tư pháp" not in text
