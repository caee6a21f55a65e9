"""The loop closed in a real browser: a citizen complains on a phone and gets a case code, a staff
member answers it on a laptop, and the citizen reads the answer with the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from survey_app.collection import links
from survey_app.core.keys import KEY_FILE_NAME, load_keys

from .conftest import LiveApp, open_app, rerun, shot, start_app
from .test_admin_browser import log_in

pytestmark = pytest.mark.browser
STAFF, PASSWORD = "lan-ba-vi", "mat-khau-du-dai-1"
ANSWER = "Đơn vị đã bố trí thêm cán bộ giờ cao điểm và xin lỗi Ông/Bà."
CODE = re.compile(r"[2-9A-Z]{5}-[2-9A-Z]{5}")


@pytest.fixture
def live_app(tmp_path: Path):
    from survey_app.admin import accounts
    from survey_app.admin.units import import_units_file
    from survey_app.core import config
    from survey_app.store import open_store

    with open_store(tmp_path / "data" / "sipas.duckdb") as store:
        import_units_file(store, config.DEFAULT_UNITS_CSV)
        accounts.create_user(store, "test", STAFF, "staff", PASSWORD, unit_id="h-ba-vi")
    app = start_app(tmp_path)
    yield app
    app.stop()


def complain(app: LiveApp, phone: Page) -> str:
    keys = load_keys(app.data_dir / KEY_FILE_NAME)
    open_app(phone, links.survey_url(links.make_token("h-ba-vi", "quay-1", "nhanh-3", keys=keys), base_url=app.url))
    with rerun(phone):  # nhanh-3 has no st.form: the face reruns the form and shows the comment box
        phone.locator(".st-key-r_HL1").get_by_role("radio", name="Không hài lòng", exact=True).tap()
    phone.locator(".st-key-comment textarea").fill("Chờ hơn một tiếng mà không ai hướng dẫn.")
    with rerun(phone):
        phone.get_by_role("button", name="Gửi đánh giá").tap()
    phone.get_by_text("Cảm ơn Ông/Bà!").wait_for()
    notice = phone.get_by_text("với mã")
    notice.wait_for()
    shot(phone, "case-thanks")
    found = CODE.search(notice.inner_text())
    assert found, notice.inner_text()
    return found.group(0)


def test_a_complaint_is_answered_and_the_citizen_reads_the_answer(live_app: LiveApp, phone: Page,
                                                                  laptop: Page) -> None:
    code = complain(live_app, phone)
    open_app(phone, f"{live_app.url}/?case={code}")
    phone.get_by_text("Mới tiếp nhận").wait_for()

    log_in(laptop, live_app, STAFF, PASSWORD, "Mã QR và áp phích")
    with rerun(laptop):
        laptop.get_by_role("link", name="Phản ánh").click()
    laptop.get_by_role("heading", name="Phản ánh của người dân", exact=True).wait_for()
    laptop.get_by_text("Chờ hơn một tiếng mà không ai hướng dẫn.").wait_for()
    laptop.locator("[class*='st-key-case_reply_'] textarea").fill(ANSWER)
    with rerun(laptop):  # the reply's form submit button
        laptop.get_by_role("button", name="Gửi trả lời").click()
    laptop.get_by_text("Đã lưu.").wait_for()
    shot(laptop, "case-staff-answered")

    open_app(phone, f"{live_app.url}/?case={code}")
    phone.get_by_text(ANSWER).wait_for()
    shot(phone, "case-public-answer")
    assert phone.get_by_text("Đã trả lời").count() >= 1
    assert phone.get_by_text("Chờ hơn một tiếng").count() == 0  # the citizen's own comment is not shown back
