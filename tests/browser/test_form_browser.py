"""A citizen on a 360×740 phone: opens a QR link, taps through every step, is thanked, and one
response lands in the database. A tampered link shows the refusal page and stores nothing."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from survey_app.collection import links
from survey_app.core.keys import KEY_FILE_NAME, load_keys
from survey_app.ui.survey import KIOSK_RESET_SECONDS

from .conftest import LiveApp, new_page, open_app, rerun, shot

pytestmark = pytest.mark.browser


def survey_link(app: LiveApp, unit: str, counter: str | None, instrument: str, channel: str = "qr",
                base_url: str | None = None) -> str:
    """A link signed with the app's key; `base_url` when citizens reach it through a front."""
    keys = load_keys(app.data_dir / KEY_FILE_NAME)
    return links.survey_url(links.make_token(unit, counter, instrument, channel, keys=keys),
                            base_url=base_url or app.url)


def stored(app: LiveApp, sql: str) -> list[tuple]:
    app.stop()  # the server holds the file while it runs
    con = duckdb.connect(str(app.db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def rating(page: Page, item_id: str, label: str) -> Locator:
    # Pills are a radio group; the face emoji is decoration (aria-hidden), the name is the code.
    return page.locator(f".st-key-r_{item_id}").get_by_role("radio", name=label, exact=True)


def next_step(page: Page, label: str = "Tiếp tục →") -> None:
    with rerun(page):
        page.get_by_role("button", name=label).tap()


def fill_step(page: Page) -> None:
    """Answer the step on screen: every rating 5 (overall 4, complaints "none"), each question's first
    option. The step is a form, so the taps do not rerun the app."""
    for pills in page.locator("[class*='st-key-r_']").all():
        item_id = next(c for c in (pills.get_attribute("class") or "").split() if c.startswith("st-key-r_"))[9:]
        label = "Chưa phản ánh, kiến nghị" if item_id.startswith("PA") else "5"
        rating(page, item_id, "4" if item_id == "HL" else label).tap()
    for question in page.locator("[class*='st-key-q_']").all():
        question.locator("button").first.tap()


def test_citizen_answers_every_step_and_one_response_is_stored(live_app: LiveApp, phone: Page) -> None:
    open_app(phone, survey_link(live_app, "q-cau-giay", "quay-1", "sipas-dvc"))
    phone.get_by_text("Quận Cầu Giấy — Quầy 1").wait_for()
    shot(phone, "form-0-start")
    phone.get_by_text("Đã nhận kết quả (được cấp").tap()
    next_step(phone)
    steps = 0
    while phone.get_by_role("button", name="Gửi đánh giá").count() == 0:
        fill_step(phone)
        steps += 1
        shot(phone, f"form-{steps}")
        next_step(phone)
        assert phone.get_by_text("câu chưa trả lời").count() == 0, f"step {steps} did not validate"
    phone.locator(".st-key-comment textarea").fill("Cán bộ hướng dẫn tận tình, cảm ơn!")
    shot(phone, f"form-{steps + 1}-last")
    next_step(phone, "Gửi đánh giá")
    phone.get_by_text("Cảm ơn Ông/Bà!").wait_for()
    shot(phone, "form-thanks")
    assert steps == 6  # TC, TT, CC, KQ, PA, overall
    rows = stored(live_app, "SELECT unit_id, counter_id, channel, (SELECT count(*) FROM answers),"
                            " (SELECT count(*) FROM answers WHERE value = 5),"
                            " (SELECT text FROM comments) FROM responses")
    assert rows == [("q-cau-giay", "quay-1", "qr", 20, 16, "Cán bộ hướng dẫn tận tình, cảm ơn!")]


def test_tampered_link_shows_the_message_and_adds_nothing(live_app: LiveApp, phone: Page) -> None:
    url = survey_link(live_app, "q-cau-giay", "quay-1", "sipas-dvc")
    token = url.split("k=")[1].split("&")[0]
    forged = url.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    open_app(phone, forged)
    phone.get_by_text("Không mở được phiếu đánh giá").wait_for()
    shot(phone, "form-tampered")
    assert phone.get_by_role("radio", name="5").count() == 0
    assert stored(live_app, "SELECT count(*) FROM responses") == [(0,)]


@pytest.fixture
def tablet(browser: Browser) -> Iterator[Page]:
    with new_page(browser, 30_000, viewport={"width": 800, "height": 1280}, has_touch=True, locale="vi-VN") as page:
        yield page


def test_kiosk_quick_rating_returns_to_a_blank_form(live_app: LiveApp, tablet: Page) -> None:
    open_app(tablet, survey_link(live_app, "h-ba-vi", "quay-1", "nhanh-3", channel="kiosk"))
    with rerun(tablet):  # one screen, no form: a tap reruns the page and shows the reasons
        rating(tablet, "HL1", "Không hài lòng").tap()
    with rerun(tablet):
        tablet.locator(".st-key-q_ly_do").get_by_role("button", name="Phải chờ lâu").tap()
    shot(tablet, "kiosk-dissatisfied")
    with rerun(tablet):
        tablet.get_by_role("button", name="Gửi đánh giá").tap()
    expect(tablet.get_by_text("Cảm ơn Ông/Bà!")).to_be_visible()
    expect(tablet.locator(".st-key-r_HL1")).to_have_count(0)
    # The next citizen gets a blank form without touching anything (a timed rerun, KIOSK_RESET_SECONDS).
    expect(tablet.locator(".st-key-r_HL1")).to_be_visible(timeout=(KIOSK_RESET_SECONDS + 30) * 1000)
    expect(tablet.get_by_text("Cảm ơn Ông/Bà!")).to_have_count(0)
    expect(tablet.locator(".st-key-r_HL1").get_by_role("radio", checked=True)).to_have_count(0)
    assert stored(live_app, "SELECT channel, instrument_id FROM responses") == [("kiosk", "nhanh-3")]
